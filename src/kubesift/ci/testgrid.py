"""TestGrid's row analyses over a test's results, newest first. Pure.

Statuses are the JUnit module's codes (PASS 1, FAIL 12, FLAKY 13, ABSENT 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from kubesift.ci.junit import ABSENT, FAIL, FLAKY, PASS

#: TestGrid's defaults (kubernetes/test-infra config/testgrids/default.yaml).
FAILURES_TO_ALERT = 3
PASSES_TO_CLEAR = 1
FAILURES_IN_A_ROW_IGNORED = 3

C = TypeVar("C")


def flip_flakiness(seq: Sequence[int]) -> float:
    """Percent of considered runs that flipped from pass to fail (or were flaky).

    Runs of three or more consecutive failures are skipped: that is a breakage,
    not a flake (TestGrid's flip analyzer).
    """
    flips = considered = 0
    last_pass = True
    i = 0
    while i < len(seq):
        run = 0
        while i + run < len(seq) and seq[i + run] == FAIL:
            run += 1
        if run >= FAILURES_IN_A_ROW_IGNORED:
            i += run
            if i >= len(seq):
                break
        s = seq[i]
        considered += 1
        if s == PASS:
            last_pass = True
        elif s == FLAKY:
            flips += 1
            last_pass = True
        else:
            flips += int(last_pass)
            last_pass = False
        i += 1
    return 0.0 if considered == 0 else 100.0 * flips / considered


def naive_flakiness(seq: Sequence[int]) -> float:
    """Failed runs as a percent of judged runs (TestGrid's naive measure)."""
    judged = [s for s in seq if s in (PASS, FAIL, FLAKY)]
    return 0.0 if not judged else 100.0 * sum(s == FAIL for s in judged) / len(judged)


@dataclass(frozen=True)
class Alert(Generic[C]):
    """A row failing ``fail_count`` times in a row, newest first."""

    fail_count: int
    first_fail: C  # the oldest run of the streak
    latest_fail: C
    last_pass: C | None  # the newest pass before the streak, if seen


def alert_row(
    cells: Sequence[tuple[C, int]],
    failures: int = FAILURES_TO_ALERT,
    passes: int = PASSES_TO_CLEAR,
) -> Alert[C] | None:
    """TestGrid's consecutive-failure alert over ``(column, status)`` newest first."""
    consec = seen_passes = total = 0
    latest: C | None = None
    first: C | None = None
    last_pass: C | None = None
    for col, status in cells:
        if status == ABSENT:
            continue
        if status == PASS:
            seen_passes += 1
            if consec >= failures:
                last_pass = last_pass if last_pass is not None else col
                if seen_passes >= passes:
                    break
            elif seen_passes >= passes:
                return None
            else:
                consec = 0
        elif status == FAIL:
            seen_passes, last_pass = 0, None
            consec += 1
            total += 1
            latest = latest if latest is not None else col
            first = col
        elif status == FLAKY:
            seen_passes = 0
            if consec >= failures:
                break
            consec = 0
    if consec < failures or first is None or latest is None:
        return None
    return Alert(fail_count=total, first_fail=first, latest_fail=latest, last_pass=last_pass)


def parse_seq(text: str) -> list[int]:
    """``"p,f,fl"`` (TestGrid's test notation) as statuses."""
    codes = {"p": PASS, "f": FAIL, "fl": FLAKY, "": ABSENT}
    return [codes[t.strip()] for t in text.split(",")] if text else []
