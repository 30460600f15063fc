"""The receivers' writes (:mod:`kubesift.store.groupcommit`): what a request brought is
committed, with everything it causes, before its 2xx; the requests that arrive together
share one transaction, and after a failed batch each is retried alone."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.engine import Connection, Engine

from kubesift.alerts.ingest import Outcome, Triage
from kubesift.alerts.signals import Signal
from kubesift.store.groupcommit import GroupCommit

Work = Callable[[Connection], Any]


def _run_all(conn: Connection, works: Sequence[Work]) -> list[Any]:
    # The triage's model and templates are caches of the store: a failed batch that saw
    # part of them is harmless, they are reloaded on the next call.
    return [work(conn) for work in works]


class Intake:
    def __init__(
        self,
        engine: Engine,
        triage: Triage,
        *,
        on_commit: Callable[[], None] | None = None,
        max_batch: int = 256,
    ) -> None:
        self.triage = triage
        self._group: GroupCommit[Work] = GroupCommit(
            engine, _run_all, name="alerts-intake", on_commit=on_commit, max_batch=max_batch
        )

    async def submit(self, found: Sequence[Signal]) -> Outcome:
        result: Outcome = await self.call(lambda conn: self.triage.ingest(conn, found))
        return result

    async def call(self, work: Work) -> Any:
        """Run ``work(conn)`` in the writer's transaction; its result, or its exception."""
        return await self._group.submit(work)
