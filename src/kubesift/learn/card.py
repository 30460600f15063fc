"""The model card: Markdown, HTML and precision–recall curves (PNG)."""

from __future__ import annotations

import html
import io
from typing import Any

import numpy as np


def pr_curves_png(curves: dict[str, tuple[np.ndarray, np.ndarray]], top: int = 8) -> bytes:
    """Precision–recall curves on the test slice for the best-supported labels."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import precision_recall_curve

    chosen = sorted(curves.items(), key=lambda kv: -int(kv[1][0].sum()))[:top]
    fig, ax = plt.subplots(figsize=(7, 5), dpi=100)
    for name, (y, s) in chosen:
        if 0 < y.sum() < len(y):
            p, r, _ = precision_recall_curve(y, s)
            ax.plot(r, p, label=f"{name} (n={int(y.sum())})")
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_title("Precision–recall on the test slice")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def summary_rows(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per (model, group): F1 at 0.5, at each label's best-F1 threshold and at the
    acting thresholds, with the acting precision and recall (keys: :data:`COLUMNS`)."""
    rows = []
    for model, groups in metrics["models"].items():
        for group, entry in groups.items():
            if not isinstance(entry, dict) or "at_0.5" not in entry:
                continue
            row: dict[str, Any] = {"model": model, "group": group}
            for rule, key in RULES.items():
                if rule in entry:
                    m = entry[rule].get("binary") or entry[rule].get("family") or {}
                    row[key] = rounded(m.get("f1", m.get("micro_f1")))
                    if rule == "target_precision":
                        row["acting_precision"] = rounded(
                            m.get("precision", m.get("micro_precision"))
                        )
                        row["acting_recall"] = rounded(m.get("recall", m.get("micro_recall")))
            rows.append(row)
    return rows


#: The evaluation's decoding rules and the column each one's F1 goes in.
RULES = {"at_0.5": "f1_at_0.5", "best_f1": "f1_best", "target_precision": "f1_acting"}
#: The evaluation table's columns and their titles (the CLI, the card and the dashboard).
COLUMNS = {
    "model": "model",
    "group": "group",
    "f1_at_0.5": "F1 at 0.5",
    "f1_best": "F1 at best-F1 thresholds",
    "f1_acting": "F1 acting",
    "acting_precision": "acting precision",
    "acting_recall": "acting recall",
}


def rounded(value: Any, digits: int = 3) -> Any:
    """A figure as people read it: floats to ``digits`` places, lists item by item."""
    if isinstance(value, float):
        return round(value, digits)
    if isinstance(value, list | tuple):
        return [rounded(v, digits) for v in value]
    return value


def abstain_reason(calibration: dict[str, Any], target: Any) -> str:
    """Why a label never acts: ``best forward precision 0.84 < 0.90``, or the reason the
    calibration gave (too few negatives, no better than the base rate)."""
    if calibration.get("why"):
        return str(calibration["why"])
    best = calibration.get("best_precision")
    if best is None:
        return "no positive example to calibrate on"
    bound = f"{float(target):.2f}" if isinstance(target, int | float) else str(target)
    return f"best forward precision {best:.2f} < {bound}"


def markdown(metadata: dict[str, Any], metrics: dict[str, Any]) -> str:
    """The model card as Markdown."""
    decode = metrics.get("f1_decode", {})
    lines = [
        f"# Model card: {metadata['name']}",
        "",
        f"- Labels: {len(metadata['labels'])}; inputs: note/issue text, title, author, "
        "documentation links (never label-derived fields).",
        *_fit_facts(metrics),
        f"- F1 at best-F1 thresholds: {decode.get('rule', 'per-label best-F1 thresholds')}"
        + _caps(decode.get("caps") or {})
        + ".",
        *_calibration_facts(metrics.get("calibration") or {}),
        f"- Data hash: `{metadata.get('data_hash', '')[:16]}`; "
        f"fit time {metrics['fit_seconds']} s.",
        "",
    ]
    rows = summary_rows(metrics)
    if rows:
        lines += ["| " + " | ".join(COLUMNS.values()) + " |", "|" + "---|" * len(COLUMNS)]
        for row in rows:
            lines.append("| " + " | ".join(_cell(row.get(c)) for c in COLUMNS) + " |")
        lines.append("")
    lines += promise_table(metadata, metrics)
    lines += ["", "![precision-recall curves](pr-curves.png)", ""]
    return "\n".join(lines)


def _caps(caps: dict[str, Any]) -> str:
    if not caps:
        return ""
    return "; at most " + ", ".join(f"{v} {k}" for k, v in sorted(caps.items()))


def _fit_facts(metrics: dict[str, Any]) -> list[str]:
    prod = metrics.get("production")
    facts = []
    if metrics.get("fit") == "production" and prod:
        facts.append(
            f"- Fit: **production**, on all {prod['train_items']:,} examples; the figures "
            f"below are the evaluation run's (the same recipe trained before "
            f"`{prod.get('evaluated_by')}` and tested after it)."
        )
    if metrics.get("split"):
        facts.append(
            f"- Split: `{metrics['split']}` (temporal): {metrics['train_items']:,} training, "
            f"{metrics['test_items']:,} test items."
        )
    return facts


