"""Analyze benchmark: ``kubesift analyze --all`` and ``kubesift report`` on a generated repository.

Builds a store by exporting a generated Kubernetes-like repository from the in-process fake
GitHub (served on loopback), then runs each command as a separate process and reports wall
time and peak RSS (sampled every 20 ms, the process and its children).

    python bench/analyze.py                  # 91,000 items (export takes a few minutes)
    python bench/analyze.py --quick          # 5,000 items, under a minute on 2 cores
    python bench/analyze.py --home DIR       # keep (or reuse) the store in DIR
    python bench/analyze.py --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _measure import export_generated, run_measured
from sqlalchemy import func, select

from kubesift.config import load_settings
from kubesift.store import open_store
from kubesift.store.schema import items, label_events


def build_store(home: Path, count: int) -> dict[str, float]:
    """Export a generated repository of ``count`` items into the store at ``home``."""
    engine = open_store(load_settings({"KUBESIFT_HOME": str(home)}))
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(items)).scalar() or 0
    started = time.perf_counter()
    if not stored:
        export_generated(engine, count)
    with engine.connect() as conn:
        n_items = conn.execute(select(func.count()).select_from(items)).scalar() or 0
        n_events = conn.execute(select(func.count()).select_from(label_events)).scalar() or 0
    return {
        "items": float(n_items),
        "label_events": float(n_events),
        "export_s": round(time.perf_counter() - started, 2),
    }


def run_timed(home: Path, *args: str) -> dict[str, float]:
    """Run ``kubesift ARGS`` as a process; wall seconds and peak RSS in MiB."""
    env = {**os.environ, "KUBESIFT_HOME": str(home)}
    run = run_measured([sys.executable, "-m", "kubesift", *args], env)
    if run.returncode != 0:
        raise SystemExit(f"kubesift {' '.join(args)} failed ({run.returncode}):\n{run.stderr}")
    wall, peak, out = run.seconds, run.peak_rss_bytes, run.stdout
    return {
        "wall_s": round(wall, 2),
        "peak_rss_mib": round(peak / 2**20, 1),
        "lines": out.count("\n"),
    }


def bench(count: int, home: Path) -> dict[str, Any]:
    figures: dict[str, Any] = {"cpus": os.cpu_count() or 0, **build_store(home, count)}
    for key, args in (("analyze_all", ("analyze", "--all")), ("report", ("report",))):
        for name, value in run_timed(home, *args).items():
            figures[f"{key}_{name}"] = value
    figures["report_mib"] = round((home / "assets" / "report.html").stat().st_size / 2**20, 2)
    return figures


def print_table(figures: dict[str, Any]) -> None:
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        print(f"{key:<{width}}  {value:,}" if isinstance(value, int | float) else value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5,000 items")
    parser.add_argument("--items", type=int, help="override the repository size")
    parser.add_argument("--home", type=Path, help="a KUBESIFT_HOME to keep or reuse the store")
    parser.add_argument("--json", type=Path, help="write the figures as a flat JSON object")
    args = parser.parse_args()
    count = args.items or (5_000 if args.quick else 91_000)
    with tempfile.TemporaryDirectory() as tmp:
        figures = bench(count, args.home or Path(tmp))
    print_table(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
