"""The durable job queue in the store: one row per delivery, leased by workers.

A delivery id is unique, so a redelivery finds its row and is not queued twice. A worker
leases a job by a conditional UPDATE (``status`` still queued, or its lease expired), so a
worker killed mid-job leaves a lease that runs out and another worker takes the job over.
Only one job per item is leased at a time. Plain SQL on SQLite and PostgreSQL alike, except
for one advisory lock per item that PostgreSQL needs (see :func:`_claim_item`).
"""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, true, update
from sqlalchemy.engine import Connection, Engine

from kubesift.retry import backoff as _backoff
from kubesift.store.schema import bot_jobs
from kubesift.store.writes import dialect_insert
from kubesift.timeutil import stamp


@dataclass(frozen=True)
class Job:
    id: int
    delivery_id: str
    event: str
    payload: str
    attempts: int


def enqueue(
    conn: Connection,
    delivery_id: str,
    event: str,
    payload: str,
    *,
    action: str | None = None,
    repo: str | None = None,
    number: int | None = None,
) -> bool:
    """Queue a delivery; False when that delivery id is already known (a redelivery)."""
    now = stamp()
    stmt = (
        dialect_insert(conn, bot_jobs)
        .values(
            delivery_id=delivery_id,
            event=event,
            action=action,
            repo=repo,
            number=number,
            payload=payload,
            status="queued",
            attempts=0,
            next_attempt_at=now,
            received_at=now,
        )
        .on_conflict_do_nothing(index_elements=["delivery_id"])  # type: ignore[attr-defined]
        .returning(bot_jobs.c.id)
    )
    # Whether a row came back, not ``rowcount``: with psycopg, SQLAlchemy reports 1 for an
    # INSERT ... ON CONFLICT DO NOTHING that inserted nothing (its implicit RETURNING).
    return conn.execute(stmt).first() is not None


def _leasable(now: str) -> Any:
    return or_(
        and_(bot_jobs.c.status == "queued", bot_jobs.c.next_attempt_at <= now),
        and_(bot_jobs.c.status == "running", bot_jobs.c.locked_until < now),
    )


def enqueue_many(conn: Connection, jobs: list[dict[str, Any]]) -> list[bool]:
    """Queue a batch of deliveries in one statement; per job, False for a redelivery.

    The same semantics as :func:`enqueue` (a delivery id is queued once, whichever copy
    arrives first), with one lookup and one multi-row insert instead of one per job.
    """
    ids = [str(j["delivery_id"]) for j in jobs]
    known = set(
        conn.execute(
            select(bot_jobs.c.delivery_id).where(bot_jobs.c.delivery_id.in_(ids))
        ).scalars()
    )
    fresh: list[bool] = []
    rows = []
    now = stamp()
    for job in jobs:
        new = job["delivery_id"] not in known
        fresh.append(new)
        if new:
            known.add(job["delivery_id"])
            rows.append(
                {**job, "status": "queued", "attempts": 0, "next_attempt_at": now,
                 "received_at": now}
            )  # fmt: skip
    if rows:
        stmt = dialect_insert(conn, bot_jobs).on_conflict_do_nothing(  # type: ignore[attr-defined]
            index_elements=["delivery_id"]
        )
        conn.execute(stmt, rows)
    return fresh


def lease(engine: Engine, worker: str, seconds: float, scan: int = 16) -> Job | None:
    """Take the oldest job that is due and whose item no other worker holds.

    Candidates come straight off the (status, next_attempt_at) index, and the UPDATE that
    leases one checks its own item with an indexed lookup, so a lease costs the same whether
    one job or ten thousand are queued (a correlated NOT EXISTS over all candidates made it
    quadratic). The check and the lease are one statement: on SQLite it runs under the
    write lock, so two workers cannot both find an item free.
    """
    now = stamp()
    with engine.begin() as conn:
        for job_id, repo, number in _candidates(conn, now, scan):
            if not _claim_item(conn, repo, number):
                continue
            taken = conn.execute(
                update(bot_jobs)
                .where(
                    bot_jobs.c.id == job_id, _leasable(now), _item_free(job_id, repo, number, now)
                )
                .values(
                    status="running",
                    locked_by=worker,
                    locked_until=stamp(time.time() + seconds),
                    attempts=bot_jobs.c.attempts + 1,
                )
            ).rowcount
            if taken:
                row = conn.execute(
                    select(
                        bot_jobs.c.delivery_id,
                        bot_jobs.c.event,
                        bot_jobs.c.payload,
                        bot_jobs.c.attempts,
                    ).where(bot_jobs.c.id == job_id)
                ).one()
                return Job(int(job_id), str(row[0]), str(row[1]), str(row[2]), int(row[3]))
    return None