def _calibration_facts(cal: dict[str, Any]) -> list[str]:
    target = cal.get("target_precision")
    if cal.get("method") == "forward":
        blocks = cal.get("forward_blocks", {})
        how = (
            f"- Acting thresholds: forward in time. The newest training items in {len(blocks)} "
            f"blocks ({', '.join(str(v) for v in blocks.values())} items), each scored by a "
            "model of everything before it; a label acts at the lowest threshold whose "
            f"{cal.get('confidence', 0.95):.0%} lower bound on precision (Clopper–Pearson, "
            f"counts re-weighted to the newest positive rate) reaches {target}."
        )
    else:
        how = f"- Acting thresholds: out-of-fold over the training period, precision {target}."
    labels = cal.get("labels") or {}
    abstains = [
        f"{name} ({abstain_reason(labels.get(name) or {}, target)})"
        for name in cal.get("abstains", [])
    ]
    never = ", ".join(abstains) or "none"
    facts = [how, f"- Abstains (never acts; cannot promise {target}): {never}."]
    for kind, entry in (cal.get("by_kind") or {}).items():
        acting = [n for n, c in entry["labels"].items() if c.get("threshold") is not None]
        facts.append(
            f"- Items of kind `{kind}` act with thresholds calibrated on their kind alone: "
            f"{len(acting)} labels act ({', '.join(acting) or 'none'}), "
            f"{len(entry['abstains'])} abstain."
        )
    return facts


PROMISE_COLUMNS = (
    "label",
    "acts at",
    "promised precision [interval]",
    "forward recall",
    "lift over base rate",
    "labels (share)",
    "evaluation: promised",
    "delivered precision",
    "delivered recall",
)


def promise_table(metadata: dict[str, Any], metrics: dict[str, Any]) -> list[str]:
    """Per acting label: its threshold and promise, and what the evaluation run promised
    and delivered on the test slice (the evaluation run's own thresholds)."""
    cal = (metrics.get("calibration") or {}).get("labels") or {}
    if not cal:
        return []
    judged = metrics.get("evaluation_calibration") or metrics.get("calibration") or {}
    promised = judged.get("labels") or {}
    delivered = _delivered(metrics, str(metadata.get("model") or metadata["name"]))
    lines = ["| " + " | ".join(PROMISE_COLUMNS) + " |", "|" + "---|" * len(PROMISE_COLUMNS)]
    for name, c in cal.items():
        if c.get("threshold") is None:
            continue
        low, high = c.get("interval") or (None, None)
        before = (promised.get(name) or {}).get("expected_precision")
        got = delivered.get(name, {})
        cells = [
            name,
            f"{c['threshold']:.3f}",
            f"{_cell(c['expected_precision'])} [{_cell(low)}, {_cell(high)}]",
            _cell(c.get("recall")),
            f"×{c['lift']:.2f}" if c.get("lift") else "–",
            f"{100 * c['labelled_share']:.0f} %" if c.get("labelled_share") is not None else "–",
            _cell(before),
            _cell(got.get("precision")),
            _cell(got.get("recall")),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _delivered(metrics: dict[str, Any], model: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for entry in (metrics.get("models", {}).get(model) or {}).values():
        if isinstance(entry, dict) and "target_precision" in entry:
            for name, m in entry["target_precision"]["labels"].items():
                out.setdefault(name, m)
    return out


def to_html(md: str) -> str:
    """A small HTML rendering of the Markdown card: title, facts, table, curves."""
    head = ""
    facts: list[str] = []
    tables: list[list[str]] = []
    in_table = False
    for line in md.splitlines():
        if line.startswith("# "):
            head = f"<h1>{html.escape(line[2:])}</h1>"
        elif line.startswith("- "):
            facts.append(f"<li>{html.escape(line[2:].replace('**', ''))}</li>")
        elif line.startswith("|") and not line.startswith("|---"):
            if not in_table:
                tables.append([])
            cells = [html.escape(c.strip()) for c in line.strip("|").split("|")]
            tag = "th" if not tables[-1] else "td"
            tables[-1].append("<tr>" + "".join(f"<{tag}>{c}</{tag}>" for c in cells) + "</tr>")
        in_table = line.startswith("|")
    return "\n".join(
        [
            "<!doctype html><html><head><meta charset='utf-8'><title>model card</title>",
            # styles inline: the card stands alone, from disk or sandboxed by the dashboard
            f"<style>{CARD_STYLE}</style></head><body>",
            head,
            "<ul>" + "".join(facts) + "</ul>",
            *("<table>" + "".join(rows) + "</table>" for rows in tables),
            '<img src="pr-curves.png" alt="precision-recall curves">',
            "</body></html>",
        ]
    )


CARD_STYLE = (
    "body{margin:0 auto;max-width:1100px;padding:1rem 1.2rem 3rem;color:#1f2328;"
    "font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif}"
    "h1{font-size:1.4rem}ul{padding-left:1.2rem}li{margin:.2rem 0}"
    "table{border-collapse:collapse;margin:.8rem 0;width:100%}"
    "th,td{border-bottom:1px solid #d1d9e0;padding:.3rem .5rem;text-align:left}"
    "th{background:#f6f8fa;font-weight:600}td{font-variant-numeric:tabular-nums}"
    "img{max-width:100%;height:auto}"
)


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}" if isinstance(value, float) else str(rounded(value))
