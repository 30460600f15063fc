"""Writing parsed runs: one transaction per batch of whole runs.

Names (jobs, tests, rosters, failure texts) are interned by digest with
``ON CONFLICT DO NOTHING`` then read back, so two importers never collide. A run seen
pending before is deleted (its rows cascade) and written again whole.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.schema import Table

from kubesift.ci import junit, logs, symptom_store, timeline, variants
from kubesift.ci.run import ParsedRun
from kubesift.store.schema import (
    ci_daily,
    ci_daily_variants,
    ci_jobs,
    ci_logs,
    ci_results,
    ci_rosters,
    ci_run_files,
    ci_run_symptoms,
    ci_runs,
    ci_symptoms,
    ci_tests,
    ci_texts,
    ci_timelines,
)
from kubesift.store.writes import dialect_insert, without_nul
from kubesift.timeutil import utcnow_iso

CHUNK = 500


def digest(*parts: str) -> str:
    return hashlib.sha1("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def save_runs(
    engine: Engine, source: str, runs: Sequence[ParsedRun], rules: variants.Rules
) -> None:
    """Store ``runs`` (replacing pending ones of the same path) in one transaction."""
    now = utcnow_iso()
    with engine.begin() as conn:
        conn.execute(
            delete(ci_runs).where(
                ci_runs.c.source == source, ci_runs.c.path.in_([r.where.path for r in runs])
            )
        )
        jobs = _intern(
            conn,
            ci_jobs,
            "name",
            {
                r.where.job: {
                    "name": r.where.job,
                    "kind": r.meta.kind,
                    "variants": variants.key(rules.of_job(r.where.job)),
                    "first_seen_at": now,
                }
                for r in runs
            },
        )
        tests = _intern_tests(conn, runs, rules)
        texts = _intern(
            conn,
            ci_texts,
            "digest",
            {
                digest(o.text): {"digest": digest(o.text), "text": o.text}
                for r in runs
                for o in r.outcomes
                if o.status != junit.PASS
            },
        )
        rosters = _intern_rosters(conn, runs, tests)
        # a symptom removed while the import ran is not written
        defined = {i for (i,) in conn.execute(select(ci_symptoms.c.id))} if any(
            r.symptoms for r in runs
        ) else set()  # fmt: skip
        for run in runs:
            _save_run(conn, source, run, jobs, tests, texts, rosters, now, defined)
        _add_daily(conn, runs, jobs, tests)


def _intern(
    conn: Connection, table: Table, key: str, rows: dict[str, dict[str, Any]]
) -> dict[str, int]:
    """Ids of ``rows`` by ``key``, inserting the missing ones."""
    ids: dict[str, int] = {}
    keys = list(rows)
    for i in range(0, len(keys), CHUNK):
        chunk = keys[i : i + CHUNK]
        ids.update(_ids(conn, table, key, chunk))
        missing = [rows[k] for k in chunk if k not in ids]
        if missing:
            stmt = dialect_insert(conn, table).on_conflict_do_nothing(index_elements=[key])  # type: ignore[attr-defined]
            conn.execute(stmt, without_nul(missing))
            ids.update(_ids(conn, table, key, [k for k in chunk if k not in ids]))
    return ids


def _ids(conn: Connection, table: Table, key: str, values: Iterable[str]) -> dict[str, int]:
    col = table.c[key]
    return {k: i for k, i in conn.execute(select(col, table.c.id).where(col.in_(list(values))))}


def _intern_tests(
    conn: Connection, runs: Sequence[ParsedRun], rules: variants.Rules
) -> dict[tuple[str, str], int]:
    """Ids of every test the runs hold, inserting new ones a chunk at a time (a run of a
    million distinct tests never has a million rows to insert built at once)."""
    ids: dict[tuple[str, str], int] = {}
    chunk: dict[str, dict[str, Any]] = {}
    keys: dict[str, tuple[str, str]] = {}

    def flush() -> None:
        for d, i in _intern(conn, ci_tests, "digest", chunk).items():
            ids[keys[d]] = i
        chunk.clear()
        keys.clear()

    for r in runs:
        for o in r.outcomes:
            key = (o.suite, o.name)
            if key in ids:
                continue
            d = digest(o.suite, o.name)
            if d not in chunk:
                keys[d] = key
                chunk[d] = {
                    "suite": o.suite,
                    "name": o.name,
                    "digest": d,
                    "component": rules.component(o.name),
                    "lifecycle": o.lifecycle,
                }
                if len(chunk) >= CHUNK:
                    flush()
    flush()
    return ids


def _roster(run: ParsedRun, tests: dict[tuple[str, str], int]) -> str:
    return ",".join(str(i) for i in sorted(tests[(o.suite, o.name)] for o in run.outcomes))


def _intern_rosters(
    conn: Connection, runs: Sequence[ParsedRun], tests: dict[tuple[str, str], int]
) -> dict[str, int]:
    rows: dict[str, dict[str, Any]] = {}
    for r in runs:
        if r.outcomes:
            text = _roster(r, tests)
            rows.setdefault(digest(text), {"digest": digest(text), "tests": text})
    return _intern(conn, ci_rosters, "digest", rows)


def _save_run(
    conn: Connection,
    source: str,
    run: ParsedRun,
    jobs: dict[str, int],
    tests: dict[tuple[str, str], int],
    texts: dict[str, int],
    rosters: dict[str, int],
    now: str,
    symptoms: set[str],
) -> None:
    m = run.meta
    started = m.started_at or m.finished_at
    row = {
        "source": source,
        "path": run.where.path,
        "job_id": jobs[run.where.job],
        "build": run.where.build,
        "kind": m.kind,
        "state": m.state,
        "repo": m.repo,
        "pr": m.pr,
        "pr_author": m.pr_author,
        "started_at": m.started_at,
        "finished_at": m.finished_at,
        "day": (started or now)[:10],
        "version": m.version,
        "url": m.url,
        "tests": len(run.outcomes),
        "failures": run.failures,
        "flakes": run.flakes,
        "skipped": run.skipped,
        "roster_id": rosters[digest(_roster(run, tests))] if run.outcomes else None,
        "errors": json.dumps(run.errors) if run.errors else None,
        "imported_at": now,
        "sha": m.pr_sha,
        "pod_state": run.pod[0] if run.pod else None,
        "pod_message": run.pod[1] if run.pod else None,
    }
    run_id = conn.execute(ci_runs.insert().returning(ci_runs.c.id), without_nul([row])).scalar_one()
    results = [
        {
            "run_id": run_id,
            "test_id": tests[(o.suite, o.name)],
            "status": o.status,
            "text_id": texts[digest(o.text)],
            "seconds": o.time,
            "attempts": o.attempts,
            "masked": (o.suite, o.name) in run.masked,
        }
        for o in run.outcomes
        if o.status != junit.PASS
    ]
    if results:
        conn.execute(ci_results.insert(), results)
    if run.log_tail is not None:
        conn.execute(
            ci_logs.insert(), [{"run_id": run_id, "size": run.log_size, "tail": run.log_tail}]
        )
    if run.log_chunks:
        logs.save(conn, run_id, run.log_chunks)
    if run.files is not None:
        conn.execute(
            ci_run_files.insert(),
            [{"run_id": run_id, "files": len(run.files),
              "paths": symptom_store.encode_paths(run.files)}],
        )  # fmt: skip
    labels = [{"run_id": run_id, "symptom_id": s} for s in run.symptoms if s in symptoms]
    if labels:
        conn.execute(ci_run_symptoms.insert(), labels)
    if run.timeline is not None:
        t = timeline.decode(run.timeline)
        conn.execute(
            ci_timelines.insert(),
            [{"run_id": run_id, "intervals": len(t.intervals),
              "failed": sum(i.failed for i in t.intervals), "body": run.timeline}],
        )  # fmt: skip


#: Outcomes counted before the per-day counts are written (bounds the memory a batch of
#: runs with a million distinct tests needs).
DAILY_CHUNK = 200_000


def _add_daily(
    conn: Connection,
    runs: Sequence[ParsedRun],
    jobs: dict[str, int],
    tests: dict[tuple[str, str], int],
) -> None:
    """Add finished runs' outcomes to the per day × job × test counts (masked failures
    are not counted at all), written every :data:`DAILY_CHUNK` outcomes."""
    counts: dict[tuple[str, int, int], list[int]] = {}
    held = 0
    for run in runs:
        if not run.finished:
            continue
        day = (run.meta.started_at or run.meta.finished_at or utcnow_iso())[:10]
        job = jobs[run.where.job]
        for o in run.outcomes:
            if (o.suite, o.name) in run.masked:
                continue
            c = counts.setdefault((day, job, tests[(o.suite, o.name)]), [0, 0, 0, 0])
            c[0] += 1
            c[1 if o.status == junit.PASS else 2 if o.status == junit.FLAKY else 3] += 1
            held += 1
            if held >= DAILY_CHUNK:
                _write_daily(conn, counts)
                counts, held = {}, 0
    _write_daily(conn, counts)


def _write_daily(conn: Connection, counts: dict[tuple[str, int, int], list[int]]) -> None:
    if not counts:
        return
    _upsert_counts(conn, ci_daily, "job_id", counts)
    kinds = _job_facts(conn, {j for _, j, _ in counts})
    by_variant: dict[tuple[str, str, int], list[int]] = {}
    for (day, job, test), c in counts.items():
        kind, var = kinds[job]
        if kind == "presubmit":  # unmerged code: not part of Component Readiness
            continue
        agg = by_variant.setdefault((day, var, test), [0, 0, 0, 0])
        for k in range(4):
            agg[k] += c[k]
    _upsert_counts(conn, ci_daily_variants, "variants", by_variant)


COUNTS = ("runs", "passes", "flakes", "failures")


def _upsert_counts(
    conn: Connection, table: Table, middle: str, counts: dict[tuple[Any, Any, int], list[int]]
) -> None:
    """Add ``counts`` (day, ``middle``, test) → [runs, passes, flakes, failures] to ``table``."""
    ins = dialect_insert(conn, table)
    stmt = ins.on_conflict_do_update(  # type: ignore[attr-defined]
        index_elements=[table.c.day, table.c[middle], table.c.test_id],
        set_={name: table.c[name] + ins.excluded[name] for name in COUNTS},  # type: ignore[attr-defined]
    )
    rows: list[dict[str, Any]] = []  # built 5,000 at a time, not all at once
    for (d, m, t), c in counts.items():
        rows.append({"day": d, middle: m, "test_id": t, **dict(zip(COUNTS, c, strict=True))})
        if len(rows) == 5000:
            conn.execute(stmt, rows)
            rows = []
    if rows:
        conn.execute(stmt, rows)


def _job_facts(conn: Connection, ids: set[int]) -> dict[int, tuple[str, str]]:
    rows = conn.execute(
        select(ci_jobs.c.id, ci_jobs.c.kind, ci_jobs.c.variants).where(ci_jobs.c.id.in_(ids))
    )
    return {i: (k, v) for i, k, v in rows}


def rederive(engine: Engine, rules: variants.Rules) -> dict[str, int]:
    """Apply changed rules to what is stored: each job's variants, each test's component,
    and the per-variant counts rebuilt from the per-job ones, in one transaction."""
    with engine.begin() as conn:
        changed_jobs = changed_tests = 0
        for jid, name, old in conn.execute(
            select(ci_jobs.c.id, ci_jobs.c.name, ci_jobs.c.variants)
        ).all():
            new = variants.key(rules.of_job(name))
            if new != old:
                conn.execute(update(ci_jobs).where(ci_jobs.c.id == jid).values(variants=new))
                changed_jobs += 1
        for tid, name, old in conn.execute(
            select(ci_tests.c.id, ci_tests.c.name, ci_tests.c.component)
        ).all():
            new = rules.component(name)
            if new != old:
                conn.execute(update(ci_tests).where(ci_tests.c.id == tid).values(component=new))
                changed_tests += 1
        rows = rebuild_variant_counts(conn)
    return {"jobs_changed": changed_jobs, "tests_changed": changed_tests, "variant_rows": rows}


def rebuild_variant_counts(conn: Connection) -> int:
    """The per-variant daily counts summed again from the per-job ones; how many rows."""
    conn.execute(delete(ci_daily_variants))
    summed = [func.sum(ci_daily.c[name]) for name in COUNTS]
    source = (
        select(ci_daily.c.day, ci_jobs.c.variants, ci_daily.c.test_id, *summed)
        .join(ci_jobs, ci_jobs.c.id == ci_daily.c.job_id)
        .where(ci_jobs.c.kind != "presubmit")
        .group_by(ci_daily.c.day, ci_jobs.c.variants, ci_daily.c.test_id)
    )
    conn.execute(
        ci_daily_variants.insert().from_select(["day", "variants", "test_id", *COUNTS], source)
    )
    return int(conn.execute(select(func.count()).select_from(ci_daily_variants)).scalar_one())
