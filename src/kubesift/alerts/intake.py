"""Group commit for the receivers: one writer thread, one transaction per burst.

A request waits until what it brought is committed (durable before the 2xx), but the
requests that arrive together share one transaction, so a burst of Alertmanager
notifications costs one commit rather than one each, and the event loop never blocks on
the database. Should a burst fail, each request is retried alone, so one bad request
cannot fail the others.
"""

from __future__ import annotations

import asyncio
import queue as stdqueue
import threading
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.engine import Connection, Engine

from kubesift.alerts.ingest import Outcome, Triage
from kubesift.alerts.signals import Signal

Work = Callable[[Connection], Any]
Pending = tuple[Work, asyncio.Future[Any], asyncio.AbstractEventLoop]


class Intake:
    def __init__(
        self,
        engine: Engine,
        triage: Triage,
        *,
        on_commit: Callable[[], None] | None = None,
        max_batch: int = 256,
    ) -> None:
        self.engine = engine
        self.triage = triage
        self.on_commit = on_commit
        self.max_batch = max_batch
        self._pending: stdqueue.SimpleQueue[Pending] = stdqueue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    async def submit(self, found: Sequence[Signal]) -> Outcome:
        result: Outcome = await self.call(lambda conn: self.triage.ingest(conn, found))
        return result

    async def call(self, work: Work) -> Any:
        """Run ``work(conn)`` in the writer's transaction; its result, or its exception."""
        self._ensure_started()
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Any] = loop.create_future()
        self._pending.put((work, done, loop))
        return await done

    def _ensure_started(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="alerts-intake", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            batch = [self._pending.get()]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._pending.get_nowait())
                except stdqueue.Empty:
                    break
            if not self._write(batch):
                for one in batch:
                    self._write([one])
            if self.on_commit is not None:
                self.on_commit()

    def _write(self, batch: list[Pending]) -> bool:
        """True when the batch committed (or was a single request, answered either way)."""
        results: list[Any] = []
        try:
            with self.engine.begin() as conn:
                for work, _, _ in batch:
                    results.append(work(conn))
        except Exception as exc:
            if len(batch) > 1:
                # The model and templates may have seen part of the batch; they are
                # caches of the store, reloaded on the next call.
                return False
            _, done, loop = batch[0]
            loop.call_soon_threadsafe(_fail, done, exc)
            return True
        for (_, done, loop), result in zip(batch, results, strict=True):
            loop.call_soon_threadsafe(_succeed, done, result)
        return True


def _succeed(done: asyncio.Future[Any], result: Any) -> None:
    if not done.done():
        done.set_result(result)


def _fail(done: asyncio.Future[Any], exc: BaseException) -> None:
    if not done.done():
        done.set_exception(exc)
