"""Draw analyses with matplotlib.

Figures are built with the object API (``matplotlib.figure.Figure``), never pyplot, so no
GUI backend is chosen, nothing global changes, and figures are freed when dropped.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.dates as mdates
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import StrMethodFormatter

from kubesift.analyze.analyses import Analysis

PNG_DPI = 90
STYLE: dict[Any, Any] = {
    "svg.fonttype": "none",
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "font.size": 10,
}
PANEL_LABELS = {
    "open": "open items",
    "median_age_days": "age in days",
    "p85_age_days": "age in days",
}


def figure_for(analysis: Analysis) -> Figure:
    """A matplotlib figure for the analysis (a 'no data' figure when it is empty)."""
    with matplotlib.rc_context(STYLE):
        fig = _no_data(analysis) if analysis.empty else DRAW[analysis.chart](analysis)
        fig.suptitle(analysis.title, fontsize=13, fontweight="bold")
        if analysis.note:
            fig.text(0.01, 0.01, analysis.note, fontsize=8.5, color="#444", wrap=True)
        fig.tight_layout(rect=(0, 0.04 if analysis.note else 0, 1, 1))
    return fig


def _subplots(*grid: int, size: tuple[float, float], **kw: Any) -> tuple[Figure, Any]:
    fig = Figure(figsize=size)
    return fig, fig.subplots(*grid, **kw)


def _no_data(analysis: Analysis) -> Figure:
    fig, ax = _subplots(size=(10, 3))
    ax.set_axis_off()
    ax.text(
        0.5,
        0.5,
        "No data for this chart with the current store and filters.",
        ha="center",
        va="center",
        fontsize=12,
        transform=ax.transAxes,
    )
    return fig


def _dates(ax: Axes) -> None:
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _lines(a: Analysis) -> Figure:
    fig, ax = _subplots(size=(10, 5.5))
    columns = [c for c in a.table.columns if c != "merged"]
    for col in columns:
        ax.plot(a.table.index, a.table[col], label=col.replace("_", " "), linewidth=1.6)
    ax.set_xlabel(a.xlabel)
    ax.set_ylabel(a.ylabel)
    ax.set_ylim(bottom=0)
    _dates(ax)
    ax.legend(loc="upper left")
    return fig


def _panels(a: Analysis) -> Figure:
    fig, (top, bottom) = _subplots(2, 1, size=(10, 7), sharex=True)
    top.plot(a.table.index, a.table["open"], label="open", color="C0")
    top.set_ylabel(f"open {a.ylabel}")
    top.legend(loc="upper left")
    for col, color in (("median_age_days", "C1"), ("p85_age_days", "C3")):
        bottom.plot(a.table.index, a.table[col], label=col.replace("_", " "), color=color)
    bottom.set_ylabel("age of open items (days)")
    bottom.set_xlabel(a.xlabel)
    bottom.legend(loc="upper left")
    for ax in (top, bottom):
        ax.set_ylim(bottom=0)
        _dates(ax)
    return fig


def _barh(a: Analysis) -> Figure:
    series = a.table.iloc[:, 0]
    fig, ax = _subplots(size=(10, max(3.0, 0.32 * len(series) + 1.5)))
    labels = [str(v) for v in series.index]
    ax.barh(labels, series.to_numpy(), color="C0", label=a.xlabel)
    ax.invert_yaxis()
    ax.set_xlabel(a.xlabel)
    ax.set_ylabel(a.ylabel)
    ax.grid(axis="y", visible=False)
    for y, value in enumerate(series.to_numpy()):
        ax.text(value, y, f" {value:,}", va="center", fontsize=8)
    ax.margins(x=0.1)
    return fig


def _bars(a: Analysis) -> Figure:
    fig, ax = _subplots(size=(10, 5))
    a.table.plot.bar(ax=ax, rot=0, width=0.8)
    ax.set_xlabel(a.xlabel)
    ax.set_ylabel(a.ylabel)
    ax.legend(loc="upper right", fontsize=9)
    for container in ax.containers:
        ax.bar_label(container, fmt="{:,.0f}", fontsize=7)
    return fig


def _area(a: Analysis) -> Figure:
    fig, ax = _subplots(size=(10, 5.5))
    ax.stackplot(
        a.table.index,
        a.table["bot"],
        a.table["human"],
        labels=["bot", "human"],
        colors=["#d62728", "#1f77b4"],
        alpha=0.8,
    )
    ax.set_xlabel(a.xlabel)
    ax.set_ylabel(a.ylabel)
    _dates(ax)
    ax.legend(loc="upper left")
    return fig


def _facets(a: Analysis) -> Figure:
    sigs = list(dict.fromkeys(a.table["sig"]))
    cols = 3 if len(sigs) > 4 else min(2, len(sigs))
    rows = -(-len(sigs) // cols)
    fig, axes = _subplots(rows, cols, size=(11, 2.6 * rows + 0.8), sharex=True, squeeze=False)
    for ax, sig in zip(axes.flat, sigs, strict=False):
        part = a.table[a.table["sig"] == sig]
        ax.plot(part["month"], part["opened"], label="opened", linewidth=1.2)
        ax.plot(part["month"], part["closed"], label="closed", linewidth=1.2)
        ax.set_title(sig, fontsize=10)
        ax.set_ylim(bottom=0)
        _dates(ax)
    for ax in list(axes.flat)[len(sigs) :]:
        ax.set_axis_off()
    fig.supylabel(a.ylabel)
    axes.flat[0].legend(loc="upper left", fontsize=8)
    return fig


DRAW = {
    "lines": _lines,
    "panels": _panels,
    "barh": _barh,
    "bars": _bars,
    "area": _area,
    "facets": _facets,
}


def save(analysis: Analysis, directory: Path, stem: str) -> list[Path]:
    """Write ``stem.svg`` and ``stem.png`` under ``directory``; returns both paths."""
    directory.mkdir(parents=True, exist_ok=True)
    fig = figure_for(analysis)
    paths = [directory / f"{stem}.svg", directory / f"{stem}.png"]
    fig.savefig(paths[0], format="svg")
    fig.savefig(paths[1], format="png", dpi=PNG_DPI)
    return paths


def png_bytes(analysis: Analysis) -> bytes:
    """The analysis drawn as PNG bytes (for embedding in the report)."""
    buffer = io.BytesIO()
    figure_for(analysis).savefig(buffer, format="png", dpi=PNG_DPI)
    return buffer.getvalue()
