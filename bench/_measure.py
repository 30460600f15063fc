"""Shared by the benchmarks: run a command as a process, with wall time and peak RSS."""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubesift.testing.server import export_generated

__all__ = ["export_generated", "print_figures", "quick_main", "run_measured"]

import psutil


@dataclass(frozen=True)
class Measured:
    seconds: float
    peak_rss_bytes: int
    returncode: int
    stdout: str
    stderr: str


def run_measured(cmd: Sequence[str], env: Mapping[str, str], every: float = 0.02) -> Measured:
    """Run ``cmd``; peak RSS of it and its children, sampled every ``every`` seconds."""
    # Output goes to files, not pipes: a full pipe would stall a chatty process mid-run.
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = psutil.Popen(list(cmd), env=dict(env), stdout=out, stderr=err, text=True)
        peak = _sample(proc, every)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        return Measured(wall, peak, int(proc.returncode), out.read(), err.read())


def _sample(proc: psutil.Popen, every: float) -> int:
    # Children by unique set size: forked workers share the parent's pages copy-on-write,
    # and adding their full RSS would count those pages again. USS reads smaps, which
    # costs CPU, so children are sampled every 0.5 s (the parent every ``every``).
    peak = children = 0
    last = 0.0
    while proc.poll() is None:
        try:
            if time.monotonic() - last >= 0.5:
                children = sum(_private(c) for c in proc.children(True))
                last = time.monotonic()
            rss = proc.memory_info().rss + children
        except psutil.Error:
            rss = 0
        peak = max(peak, rss)
        time.sleep(every)
    proc.wait()
    return peak


def _private(child: psutil.Process) -> int:
    try:
        return int(child.memory_full_info().uss)
    except psutil.Error:
        return 0


def items_and_changes_main(
    doc: str,
    bench: Callable[[int, int], dict[str, float]],
    print_table: Callable[[dict[str, float]], None],
) -> None:
    """The command line of the benchmarks that take a repository size and a change count."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5,000 items, 200 changes")
    parser.add_argument("--items", type=int, help="override the repository size")
    parser.add_argument("--changes", type=int, help="override the number of changes")
    parser.add_argument("--json", type=Path, help="write the figures as a flat JSON object")
    args = parser.parse_args()
    items = args.items or (5_000 if args.quick else 91_000)
    changes = args.changes or (200 if args.quick else 1_000)
    figures = bench(items, changes)
    print_table(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


def quick_main(
    doc: str,
    run: Callable[[bool], dict[str, Any]],
    print_table: Callable[[dict[str, Any]], None],
    quick_help: str,
) -> None:
    """The command line of the benchmarks with a ``--quick`` run: table, then ``--json``."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--json", type=Path, help="write the figures as a flat JSON object")
    args = parser.parse_args()
    figures = run(args.quick)
    print_table(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


def print_figures(figures: Mapping[str, float], json_path: Path | None) -> None:
    """The figures as an aligned table, and as a flat JSON object when asked."""
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        print(f"{key:<{width}}  {value:,}")
    if json_path:
        json_path.write_text(json.dumps(dict(figures), indent=2) + "\n")


def wait_healthy(proc: Any, url: str, what: str, seconds: float = 60.0) -> None:
    """Return once ``url/healthz`` answers 200; a service that does not within ``seconds``
    is killed and the benchmark stops saying which one."""
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{what} did not start at {url}")
