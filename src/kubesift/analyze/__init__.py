"""Analyze: metrics as pure functions over data frames, charts, and the HTML report."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine

from kubesift.analyze.analyses import ANALYSES, Analysis, noun_for, run_analyses
from kubesift.analyze.data import Filters, Frames, apply_filters, load_frames
from kubesift.errors import UserError


def load(engine: Engine, filters: Filters) -> Frames:
    """Load the store (one query per table) and apply the filters."""
    with engine.connect() as conn:
        frames = load_frames(conn, filters.repo)
    return apply_filters(frames, filters)


def analyze(frames: Frames, names: Sequence[str], filters: Filters, top: int) -> list[Analysis]:
    """Compute the named analyses; ``UserError`` when there are no items to analyze."""
    unknown = [n for n in names if n not in ANALYSES]
    if unknown:
        raise UserError(f"unknown analysis {unknown[0]!r}; choose from {', '.join(ANALYSES)}")
    if top < 1:
        raise UserError("--top must be at least 1")
    if frames.empty:
        raise UserError(
            "no items to analyze: the store is empty or the filters match nothing "
            "(see `kubesift status`)"
        )
    return run_analyses(frames, list(names), filters.kinds, top)


def file_stem(name: str, kinds: Sequence[str]) -> str:
    """The file name (no extension) for an analysis: e.g. ``created-vs-closed-pull-requests``."""
    return f"{name}-{noun_for(tuple(kinds)).replace(' ', '-')}"


def write_charts(analyses: Sequence[Analysis], directory: Path, kinds: Sequence[str]) -> list[Path]:
    """Draw each analysis as SVG and PNG under ``directory``; returns the paths written."""
    from kubesift.analyze.charts import save

    paths: list[Path] = []
    for a in analyses:
        paths.extend(save(a, directory, file_stem(a.name, kinds)))
    return paths


__all__ = [
    "ANALYSES",
    "Analysis",
    "Filters",
    "Frames",
    "analyze",
    "apply_filters",
    "file_stem",
    "load",
    "load_frames",
    "write_charts",
]


def printable(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with its index as a column and dates as ``YYYY-MM-DD`` text."""
    if isinstance(table.index, pd.RangeIndex) and table.index.name is None:
        flat = table.reset_index(drop=True)  # row numbers are no column of the data
    elif table.index.name:
        flat = table.reset_index()
    else:
        flat = table.reset_index(names="name")
    for col in flat.columns:
        if pd.api.types.is_datetime64_any_dtype(flat[col]):
            flat[col] = flat[col].dt.strftime("%Y-%m-%d")
    return flat


def rows_of(a: Analysis) -> list[dict[str, Any]]:
    """An analysis's table as JSON-able records (what ``analyze --format json`` and the
    dashboard's Project page show)."""
    return list(json.loads(printable(a.table).to_json(orient="records")))
