"""JUnit XML into test cases, and one outcome per test per run.

Pure: bytes in, plain records out. Parsing refuses entity declarations (billion laughs,
external entities) via defusedxml; a file that is not XML raises :class:`CIInputError`
naming the problem, so the importer can record it and keep the rest of the run.
"""

from __future__ import annotations

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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class Outcome:
    """A test's one outcome in one run (Sippy's rule): a pass and a fail make a flake."""

    suite: str
    name: str
    status: int  # PASS, FAIL or FLAKY
    text: str  # the failure text, kept for flakes too
    time: float
    attempts: int
    lifecycle: str


def parse(data: bytes, source: str = "junit.xml") -> list[Case]:
    """Every test case in a JUnit file; both roots, nested suites, Ginkgo v1/v2."""
    root = _root(data, source)
    if root.tag == "testcase":
        return [_case(root, "", False)]
    if root.tag not in ("testsuite", "testsuites"):
        raise CIInputError(f"{source}: not a JUnit file (root element <{root.tag}>)")
    under = root.tag == "testsuites"
    return list(_walk(root, root.get("name", "") if not under else "", under))


def _root(data: bytes, source: str) -> ET.Element:
    try:
        root: ET.Element = SafeET.fromstring(data, forbid_dtd=False)
    except DefusedXmlException as exc:
        raise CIInputError(f"{source}: refused hostile XML ({type(exc).__name__})") from exc
    except ET.ParseError as exc:
        raise CIInputError(f"{source}: malformed XML ({exc})") from exc
    return root


def _walk(node: ET.Element, suite: str, under: bool) -> Iterator[Case]:
    for child in node:
        if child.tag == "testcase":
            yield _case(child, suite, under)
        elif child.tag == "testsuite":
            yield from _walk(child, child.get("name", ""), under)


def _case(node: ET.Element, suite: str, under: bool) -> Case:
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
    )


def _failure_text(node: ET.Element) -> str:
    message = (node.get("message") or "").strip()
    body = (node.text or "").strip()
    if message and body and message not in body:
        return f"{message}\n{body}"
    return body or message or "No Failure Message Found"


def _seconds(raw: str | None) -> float:
    try:
        return float(raw or 0)
    except ValueError:
        return 0.0


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


def outcomes(cases: Iterable[Case]) -> tuple[list[Outcome], int]:
    """One outcome per ``(suite, name)`` in a run, and how many cases were skipped.

    Sippy's rule: a key seen failing and passing in the same run is a flake (its
    failure text kept); only failures is a failure; skipped cases are not judged.
    """
    seen: dict[tuple[str, str], list[Case]] = {}
    skipped = 0
    for c in cases:
        if c.skipped:
            skipped += 1
            continue
        seen.setdefault((c.suite, c.name), []).append(c)
    out = []
    for (suite, name), tries in seen.items():
        fails = [c for c in tries if c.failed]
        status = PASS if not fails else FLAKY if len(fails) < len(tries) else FAIL
        out.append(
            Outcome(
                suite=suite,
                name=name,
                status=status,
                text=fails[0].text if fails else "",
                time=max(c.time for c in tries),
                attempts=len(tries),
                lifecycle=tries[0].lifecycle,
            )
        )
    return out, skipped
