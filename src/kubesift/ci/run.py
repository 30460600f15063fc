"""One Prow run from its files: metadata, one outcome per test, errors. Pure.

A file that cannot be read is an error line naming it; the rest of the run is kept.
When a key test failed, the run's other failures are masked (Sippy's mass-failure
rule: an install that failed makes every later failure noise); the highest-priority
(first listed) failing key test stays.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from kubesift.ci import junit, timeline
from kubesift.ci.prow import RunMeta, RunPath, read_meta
from kubesift.errors import CIInputError
from kubesift.timeutil import shift, utcnow_iso

STALE_HOURS = 24
#: The most distinct tests one run may hold (its JUnit files together): with the per-file
#: size cap, what bounds a reader's memory (a million tests is about 0.6 GB).
MAX_RUN_TESTS = 1_500_000


@dataclass
class ParsedRun:
    where: RunPath
    meta: RunMeta
    outcomes: list[junit.Outcome] = field(default_factory=list)
    masked: set[tuple[str, str]] = field(default_factory=set)
    skipped: int = 0
    junit_files: int = 0
    errors: list[str] = field(default_factory=list)
    #: how many of the run's files were bad and skipped (each named in ``errors``)
    files_skipped: int = 0
    log_size: int | None = None
    log_tail: bytes | None = None
    #: a failed run's whole kept log, in chunks (kubesift.ci.logs)
    log_chunks: list[bytes] | None = None
    #: the run's timeline, encoded (:func:`kubesift.ci.timeline.encode`); None when empty
    timeline: bytes | None = None
    #: a failed run's file paths (relative to the run) and the symptoms it matched
    files: list[str] | None = None
    symptoms: list[str] = field(default_factory=list)
    #: the test pod from podinfo.json: (ok | failed, why); None without podinfo
    pod: tuple[str, str] | None = None

    def __getstate__(self) -> dict[str, object]:
        # Sent from a reader process to the importer as columns, not a million pickled
        # objects: a third smaller, ten times faster, and half the memory to unpickle.
        state = dict(self.__dict__)
        fields = ("suite", "name", "status", "text", "time", "attempts", "lifecycle", "fails")
        state["outcomes"] = tuple([getattr(o, f) for o in self.outcomes] for f in fields)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state["outcomes"] = [junit.Outcome(*row) for row in zip(*state["outcomes"], strict=True)]
        self.__dict__.update(state)

    @property
    def finished(self) -> bool:
        return self.meta.state != "pending"

    @property
    def failures(self) -> int:
        return sum(o.status == junit.FAIL for o in self.outcomes)

    @property
    def flakes(self) -> int:
        return sum(o.status == junit.FLAKY for o in self.outcomes)


def parse_run(
    where: RunPath,
    meta_files: dict[str, bytes],
    junit_files: dict[str, bytes],
    key_tests: Sequence[str] = (),
    now: str | None = None,
    timeline_files: dict[str, bytes] | None = None,
    renames: dict[str, str] | None = None,
) -> ParsedRun:
    """The run's record from its JSON metadata, JUnit files and timeline files (each
    name → bytes)."""
    now = now or utcnow_iso()
    meta, errors = read_meta(where, meta_files)
    run = ParsedRun(
        where=where, meta=meta, errors=errors, junit_files=len(junit_files),
        files_skipped=len(errors),
    )  # fmt: skip
    tally = junit.Tally()
    times = timeline.JUnitTimes()
    for name, data in sorted(junit_files.items()):
        # each file whole or not at all: a malformed one adds nothing of what it held
        one = junit.Tally()
        file_times = timeline.JUnitTimes()
        try:
            for case in junit.iter_cases(data, f"{where.path}/{name}"):
                one.add(case)
                file_times.add(name, case)
        except CIInputError as exc:
            run.errors.append(f"{exc.message}; file skipped")
            run.files_skipped += 1
            continue
        if len(tally.seen) + len(one.seen) > MAX_RUN_TESTS:
            run.errors.append(
                f"{where.path}/{name}: would take the run past {MAX_RUN_TESTS:,} distinct "
                "tests; file skipped"
            )
            run.files_skipped += 1
            continue
        tally.merge(one)
        times.absorb(file_times)
    run.outcomes, run.skipped = tally.outcomes(), tally.skipped
    if renames:  # an old test name is recorded as its new one (kubesift.ci.renames)
        from kubesift.ci.renames import apply_to_outcomes

        run.outcomes = apply_to_outcomes(run.outcomes, renames)
    run.masked = _masked(run.outcomes, key_tests)
    if run.meta.state == "pending":
        run.meta = replace(run.meta, state=_unfinished_state(run, now))
    run.timeline = _timeline(run, meta_files, times, timeline_files or {})
    return run


def _timeline(
    run: ParsedRun,
    meta_files: dict[str, bytes],
    times: timeline.JUnitTimes,
    files: dict[str, bytes],
) -> bytes | None:
    """The run's timeline from its metadata, JUnit times and timeline files; a bad file is
    named in the run's errors and the timeline's, and the rest is kept."""
    parts = timeline.from_run(run.meta.started_at, run.meta.finished_at, run.meta.state)
    podinfo = meta_files.get("podinfo.json")
    if podinfo:
        with contextlib.suppress(ValueError):  # a bad one is named by the metadata check
            containers = timeline.from_podinfo(timeline.json_object(podinfo))
            parts += containers
            run.pod = _pod(containers)
    parts += times.intervals()
    problems: list[str] = []
    for name, data in sorted(files.items()):
        try:
            if timeline.is_openshift_file(name):
                parts += timeline.from_openshift(data, name)
            else:
                parts += timeline.from_events(data)
        except ValueError as exc:
            problems.append(f"{run.where.path}/{name}: {exc}; file skipped")
    run.errors += problems
    run.files_skipped += len(problems)
    if not parts:
        return None
    return timeline.encode(timeline.build(parts, times.unplaced, problems, dropped=times.over))


def _pod(containers: list[timeline.Interval]) -> tuple[str, str]:
    """TestGrid's Pod row from the pod's containers: failed when one exited non-zero."""
    failed = [c.text for c in containers if c.failed]
    if failed:
        return "failed", "; ".join(failed)[:255]
    if not containers:
        return "ok", "podinfo.json has no container states"
    return "ok", f"{len(containers)} containers ran and exited 0 or still run"


def _unfinished_state(run: ParsedRun, now: str) -> str:
    """A run without finished.json: pending while it may still run (TestGrid waits 24 h);
    a tree with no started.json either is judged on its JUnit alone."""
    started = run.meta.started_at
    if started is None:
        if not run.outcomes:
            return "error"
        return "failure" if run.failures else "success"
    if started > shift(now, -STALE_HOURS * 3600):
        return "pending"
    run.errors.append(f"{run.where.path}: did not complete within {STALE_HOURS} hours")
    return "error"


def _masked(outcomes: list[junit.Outcome], key_tests: Sequence[str]) -> set[tuple[str, str]]:
    if not key_tests:
        return set()
    failed_keys = {o.name for o in outcomes if o.status == junit.FAIL and o.name in key_tests}
    if not failed_keys:
        return set()
    keep = next(k for k in key_tests if k in failed_keys)
    return {(o.suite, o.name) for o in outcomes if o.status == junit.FAIL and o.name != keep}
