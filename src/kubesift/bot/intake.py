"""Group commit for incoming deliveries (:mod:`kubesift.store.groupcommit`): each request
waits until its delivery is committed, and the deliveries that arrive together share one
transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine

from kubesift.bot import queue
from kubesift.store.groupcommit import GroupCommit


class Intake:
    """Writes queued deliveries in batches; ``await intake.submit(job)`` -> fresh or not."""

    def __init__(self, engine: Engine, max_batch: int = 256) -> None:
        self._group: GroupCommit[dict[str, Any]] = GroupCommit(
            engine,
            lambda conn, jobs: queue.enqueue_many(conn, list(jobs)),
            name="bot-intake",
            max_batch=max_batch,
        )

    async def submit(self, job: dict[str, Any]) -> bool:
        fresh: bool = await self._group.submit(job)
        return fresh
