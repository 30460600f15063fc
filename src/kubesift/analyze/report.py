"""The HTML report: one self-contained file (inline CSS, charts as base64 PNG, no network)."""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from dataclasses import asdict

import pandas as pd

from kubesift.analyze.analyses import Analysis
from kubesift.analyze.charts import png_bytes
from kubesift.store.queries import RepoSummary

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;
max-width:1100px;color:#222;padding:0 1rem}
h1{margin-bottom:.2rem}h2{margin-top:2.5rem;border-bottom:1px solid #ddd}
.meta{color:#555}.note{color:#444;font-style:italic}
img.chart{max-width:100%;height:auto;border:1px solid #eee}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}
th,td{border:1px solid #ddd;padding:.2rem .5rem;text-align:right}
th{background:#f5f5f5}td:first-child,th:first-child{text-align:left}
nav a{margin-right:.8rem}
"""

# Runs in the browser only; checks every chart decoded and reports it in #render-check.
CHECK_SCRIPT = """
window.addEventListener("load", function () {
  var imgs = Array.prototype.slice.call(document.querySelectorAll("img.chart"));
  var ok = imgs.every(function (i) { return i.complete && i.naturalWidth > 0; });
  var el = document.getElementById("render-check");
  el.setAttribute("data-ok", ok ? "true" : "false");
  el.setAttribute("data-charts", String(imgs.length));
});
"""

SUMMARY_FIELDS = {
    "issues": "issues",
    "pull_requests": "pull requests",
    "open": "open",
    "gone": "deleted/transferred",
    "labels": "labels",
    "label_events": "label events",
    "release_notes": "release notes",
    "first_created": "first created",
    "last_updated": "last updated",
    "last_sync": "last sync",
}


def render_report(
    analyses: Sequence[Analysis],
    summaries: Sequence[RepoSummary],
    scope: str,
    date_range: tuple[str, str] | None,
    generated_at: str,
) -> str:
    """The whole report as one HTML string; ``analyses`` may be empty (no data)."""
    parts = [
        f"<h1>kubesift report</h1><p class=meta>{html.escape(scope)}<br>"
        f"{_range_line(date_range)}<br>generated {html.escape(generated_at)}</p>",
        "<h2 id=store>The store</h2>",
        _summary_table(summaries),
    ]
    if analyses:
        parts.append(
            "<nav>" + "".join(f'<a href="#{a.name}">{html.escape(a.name)}</a>' for a in analyses)
        )
        parts.append("</nav>")
        parts.extend(_section(a) for a in analyses)
    else:
        parts.append(
            "<h2>No data</h2><p>There is no data to chart: the store is empty or the filters "
            "match nothing. Run <code>kubesift export --repo OWNER/NAME</code> first.</p>"
        )
    body = "\n".join(parts)
    return (
        "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>kubesift report</title><style>{CSS}</style></head><body>\n{body}\n"
        '<div id="render-check" data-ok="pending" data-charts="0" hidden></div>'
        f"<script>{CHECK_SCRIPT}</script></body></html>\n"
    )


def _range_line(date_range: tuple[str, str] | None) -> str:
    if date_range is None:
        return "no items"
    return f"items created {html.escape(date_range[0])} to {html.escape(date_range[1])}"


def _summary_table(summaries: Sequence[RepoSummary]) -> str:
    if not summaries:
        return "<p>The store is empty.</p>"
    rows = {
        s.full_name: {SUMMARY_FIELDS[k]: v for k, v in asdict(s).items() if k in SUMMARY_FIELDS}
        for s in summaries
    }
    frame = pd.DataFrame(rows).fillna("–")
    return frame.to_html(border=0, escape=True)


def _section(a: Analysis) -> str:
    image = base64.b64encode(png_bytes(a)).decode("ascii")
    note = f"<p class=note>{html.escape(a.note)}</p>" if a.note else ""
    return (
        f'<section><h2 id="{a.name}">{html.escape(a.title)}</h2>{note}'
        f'<img class=chart alt="{html.escape(a.title)}" src="data:image/png;base64,{image}">'
        f"{_table_html(a)}</section>"
    )


def _table_html(a: Analysis) -> str:
    table = report_table(a)
    if table.empty:
        return ""
    return table.to_html(border=0, float_format=number, escape=True)


def number(value: float) -> str:
    """Counts (whole numbers, even when pandas holds them as floats) as grouped integers;
    other values to one decimal."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def report_table(a: Analysis) -> pd.DataFrame:
    """A short table for the report: top rows for rankings, the last 12 months for series."""
    table = a.table
    if a.chart == "facets":
        return (
            table.groupby("sig")[["opened", "closed"]].sum().sort_values("opened", ascending=False)
        )
    if isinstance(table.index, pd.DatetimeIndex) and len(table):
        if a.chart == "lines" and a.name != "time-to-merge":
            table = table.resample("ME").last()
        table = table.tail(12)
        table.index = table.index.strftime("%Y-%m")
        return table
    return table.head(25)
