"""Hostile-input benchmark: what a bad file or a bad pattern costs kubesift.

1. import memory: one Prow run whose single JUnit file holds N test cases (0.1 % failing),
   imported by ``kubesift ci import`` as a process (two reader processes, as by default):
   wall time and peak RSS (the importer's RSS plus its readers' private memory).
2. search worst case: the catastrophic pattern ``(\\w+\\s?)+:$`` with RE2 (what kubesift
   runs) over N ordinary failure texts, beside Python's ``re`` on ONE text of growing
   length, in a child process killed after a time limit (``re`` backtracks: each
   character more about doubles its time, and it holds the GIL the whole while).

    python bench/hostile.py --quick       # under a minute on 2 cores
    python bench/hostile.py --json out.json
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _measure import quick_main, run_measured

from kubesift.userregex import compile_user

PATTERN = r"(\w+\s?)+:$"
WORDS = ["the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "while", "pods", "restart"]


def write_run(root: Path, cases: int) -> int:
    """One run of ``cases`` test cases in one JUnit file; its size in bytes."""
    run = root / "logs" / "big-job" / "1"
    (run / "artifacts").mkdir(parents=True)
    (run / "started.json").write_text(json.dumps({"timestamp": 1764000000}))
    (run / "finished.json").write_text(json.dumps({"timestamp": 1764000600, "passed": False}))
    junit = run / "artifacts" / "junit_01.xml"
    with junit.open("w") as out:
        out.write('<testsuite name="e2e">')
        for i in range(cases):
            if i % 1000 == 0:
                out.write(f'<testcase name="t{i}"><failure>boom {i}</failure></testcase>')
            else:
                out.write(f'<testcase name="t{i}"/>')
        out.write("</testsuite>")
    return junit.stat().st_size


def import_memory(cases: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="kubesift-hostile-") as tmp:
        size = write_run(Path(tmp) / "tree", cases)
        env = {**os.environ, "KUBESIFT_HOME": str(Path(tmp) / "home")}
        cmd = [sys.executable, "-m", "kubesift", "ci", "import", str(Path(tmp) / "tree"),
               "--json", "--max-junit-mb", "64"]  # fmt: skip
        m = run_measured(cmd, env)
        if m.returncode != 0:
            raise SystemExit(f"import of {cases:,} cases failed: {m.stderr[-500:]}")
        report = json.loads(m.stdout)
        assert report["results"] == cases, report
    return {
        f"import_{cases}_cases_file_mb": round(size / 2**20, 1),
        f"import_{cases}_cases_seconds": round(m.seconds, 1),
        f"import_{cases}_cases_peak_rss_mb": round(m.peak_rss_bytes / 2**20),
    }


def texts(n: int) -> list[str]:
    """Ordinary failure texts: sentences of words, pod names and numbers, no colon at the
    end of a line (so the catastrophic pattern never matches and must try everything)."""
    out = []
    for i in range(n):
        words = [WORDS[(i * 7 + k) % len(WORDS)] for k in range(20 + i % 30)]
        out.append(f"pod web-{i:05x} failed {' '.join(words)} after {i % 97} retries")
    return out


def re2_search(n: int) -> dict[str, Any]:
    bodies = texts(n)
    regex = compile_user(PATTERN)
    started = time.perf_counter()
    found = regex.scan(bodies)
    seconds = time.perf_counter() - started
    assert found == []
    mb = sum(len(b) for b in bodies) / 2**20
    return {f"re2_{n}_texts_mb": round(mb, 1), f"re2_{n}_texts_seconds": round(seconds, 3)}


def python_re_one_text(chars: int, limit: float) -> float | None:
    """Seconds Python's re takes on the first ``chars`` characters of one ordinary text,
    None past ``limit``."""
    text = texts(1)[0].split(" failed ")[1][:chars]  # the words: no "-" to stop it early
    code = f"import re; re.search({PATTERN!r}, {text!r}, re.M)"
    started = time.perf_counter()
    try:
        subprocess.run([sys.executable, "-c", code], timeout=limit, check=True)
    except subprocess.TimeoutExpired:
        return None
    return time.perf_counter() - started


def run(quick: bool) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for cases in (50_000, 200_000) if quick else (100_000, 500_000, 1_000_000):
        figures.update(import_memory(cases))
    figures.update(re2_search(20_000 if quick else 200_000))
    limit = 5.0 if quick else 30.0
    for chars in (28, 32, 36, 40) if quick else (28, 32, 36, 40, 44, 48):
        took = python_re_one_text(chars, limit)
        figures[f"python_re_one_text_of_{chars}_chars_seconds"] = (
            round(took, 2) if took is not None else f"> {limit:g} (killed)"
        )
    return figures


def print_table(figures: dict[str, Any]) -> None:
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        shown = value if isinstance(value, str) else f"{value:,}"
        print(f"{key:<{width}}  {shown}")


if __name__ == "__main__":
    quick_main(__doc__, run, print_table, "50k and 200k cases, 20k texts")
