"""A run's timeline: what happened during a Prow run, on one time axis. Pure.

Intervals come from what a run ships, each naming its source:

- ``prow``: the run itself (``started.json`` / ``finished.json``).
- ``podinfo``: the Prow test pod's containers (``podinfo.json``: when each ran, how it
  ended), the pod row TestGrid shows.
- ``junit``: a test's interval where its JUnit says when it started: a ``timestamp`` on
  the ``<testcase>``, or the suite's ``timestamp`` with its cases laid end to end when
  their times add up to no more than the suite's (they ran one after another). Cases
  that ran in parallel with no start of their own are not placed: counted, never
  guessed.
- ``openshift``: OpenShift's e2e monitor interval files (``e2e-timelines_*.json``,
  ``e2e-intervals_*.json``, ``e2e-events_*.json``), read in both the structured form
  (``locator`` / ``message`` objects, openshift/origin ``pkg/monitor/monitorapi``) and
  the older flat one (``locator`` and ``message`` strings, ``tempStructured*`` beside
  them; ``pkg/monitor/serialization``): tests, pods, nodes, alerts, disruption, events.
- ``events``: a gathered Kubernetes ``EventList`` (``**/events.json``, as Sippy globs it).

A timeline keeps at most :data:`MAX_INTERVALS` intervals, failed tests and errors
first; what was dropped is counted. Times are ISO 8601 UTC with milliseconds.
"""

from __future__ import annotations

import json
import re
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

#: The most intervals one run's timeline keeps (a real OpenShift run has tens of thousands;
#: the ones kept are the failed tests, errors and warnings first).
MAX_INTERVALS = 20_000
#: Test intervals collected from JUnit per run before the cap (failures always kept).
MAX_JUNIT_TESTS = 10_000
MAX_TEXT = 500
MAX_ROW = 300
LEVELS = ("info", "warning", "error")
#: Which files of a run feed its timeline (paths relative to the run).
_OPENSHIFT = re.compile(r"(^|/)e2e-(timelines|intervals|events)[^/]*\.json$")
_EVENTS = re.compile(r"(^|/)events\.json$")
#: Times before this are Go's zero time or nonsense ("0001-01-01T00:00:00Z"): no time.
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def is_timeline_file(rel: str) -> bool:
    """Whether a run's file (path relative to the run) feeds its timeline."""
    return bool(_OPENSHIFT.search(rel) or _EVENTS.search(rel))


def is_openshift_file(rel: str) -> bool:
    return bool(_OPENSHIFT.search(rel))


@dataclass(frozen=True, slots=True)
class Interval:
    start: str
    end: str  # equal to start for an instant
    source: str  # prow | podinfo | junit | openshift | events
    kind: str  # run | container | suite | test | pod | node | alert | disruption | event | ...
    row: str  # what it is about: a test's name, "ns/x pod/y", a node...
    text: str
    level: str = "info"  # info | warning | error
    failed: bool = False  # a failed test or container: drawn highlighted

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["from"], out["to"] = out.pop("start"), out.pop("end")
        return out


@dataclass
class Timeline:
    intervals: list[Interval] = field(default_factory=list)
    dropped: int = 0  # over MAX_INTERVALS
    unplaced: int = 0  # tests whose JUnit gives no start
    errors: list[str] = field(default_factory=list)  # bad timeline files, one line each

    def as_dict(self) -> dict[str, Any]:
        sources = Counter(i.source for i in self.intervals)
        return {
            "intervals": [i.as_dict() for i in self.intervals],
            "count": len(self.intervals),
            "sources": dict(sorted(sources.items())),
            "failed": sum(i.failed for i in self.intervals),
            "dropped": self.dropped,
            "unplaced": self.unplaced,
            "errors": self.errors,
        }


# -- times ----------------------------------------------------------------------------------


