"""``kubesift ci import``: discover runs, read and parse them, save them.

fetch (discover + read + parse, in worker processes for a local tree) / save (one
transaction per batch of whole runs: a run's rows are never half-written, and the
daily counts move with them) / ensure-schema (the store's migrations). Incremental:
runs stored as finished are skipped; pending runs are read again and replaced once
they finish.
"""

from __future__ import annotations

import functools
import os
import time
import zlib
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from kubesift.ci import logs, prow, renames, symptom_store, timeline
from kubesift.ci import symptoms as symptoms_mod
from kubesift.ci.run import ParsedRun, parse_run
from kubesift.ci.save import save_runs
from kubesift.ci.sources import LocalSource, Source, TooBig
from kubesift.ci.variants import Rules
from kubesift.collect.progress import Progress, SilentProgress
from kubesift.errors import CIInputError
from kubesift.store.schema import ci_runs
from kubesift.userregex import UserRegex, compile_user

DEFAULT_LOG_TAIL = 256 * 1024
BATCH = 200
#: The largest JUnit file read (``--max-junit-mb``): parsing streams, so a worker holds
#: the file's bytes and one record per distinct test in it.
DEFAULT_MAX_JUNIT = 32 * 1024 * 1024
#: The largest started/finished/prowjob/podinfo JSON read (real ones are kilobytes).
MAX_METADATA = 4 * 1024 * 1024
#: The largest interval or event file read for a run's timeline (OpenShift's run to tens
#: of megabytes).
MAX_TIMELINE_FILE = 64 * 1024 * 1024


