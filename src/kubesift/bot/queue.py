"""The durable job queue in the store: one row per delivery, leased by workers.

A delivery id is unique, so a redelivery finds its row and is not queued twice. A worker
leases a job by a conditional UPDATE (``status`` still queued, or its lease expired), so a
worker killed mid-job leaves a lease that runs out and another worker takes the job over.
Only one job per item is leased at a time. Plain SQL: SQLite now, PostgreSQL later.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.engine import Connection, Engine

from kubesift.store.schema import bot_jobs
from kubesift.store.writes import dialect_insert


def stamp(at: float | None = None) -> str:
    """A sortable UTC time with microseconds (``2026-01-02T03:04:05.000001Z``)."""
    moment = datetime.fromtimestamp(time.time() if at is None else at, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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
    )
    return bool(conn.execute(stmt).rowcount)


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

    Candidates come straight off the (status, next_attempt_at) index and each is checked
    against its own item with an indexed lookup, so a lease costs the same whether one
    job or ten thousand are queued (a correlated NOT EXISTS made it quadratic).
    """
    now = stamp()
    with engine.begin() as conn:
        for job_id, repo, number in _candidates(conn, now, scan):
            if _item_busy(conn, job_id, repo, number, now):
                continue
            taken = conn.execute(
                update(bot_jobs)
                .where(bot_jobs.c.id == job_id, _leasable(now))
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
    cols = (bot_jobs.c.id, bot_jobs.c.repo, bot_jobs.c.number)
    due = conn.execute(
        select(*cols)
        .where(bot_jobs.c.status == "queued", bot_jobs.c.next_attempt_at <= now)
        .order_by(bot_jobs.c.next_attempt_at, bot_jobs.c.id)
        .limit(scan)
    ).all()
    expired = conn.execute(
        select(*cols)
        .where(bot_jobs.c.status == "running", bot_jobs.c.locked_until < now)
        .limit(scan)
    ).all()
    return [(int(r[0]), r[1], r[2]) for r in [*expired, *due]]


def _item_busy(conn: Connection, job_id: int, repo: Any, number: Any, now: str) -> bool:
    if repo is None or number is None:
        return False
    held = conn.execute(
        select(bot_jobs.c.id)
        .where(
            bot_jobs.c.repo == repo,
            bot_jobs.c.number == number,
            bot_jobs.c.status == "running",
            bot_jobs.c.locked_until >= now,
            bot_jobs.c.id != job_id,
        )
        .limit(1)
    ).first()
    return held is not None


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


def counts(conn: Connection) -> dict[str, int]:
    """Jobs by status."""
    rows = conn.execute(select(bot_jobs.c.status, func.count()).group_by(bot_jobs.c.status))
    return {str(s): int(n) for s, n in rows}


def backoff(attempts: int, base: float, cap: float = 600.0) -> float:
    """Seconds before attempt ``attempts + 1``: base, 2·base, 4·base... capped."""
    return float(min(cap, base * 2 ** max(attempts - 1, 0)))