def iso_ms(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 / ISO 8601 time (naive means UTC) or epoch seconds; None when absent,
    malformed or outside 2000–2100 (Go's zero time included)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        try:
            moment = datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    elif isinstance(value, str) and value:
        try:
            moment = datetime.fromisoformat(_trim_fraction(value.strip()).replace("Z", "+00:00"))
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    else:
        return None
    return moment if _EARLIEST <= moment < _LATEST else None


_FRACTION = re.compile(r"(\.\d{6})\d+")


def _trim_fraction(value: str) -> str:
    """Go writes nanoseconds; Python reads at most microseconds."""
    return _FRACTION.sub(r"\1", value, count=1)


def _clip(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _interval(
    start: datetime, end: datetime | None, source: str, kind: str, row: str, text: str,
    level: str = "info", failed: bool = False,
) -> Interval:  # fmt: skip
    end = start if end is None or end < start else end
    return Interval(
        iso_ms(start), iso_ms(end), source, kind, _clip(row, MAX_ROW), _clip(text, MAX_TEXT),
        level if level in LEVELS else "info", failed,
    )  # fmt: skip


# -- the run and its pod --------------------------------------------------------------------


def from_run(started: str | None, finished: str | None, state: str) -> list[Interval]:
    start = parse_time(started)
    if start is None:
        return []
    end = parse_time(finished)
    failed = state in ("failure", "error")
    return [_interval(start, end, "prow", "run", "run", f"Prow run, ended {state}",
                      "error" if failed else "info", failed)]  # fmt: skip


def from_podinfo(doc: dict[str, Any]) -> list[Interval]:
    """The Prow test pod's containers from ``podinfo.json`` (``{"pod": {...}}``): when
    each ran and how it ended; a container that exited non-zero is failed."""
    pod = _obj(doc.get("pod")) or doc
    meta = _obj(pod.get("metadata"))
    status = _obj(pod.get("status"))
    name = str(meta.get("name") or "test pod")
    out: list[Interval] = []
    for key in ("initContainerStatuses", "containerStatuses"):
        statuses = status.get(key)
        for c in statuses if isinstance(statuses, list) else []:
            if not isinstance(c, dict):
                continue
            state = _obj(c.get("state"))
            ended = _obj(state.get("terminated")) or None
            running = _obj(state.get("running")) or None
            info = ended or running or {}
            start = parse_time(info.get("startedAt"))
            if start is None:
                continue
            code = ended.get("exitCode") if ended else None
            failed = isinstance(code, int) and not isinstance(code, bool) and code != 0
            how = (f"exited {code}" + (f" ({ended.get('reason')})" if ended.get("reason") else "")
                   if ended else "still running")  # fmt: skip
            out.append(_interval(
                start, parse_time(info.get("finishedAt")) if ended else None, "podinfo",
                "container", f"container/{c.get('name') or '?'} in pod/{name}",
                f"container {c.get('name') or '?'} {how}", "error" if failed else "info", failed,
            ))  # fmt: skip
    return out


# -- JUnit ----------------------------------------------------------------------------------


@dataclass
class JUnitTimes:
    """Test intervals from JUnit cases as the parser reads them (see the module's rule).
    Fed case by case; holds at most :data:`MAX_JUNIT_TESTS` passing tests' times."""

    #: per suite (file, suite name): its start and total time, and its cases' times
    suites: dict[tuple[str, str], list[Any]] = field(default_factory=dict)
    placed: list[Interval] = field(default_factory=list)
    unplaced: int = 0
    over: int = 0  # passing tests past the cap, not kept
    _held: int = 0

    def add(self, file: str, case: Any) -> None:
        """``case`` is a :class:`kubesift.ci.junit.Case`."""
        if case.skipped:
            return
        if self._held >= MAX_JUNIT_TESTS and not case.failed:
            self.over += 1
            return
        start = parse_time(case.start)
        if start is not None:
            self.placed.append(_test(start, start + timedelta(seconds=case.time), case))
            self._held += 1
            return
        suite_start = parse_time(case.suite_start)
        if suite_start is None:
            self.unplaced += 1
            return
        entry = self.suites.setdefault((file, case.suite), [suite_start, case.suite_time, []])
        entry[2].append(case)
        self._held += 1

    def absorb(self, other: JUnitTimes) -> None:
        """Add one file's times (files are read one at a time; a bad one adds nothing)."""
        self.placed += other.placed
        self.unplaced += other.unplaced
        self.over += other.over
        for key, entry in other.suites.items():
            mine = self.suites.setdefault(key, [entry[0], entry[1], []])
            mine[2] += entry[2]
        self._held += other._held

    def intervals(self) -> list[Interval]:
        out = list(self.placed)
        for (_, suite), (start, total, cases) in self.suites.items():
            spent = sum(c.time for c in cases)
            if total:
                name = suite or "(unnamed)"
                stop = start + timedelta(seconds=total)
                out.append(_interval(start, stop, "junit", "suite", name, f"suite {name}"))
            if total and spent > total * 1.05 + 1:  # they overlapped: no honest placing
                self.unplaced += len(cases)
                continue
            at = start
            for c in cases:
                end = at + timedelta(seconds=c.time)
                out.append(_test(at, end, c))
                at = end
        return out


def _test(start: datetime, end: datetime, case: Any) -> Interval:
    what = "failed" if case.failed else "passed"
    text = f"{what} in {case.time:.1f} s" + (f": {case.text}" if case.failed and case.text else "")
    return _interval(start, end, "junit", "test", case.name, text,
                     "error" if case.failed else "info", case.failed)  # fmt: skip


# -- OpenShift's e2e monitor intervals ------------------------------------------------------

_KINDS = {
    "e2etest": "test", "pod": "pod", "container": "container", "node": "node",
    "machine": "node", "alert": "alert", "disruption": "disruption", "kubeevent": "event",
    "clusteroperator": "operator", "clusterversion": "operator", "apiserver": "apiserver",
}  # fmt: skip
#: Old flat locators: the first key that says what the interval is about.
_FLAT_KINDS = (
    ("e2e-test/", "test"), ("alert/", "alert"), ("disruption/", "disruption"),
    ("backend-disruption-name/", "disruption"), ("clusteroperator/", "operator"),
    ("clusterversion/", "operator"), ("container/", "container"), ("pod/", "pod"),
    ("node/", "node"),
)  # fmt: skip
#: What an interval's own source says it is about, when its locator does not say.
_SOURCE_KINDS = {
    "alert": "alert", "disruption": "disruption", "e2etest": "test", "kubeevent": "event",
    "nodestate": "node", "nodemonitor": "node", "podstate": "pod", "podmonitor": "pod",
    "podlog": "pod", "operatorstate": "operator", "clusteroperatormonitor": "operator",
}  # fmt: skip
_FLAT_TEST = re.compile(r'e2e-test/"((?:[^"\\]|\\.)*)"')


def from_openshift(data: bytes, name: str) -> list[Interval]:
    """Intervals from one of OpenShift's interval files; ValueError says what is wrong."""
    doc = json_object(data)
    items = doc.get("items")
    if not isinstance(items, list):
        raise ValueError('no "items" list')
    return [i for i in (_openshift_item(x) for x in items if isinstance(x, dict)) if i]


def _openshift_item(item: dict[str, Any]) -> Interval | None:
    start = parse_time(item.get("from"))
    if start is None:
        return None
    locator, message = _structured(item)
    keys = _obj(locator.get("keys"))
    ltype = str(locator.get("type") or "")
    flat = _str(item.get("locator"))
    origin = str(item.get("source") or item.get("tempSource") or "").lower()
    kind = (_KINDS.get(ltype.lower()) or _flat_kind(flat) or _SOURCE_KINDS.get(origin)
            or ltype.lower() or "event")  # fmt: skip
    annotations = message.get("annotations")
    annotations = annotations if isinstance(annotations, dict) else {}
    human = str(message.get("humanMessage") or "")
    reason = str(message.get("reason") or annotations.get("reason") or "")
    flat_message = _str(item.get("message"))
    text = " ".join(t for t in (reason, human or flat_message) if t) or ltype or "interval"
    row = _row(kind, keys, flat)
    level = str(item.get("level") or "Info").lower()
    failed = kind == "test" and (
        str(annotations.get("status", "")).lower() == "failed" or '"failed"' in text.lower()
    )
    if failed:
        level = "error"
    return _interval(start, parse_time(item.get("to")), "openshift", kind, row, text, level,
                     failed)  # fmt: skip


def _structured(item: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(locator, message) as objects, from the structured or the transitional fields."""
    locator = item.get("locator")
    if not isinstance(locator, dict):
        locator = item.get("tempStructuredLocator")
    message = item.get("message")
    if not isinstance(message, dict):
        message = item.get("tempStructuredMessage")
    return (locator if isinstance(locator, dict) else {},
            message if isinstance(message, dict) else {})  # fmt: skip


def _flat_kind(locator: str) -> str | None:
    for prefix, kind in _FLAT_KINDS:
        if locator.startswith(prefix) or f" {prefix}" in locator:
            return kind
    return None


def _row(kind: str, keys: dict[str, Any], flat: str) -> str:
    if kind == "test":
        if keys.get("e2e-test"):
            return str(keys["e2e-test"])
        found = _FLAT_TEST.search(flat)
        if found:
            return found.group(1).replace('\\"', '"')
    if keys:
        order = ("namespace", "node", "pod", "uid", "container", "alert")
        ranked = sorted(keys, key=lambda k: (order.index(k) if k in order else len(order), k))
        return " ".join(f"{k}/{keys[k]}" for k in ranked if k not in ("uid", "hmsg"))
    return flat or kind


# -- Kubernetes Events ----------------------------------------------------------------------


def from_events(data: bytes) -> list[Interval]:
    """Intervals from a gathered ``EventList`` (core/v1 or events.k8s.io/v1 items)."""
    doc = json_object(data)
    items = doc.get("items")
    if not isinstance(items, list):
        raise ValueError('no "items" list')
    return [i for i in (_event(x) for x in items if isinstance(x, dict)) if i]


def _event(e: dict[str, Any]) -> Interval | None:
    obj = e.get("involvedObject") or e.get("regarding")
    obj = obj if isinstance(obj, dict) else {}
    series = _obj(e.get("series"))
    start = parse_time(e.get("firstTimestamp")) or parse_time(e.get("eventTime"))
    if start is None:
        meta = _obj(e.get("metadata"))
        start = parse_time(meta.get("creationTimestamp"))
    if start is None:
        return None
    end = parse_time(e.get("lastTimestamp")) or parse_time(series.get("lastObservedTime"))
    okind = str(obj.get("kind") or "")
    kind = {"Node": "node", "Pod": "pod"}.get(okind, "event")
    where = f"ns/{obj['namespace']} " if obj.get("namespace") else ""
    row = f"{where}{okind.lower() or 'object'}/{obj.get('name') or '?'}"
    count = e.get("count") or series.get("count")
    text = f"{e.get('reason') or ''} {e.get('message') or e.get('note') or ''}".strip()
    if isinstance(count, int) and not isinstance(count, bool) and count > 1:
        text += f" (×{count})"
    level = "warning" if str(e.get("type") or "").lower() == "warning" else "info"
    return _interval(start, end, "events", kind, row, text, level)


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def json_object(data: bytes) -> dict[str, Any]:
    """``data`` as a JSON object; ValueError says why it is not one."""
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"malformed JSON ({str(exc)[:200]})") from None
    if not isinstance(doc, dict):
        raise ValueError("not a JSON object")
    return doc


# -- the whole --------------------------------------------------------------------------------


def _rank(i: Interval) -> tuple[int, int, int]:
    """What is kept first when a run has too many: failed, errors, the run and its pod,
    tests, warnings, then the rest."""
    return (
        0 if i.failed else 1,
        {"error": 0, "warning": 2}.get(i.level, 3) if i.kind not in ("run", "container") else 1,
        0 if i.kind == "test" else 1,
    )


def build(parts: Iterable[Interval], unplaced: int = 0, errors: Iterable[str] = (),
          limit: int = MAX_INTERVALS, dropped: int = 0) -> Timeline:  # fmt: skip
    """The run's timeline: intervals de-duplicated, capped at ``limit`` (most telling
    first), then in time order; ``dropped`` counts intervals left out before."""
    unique = list(dict.fromkeys(parts))
    kept = sorted(unique, key=_rank)[:limit] if len(unique) > limit else unique
    kept.sort(key=lambda i: (i.start, i.end, i.kind, i.row))
    return Timeline(kept, dropped + len(unique) - len(kept), unplaced, list(errors))


def encode(t: Timeline) -> bytes:
    """The stored form: zlib-compressed JSON, intervals as rows."""
    rows = [[i.start, i.end, i.source, i.kind, i.row, i.text, i.level, int(i.failed)]
            for i in t.intervals]  # fmt: skip
    doc = {"v": 1, "rows": rows, "dropped": t.dropped, "unplaced": t.unplaced,
           "errors": t.errors}  # fmt: skip
    return zlib.compress(json.dumps(doc, separators=(",", ":")).encode(), 6)


def decode(blob: bytes) -> Timeline:
    doc = json.loads(zlib.decompress(blob))
    intervals = [
        Interval(r[0], r[1], r[2], r[3], r[4], r[5], r[6], bool(r[7])) for r in doc["rows"]
    ]
    return Timeline(intervals, doc["dropped"], doc["unplaced"], doc.get("errors") or [])


def rows_of(t: Timeline) -> Iterator[tuple[str, str]]:
    """Each lane (kind, row) in the order first seen: what the view draws."""
    seen: dict[tuple[str, str], None] = {}
    for i in t.intervals:
        seen.setdefault((i.kind, i.row), None)
    yield from seen