@dataclass
class ImportReport:
    source: str
    discovered: int = 0
    already: int = 0  # finished runs stored before
    new: int = 0
    finished_now: int = 0  # pending before, finished now
    pending: int = 0
    results: int = 0
    failures: int = 0
    flakes: int = 0
    errors: list[str] = field(default_factory=list)
    files_skipped: int = 0  # bad files (each named in errors); the rest of their runs kept
    runs_skipped: int = 0  # runs that could not be read at all (named in errors)
    seconds: float = 0.0
    #: (repo, PR, run path) of each presubmit run imported failed, newest last
    failed_prs: list[tuple[str, int, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        rate = (self.new + self.finished_now) / self.seconds if self.seconds else 0.0
        text = (
            f"{self.source}: {self.discovered:,} runs found, {self.new:,} new, "
            f"{self.finished_now:,} finished since last time, {self.already:,} already stored, "
            f"{self.pending:,} still running; {self.results:,} test results "
            f"({self.failures:,} failures, {self.flakes:,} flakes) in {self.seconds:.1f} s"
            f" ({rate:,.0f} runs/s)"
        )
        if self.files_skipped or self.runs_skipped:
            text += f"; {self.files_skipped:,} bad files skipped"
            if self.runs_skipped:
                text += f" and {self.runs_skipped:,} unreadable runs"
        if self.errors:
            text += f" (first problem: {self.errors[0]})"
        return text


#: Log bytes a batch holds before it is written (a batch of 200 runs with 20 MiB logs
#: would otherwise hold 4 GiB).
MAX_BATCH_LOG_BYTES = 256 * 1024 * 1024
#: The most file paths a failed run keeps (for ``file`` symptoms on history).
MAX_RUN_FILES = 50_000


@dataclass(frozen=True)
class ReadOptions:
    key_tests: tuple[str, ...] = ()
    log_tail: int = DEFAULT_LOG_TAIL
    now: str | None = None
    max_junit: int = DEFAULT_MAX_JUNIT
    symptoms: tuple[symptoms_mod.Symptom, ...] = ()
    renames: tuple[tuple[str, str], ...] = ()
    log_keep: int = logs.DEFAULT_KEEP


@functools.lru_cache(maxsize=4)
def _matcher(chosen: tuple[symptoms_mod.Symptom, ...]) -> symptoms_mod.Matcher:
    return symptoms_mod.Matcher(chosen)


def discover(
    source: Source, job: UserRegex | None = None, latest: int | None = None
) -> Iterator[prow.RunPath]:
    """Every run under the source's ``logs/`` and ``pr-logs/pull/``, oldest build first;
    only jobs matching ``job``, and only each job's ``latest`` builds when given."""

    def builds(base: str) -> list[str]:
        found = sorted(source.dirs(base), key=_build_order)
        return found[-latest:] if latest else found

    for name in source.dirs("logs"):
        if job is None or job.search(name):
            for build in builds(f"logs/{name}"):
                where = prow.run_path(f"logs/{name}/{build}")
                if where:
                    yield where
    for org_repo in source.dirs("pr-logs/pull"):
        for pr in source.dirs(f"pr-logs/pull/{org_repo}"):
            for name in source.dirs(f"pr-logs/pull/{org_repo}/{pr}"):
                if job is not None and not job.search(name):
                    continue
                base = f"pr-logs/pull/{org_repo}/{pr}/{name}"
                for build in builds(base):
                    where = prow.run_path(f"{base}/{build}")
                    if where:
                        yield where


def _build_order(build: str) -> tuple[int, str]:
    return (int(build), build) if build.isdigit() else (0, build)


def read_run(source: Source, where: prow.RunPath, opts: ReadOptions) -> ParsedRun:
    """Fetch a run's files and parse them. A file that cannot be read (not a regular file,
    over its size limit, gone) is named in the run's errors and skipped; the rest of the
    run is read."""
    meta: dict[str, bytes] = {}
    units: dict[str, bytes] = {}
    intervals: dict[str, bytes] = {}
    problems: list[str] = []
    log: prow.FileLog | None = None
    paths: list[str] = []
    for f in source.files(where.path):
        rel = f.path[len(where.path) + 1 :]
        if len(paths) < MAX_RUN_FILES:
            paths.append(rel)
        junit = prow.is_junit(rel)
        timed = not junit and timeline.is_timeline_file(rel)
        if rel not in prow.METADATA and not junit and not timed and rel != prow.BUILD_LOG:
            continue
        if not f.regular:
            problems.append(f"{f.path}: not a regular file; file skipped")
        elif rel == prow.BUILD_LOG:
            log = prow.FileLog(f.path, f.size)
        else:
            limit = opts.max_junit if junit else MAX_TIMELINE_FILE if timed else MAX_METADATA
            into = units if junit else intervals if timed else meta
            try:
                if f.size > limit:
                    raise TooBig(f"{f.path}: {f.size:,} bytes, over the {limit:,}-byte limit")
                into[rel] = source.read(f.path, limit=limit)
            except CIInputError as exc:
                problems.append(f"{exc.message}; file skipped")
    run = parse_run(where, meta, units, opts.key_tests, opts.now, intervals, dict(opts.renames))
    run.errors[:0] = problems
    run.files_skipped += len(problems)
    if run.meta.state not in symptom_store.FAILED_STATES:
        return run
    text: str | None = None
    wanted = max(opts.log_tail, opts.log_keep)
    if log is not None and wanted > 0:
        try:
            kept = source.read(log.path, tail=wanted)
        except CIInputError as exc:
            run.errors.append(f"{exc.message}; build log not kept")
        else:
            run.log_size = log.size
            if opts.log_tail > 0:
                tail = kept[-opts.log_tail :]
                run.log_tail = zlib.compress(tail, 6)
                text = tail.decode("utf-8", "replace")
            if opts.log_keep > 0:
                run.log_chunks = logs.split(kept[-opts.log_keep :])
    run.files = paths
    if opts.symptoms:
        failures = [o.text for o in run.outcomes if o.text]
        run.symptoms = _matcher(opts.symptoms).match(text, failures, paths)
    return run


@dataclass(frozen=True)
class Unreadable:
    """A run that could not be read at all: skipped, named, tried again next import."""

    where: prow.RunPath
    message: str


_WORKER: dict[str, Any] = {}


def _read_in_worker(where: prow.RunPath) -> ParsedRun | Unreadable:
    try:
        return read_run(_WORKER["source"], where, _WORKER["opts"])
    except (CIInputError, RecursionError, MemoryError, OverflowError, ValueError) as exc:
        # one run must not stop the batch; what broke it is named instead
        return Unreadable(where, f"{where.path}: {type(exc).__name__}: {str(exc)[:300]}")


def _die_with_parent() -> None:
    """In a reader process: be killed when the importer dies (even by kill -9), rather than
    live on as an orphan. Linux's PR_SET_PDEATHSIG; elsewhere nothing."""
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        return
    if os.getppid() != _WORKER.get("parent"):  # the parent died before prctl took hold
        os._exit(1)


def _executor(source: Source, opts: ReadOptions, workers: int) -> Executor:
    _WORKER.update(source=source, opts=opts, parent=os.getpid())
    if isinstance(source, LocalSource) and workers > 1:
        # forked readers inherit the source; parsing is CPU-bound
        return ProcessPoolExecutor(
            workers, mp_context=get_context("fork"), initializer=_die_with_parent
        )
    return ThreadPoolExecutor(max(1, workers))


def import_runs(
    engine: Engine,
    source: Source,
    rules: Rules,
    progress: Progress | None = None,
    workers: int = 2,
    log_tail: int = DEFAULT_LOG_TAIL,
    now: str | None = None,
    batch_size: int = BATCH,
    job: str | None = None,
    latest: int | None = None,
    max_junit: int = DEFAULT_MAX_JUNIT,
    log_keep: int = logs.DEFAULT_KEEP,
) -> ImportReport:
    """Import every run of ``source`` not stored yet (and pending ones again).

    ``batch_size`` runs are committed per transaction (whole runs only). A bad file is
    skipped and named; a run that cannot be read at all is skipped and named; neither
    stops the rest of the batch."""
    progress = progress or SilentProgress()
    start = time.monotonic()
    report = ImportReport(source=source.name)
    progress.phase("listing runs", None)
    stored = _stored_states(engine, source.name)
    todo: list[prow.RunPath] = []
    for where in discover(source, _job_pattern(job), latest):
        report.discovered += 1
        state = stored.get(where.path)
        if state is not None and state != "pending":
            report.already += 1
        else:
            todo.append(where)
        progress.advance(1, None)
    if report.discovered == 0:
        raise CIInputError(
            f"{source.name}: no Prow runs found"
            + (f" for jobs matching {job!r}" if job else "")
            + " (expected logs/<job>/<build>/ or pr-logs/pull/<org>_<repo>/<pr>/<job>/<build>/)"
        )
    progress.phase("importing runs", len(todo))
    with engine.connect() as conn:
        defined = tuple(symptom_store.load(conn))
        renamed = tuple(sorted(renames.load(conn).items()))
    opts = ReadOptions(
        key_tests=rules.key_tests, log_tail=log_tail, now=now, max_junit=max_junit,
        symptoms=defined, renames=renamed, log_keep=log_keep,
    )  # fmt: skip
    with _executor(source, opts, workers) as pool:
        batch: list[ParsedRun] = []
        held = 0  # log bytes the batch holds: a batch of big logs is written sooner
        for run in pool.map(_read_in_worker, todo, chunksize=8):
            if isinstance(run, Unreadable):
                report.runs_skipped += 1
                report.errors.append(run.message)
                progress.advance(1, None)
                continue
            batch.append(run)
            held += sum(len(c) for c in run.log_chunks or ())
            if len(batch) >= batch_size or held >= MAX_BATCH_LOG_BYTES:
                _save(engine, source.name, batch, rules, stored, report, progress)
                batch, held = [], 0
        _save(engine, source.name, batch, rules, stored, report, progress)
    report.seconds = time.monotonic() - start
    return report


def _job_pattern(job: str | None) -> UserRegex | None:
    return compile_user(job, "--job", smart_case=False) if job else None


def _stored_states(engine: Engine, source: str) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(ci_runs.c.path, ci_runs.c.state).where(ci_runs.c.source == source)
        )
        return {path: state for path, state in rows}


def _save(
    engine: Engine,
    source: str,
    batch: list[ParsedRun],
    rules: Rules,
    stored: dict[str, str],
    report: ImportReport,
    progress: Progress,
) -> None:
    if not batch:
        return
    save_runs(engine, source, batch, rules)
    for run in batch:
        was = stored.get(run.where.path)
        if not run.finished:
            report.pending += 1
        elif was == "pending":
            report.finished_now += 1
        else:
            report.new += 1
        report.results += len(run.outcomes)
        report.failures += run.failures
        report.flakes += run.flakes
        report.errors += run.errors
        report.files_skipped += run.files_skipped
        stored[run.where.path] = run.meta.state
        if run.meta.state in ("failure", "error") and run.meta.repo and run.meta.pr is not None:
            report.failed_prs.append((run.meta.repo, run.meta.pr, run.where.path))
    progress.advance(len(batch), None)
