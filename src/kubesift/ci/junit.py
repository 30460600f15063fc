"""JUnit XML into test cases, and one outcome per test per run.

Pure: bytes in, plain records out. Parsing streams (``iterparse``): each ``<testcase>``
is read, tallied and dropped, so a file's memory is its bytes and one record per
distinct test, never its whole element tree. Entity declarations are refused (billion
laughs, external entities) via defusedxml, nesting deeper than :data:`MAX_DEPTH` is
refused, and a file that is not XML raises :class:`CIInputError` naming the problem,
so the importer can record it and keep the rest of the run.
"""

from __future__ import annotations

import io
import math
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from kubesift.errors import CIInputError

#: TestGrid's / Sippy's status codes.
ABSENT, PASS, RUNNING, FAIL, FLAKY = 0, 1, 4, 12, 13
#: The longest failure text kept (TestGrid's cap; head and tail are kept).
MAX_TEXT = 10_000
UNSPECIFIED = "<unspecified>"
#: The deepest element nesting read (real JUnit nests suites three or four deep).
MAX_DEPTH = 64
_SUITES = ("testsuite", "testsuites")


@dataclass(frozen=True, slots=True)
class Case:
    """One ``<testcase>`` element as written."""

    suite: str  # the innermost enclosing suite's name ("" when it has none)
    name: str
    time: float
    failed: bool
    skipped: bool
    text: str  # failure text: message, then body
    lifecycle: str  # blocking | informing
    under_suites: bool  # the file's root is <testsuites>
    start: str | None = None  # the case's own ``timestamp``, as written
    suite_start: str | None = None  # its suite's ``timestamp``
    suite_time: float = 0.0  # its suite's ``time``


@dataclass(slots=True)
class Outcome:
    """A test's one outcome in one run (Sippy's rule): a pass and a fail make a flake.
    Built try by try (:class:`Tally`), then only read."""

    suite: str
    name: str
    status: int  # PASS, FAIL or FLAKY
    text: str  # the failure text, kept for flakes too
    time: float
    attempts: int
    lifecycle: str
    fails: int = 0  # how many of the attempts failed


def parse(data: bytes, source: str = "junit.xml") -> list[Case]:
    """Every test case in a JUnit file; both roots, nested suites, Ginkgo v1/v2."""
    return list(iter_cases(data, source))


def iter_cases(data: bytes, source: str = "junit.xml") -> Iterator[Case]:
    """The file's test cases as they are read (see :func:`parse`).

    A ``<testcase>`` counts when it is the root or a child of the root ``<testsuite>`` /
    ``<testsuites>`` or of a ``<testsuite>`` that itself counts (Kettle's walk); it is
    named by its innermost suite, except directly under a ``<testsuites>`` root."""
    # (element, its suite name, whether testcases below it count, the suite's timestamp
    # and time: where a timeline places its cases)
    stack: list[tuple[ET.Element, str, bool, str | None, float]] = []
    under = False
    try:
        for event, node in SafeET.iterparse(
            io.BytesIO(data), events=("start", "end"), forbid_dtd=False
        ):
            if event == "start":
                if len(stack) >= MAX_DEPTH:
                    raise CIInputError(f"{source}: elements nested deeper than {MAX_DEPTH}")
                if not stack:
                    if node.tag not in (*_SUITES, "testcase"):
                        raise CIInputError(
                            f"{source}: not a JUnit file (root element <{node.tag}>)"
                        )
                    under = node.tag == "testsuites"
                    stack.append((node, "" if under else node.get("name", ""), True,
                                  *_when(node)))  # fmt: skip
                    continue
                parent, suite, walked, at, took = stack[-1]
                walk = walked and node.tag == "testsuite" and parent.tag in _SUITES
                if walk:
                    stack.append((node, node.get("name", ""), walk, *_when(node)))
                else:
                    stack.append((node, suite, walk, at, took))
                continue
            stack.pop()
            if not stack:
                if node.tag == "testcase":
                    yield _case(node, "", under, None, 0.0)
                continue
            parent, suite, walked, at, took = stack[-1]
            if node.tag == "testcase" and walked:
                yield _case(node, suite, under, at, took)
            if parent.tag != "testcase" and len(parent):
                del parent[-1]  # read: drop it (a testcase keeps its children until it ends)
    except DefusedXmlException as exc:
        raise CIInputError(f"{source}: refused hostile XML ({type(exc).__name__})") from exc
    except ET.ParseError as exc:
        raise CIInputError(f"{source}: malformed XML ({exc})") from exc