def _candidates(conn: Connection, now: str, scan: int) -> list[tuple[int, Any, Any]]:
    # FOR UPDATE SKIP LOCKED: on PostgreSQL concurrent workers look at different candidates
    # instead of queueing on each other's rows. SQLite (one writer at a time) has no such
    # clause and SQLAlchemy leaves it out there.
    cols = (bot_jobs.c.id, bot_jobs.c.repo, bot_jobs.c.number)
    due = conn.execute(
        select(*cols)
        .where(bot_jobs.c.status == "queued", bot_jobs.c.next_attempt_at <= now)
        .order_by(bot_jobs.c.next_attempt_at, bot_jobs.c.id)
        .limit(scan)
        .with_for_update(skip_locked=True)
    ).all()
    expired = conn.execute(
        select(*cols)
        .where(bot_jobs.c.status == "running", bot_jobs.c.locked_until < now)
        .limit(scan)
        .with_for_update(skip_locked=True)
    ).all()
    return [(int(r[0]), r[1], r[2]) for r in [*expired, *due]]


# Namespace of the per-item advisory locks (the high 32 bits of the key): "ksbq".
_ITEM_LOCK_SPACE = 0x6B736271 << 32


def _claim_item(conn: Connection, repo: Any, number: Any) -> bool:
    """Whether this transaction may lease a job of ``repo#number`` now.

    PostgreSQL-only, because only there do leases run concurrently: under READ COMMITTED two
    workers leasing two jobs of one item would each not see the other's uncommitted lease,
    and both would win. A transaction-scoped advisory lock per item serialises them; a
    worker that cannot take it at once skips the item, as SKIP LOCKED skips rows. SQLite
    runs one writing transaction at a time, which gives the same guarantee for free.
    """
    if repo is None or number is None or conn.dialect.name != "postgresql":
        return True
    key = _ITEM_LOCK_SPACE | zlib.crc32(f"{repo}#{number}".encode())
    return bool(conn.execute(select(func.pg_try_advisory_xact_lock(key))).scalar())


def _item_free(job_id: int, repo: Any, number: Any, now: str) -> Any:
    """No other job of the same item holds a live lease (true for jobs without an item)."""
    if repo is None or number is None:
        return true()
    other = bot_jobs.alias("other")
    return ~exists().where(
        other.c.repo == repo,
        other.c.number == number,
        other.c.status == "running",
        other.c.locked_until >= now,
        other.c.id != job_id,
    )


def finish(conn: Connection, job: Job, worker: str, outcome: str) -> bool:
    """Mark a job done, if this worker still holds it (False: the lease was lost)."""
    return bool(
        conn.execute(
            update(bot_jobs)
            .where(
                bot_jobs.c.id == job.id,
                bot_jobs.c.status == "running",
                bot_jobs.c.locked_by == worker,
            )
            .values(status="done", finished_at=stamp(), outcome=outcome[:64], locked_until=None)
        ).rowcount
    )


def retry(
    engine: Engine, job: Job, worker: str, error: str, delay: float, max_attempts: int
) -> str:
    """Put a failed job back with a delay, or give up after ``max_attempts``."""
    status = "failed" if job.attempts >= max_attempts else "queued"
    with engine.begin() as conn:
        conn.execute(
            update(bot_jobs)
            .where(bot_jobs.c.id == job.id, bot_jobs.c.locked_by == worker)
            .values(
                status=status,
                next_attempt_at=stamp(time.time() + delay),
                locked_until=None,
                error=error[:2000],
                finished_at=stamp() if status == "failed" else None,
            )
        )
    return status


def fail(engine: Engine, job: Job, worker: str, reason: str) -> None:
    """End a job as failed at once, with its reason (a retry could not succeed)."""
    with engine.begin() as conn:
        conn.execute(
            update(bot_jobs)
            .where(bot_jobs.c.id == job.id, bot_jobs.c.locked_by == worker)
            .values(
                status="failed",
                outcome="failed permanently",
                locked_until=None,
                error=reason[:2000],
                finished_at=stamp(),
            )
        )


def failures(conn: Connection, limit: int = 10) -> list[dict[str, Any]]:
    """The most recent failed jobs, newest first, with what went wrong."""
    rows = conn.execute(
        select(
            bot_jobs.c.delivery_id,
            bot_jobs.c.event,
            bot_jobs.c.repo,
            bot_jobs.c.number,
            bot_jobs.c.attempts,
            bot_jobs.c.outcome,
            bot_jobs.c.error,
            bot_jobs.c.finished_at,
        )
        .where(bot_jobs.c.status == "failed")
        .order_by(bot_jobs.c.finished_at.desc(), bot_jobs.c.id.desc())
        .limit(limit)
    ).mappings()
    return [
        {**row, "outcome": row["outcome"] or f"gave up after {row['attempts']} attempts"}
        for row in rows
    ]


def counts(conn: Connection) -> dict[str, int]:
    """Jobs by status."""
    rows = conn.execute(select(bot_jobs.c.status, func.count()).group_by(bot_jobs.c.status))
    return {str(s): int(n) for s, n in rows}


def backoff(attempts: int, base: float, cap: float = 600.0) -> float:
    """Seconds before attempt ``attempts + 1`` of a job that failed ``attempts`` times
    (:func:`kubesift.retry.backoff`)."""
    return _backoff(attempts - 1, base, cap)