def _when(node: ET.Element) -> tuple[str | None, float]:
    """A suite's ``timestamp`` (kept as written, at most 64 characters) and ``time``."""
    stamp = node.get("timestamp")
    return (stamp[:64] if stamp else None), _seconds(node.get("time"))


def _case(
    node: ET.Element, suite: str, under: bool, suite_start: str | None, suite_time: float
) -> Case:
    failed, text = False, ""
    skipped = False
    for child in node:
        if child.tag in ("failure", "error"):
            failed = True
            text = _failure_text(child)
        elif child.tag == "skipped":
            skipped = True
    status = node.get("status", "")
    if status in ("skipped", "pending"):
        skipped = True
    elif status in ("failed", "panicked", "interrupted", "aborted", "timedout"):
        failed = True
    lifecycle = node.get("lifecycle") or "blocking"
    return Case(
        suite=suite,
        name=node.get("name") or UNSPECIFIED,
        time=_seconds(node.get("time")),
        failed=failed,
        skipped=skipped and not failed,
        text=clip(text),
        lifecycle=lifecycle,
        under_suites=under,
        start=(node.get("timestamp") or "")[:64] or None,
        suite_start=suite_start,
        suite_time=suite_time,
    )


def _failure_text(node: ET.Element) -> str:
    message = (node.get("message") or "").strip()
    body = (node.text or "").strip()
    if message and body and message not in body:
        return f"{message}\n{body}"
    return body or message or "No Failure Message Found"


def _seconds(raw: str | None) -> float:
    """A case's ``time`` in seconds; one that is not a finite, non-negative number (absent,
    ``NaN``, ``1e400``, ``-3``) counts as unknown, 0, as Kettle reads it."""
    try:
        value = float(raw or 0)
    except ValueError:
        return 0.0
    return value if math.isfinite(value) and value >= 0 else 0.0


def clip(text: str, limit: int = MAX_TEXT) -> str:
    """At most ``limit`` characters: the head and the tail, as TestGrid keeps them."""
    if len(text) <= limit:
        return text
    half = (limit - 20) // 2
    return f"{text[:half]}\n...[truncated]...\n{text[-half:]}"


def kettle_rows(cases: Iterable[Case]) -> list[dict[str, object]]:
    """Cases as Kettle's ``make_json`` writes them: skipped dropped, ``"<suite> <case>"``
    under ``<testsuites>``. Used to check the parser against Kettle's goldens."""
    rows: list[dict[str, object]] = []
    for c in cases:
        if c.skipped:
            continue
        name = f"{c.suite or UNSPECIFIED} {c.name}" if c.under_suites else c.name
        row: dict[str, object] = {"name": name, "time": c.time}
        if c.failed:
            row.update(failed=True, failure_text=c.text)
        rows.append(row)
    return rows


class Tally:
    """One run's outcomes, built case by case with one record per distinct test (not every
    case kept): Sippy's rule, a key seen failing and passing in the same run is a flake
    (its first failure text kept); only failures is a failure; skipped cases are not
    judged."""

    def __init__(self) -> None:
        self.seen: dict[tuple[str, str], Outcome] = {}
        self.skipped = 0
        self._suites: dict[str, str] = {}  # one copy of each suite name

    def add(self, c: Case) -> None:
        if c.skipped:
            self.skipped += 1
            return
        suite = self._suites.setdefault(c.suite, c.suite)
        text = c.text if c.failed else ""
        status = FAIL if c.failed else PASS
        self._add(Outcome(suite, c.name, status, text, c.time, 1, c.lifecycle, int(c.failed)))

    def merge(self, other: Tally) -> None:
        """Add another file's tally (files are read one at a time, then merged)."""
        self.skipped += other.skipped
        for outcome in other.seen.values():
            self._add(outcome)
        other.seen.clear()

    def _add(self, new: Outcome) -> None:
        key = (new.suite, new.name)
        mine = self.seen.get(key)
        if mine is None:
            self.seen[key] = new
            return
        if new.fails and not mine.fails:
            mine.text = new.text
        mine.attempts += new.attempts
        mine.fails += new.fails
        mine.time = max(mine.time, new.time)
        mine.status = PASS if not mine.fails else FLAKY if mine.fails < mine.attempts else FAIL

    def outcomes(self) -> list[Outcome]:
        """The outcomes in the order tests were first seen (the tally is emptied)."""
        out = list(self.seen.values())
        self.seen.clear()
        return out


def outcomes(cases: Iterable[Case]) -> tuple[list[Outcome], int]:
    """One outcome per ``(suite, name)`` in a run, and how many cases were skipped
    (see :class:`Tally`)."""
    tally = Tally()
    for c in cases:
        tally.add(c)
    return tally.outcomes(), tally.skipped
