"""Group commit for incoming deliveries.

Each request waits until its delivery is committed (durable before we answer 2xx), but
the deliveries that arrive together are written by one thread in one transaction, so the
event loop never blocks on SQLite and a burst costs one commit instead of one per request.
"""

from __future__ import annotations

import asyncio
import queue as stdqueue
import threading
from typing import Any

from sqlalchemy.engine import Engine

from kubesift.bot import queue

Pending = tuple[dict[str, Any], asyncio.Future[bool], asyncio.AbstractEventLoop]


class Intake:
    """Writes queued deliveries in batches; ``await intake.submit(job)`` -> fresh or not."""

    def __init__(self, engine: Engine, max_batch: int = 256) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self._pending: stdqueue.SimpleQueue[Pending] = stdqueue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    async def submit(self, job: dict[str, Any]) -> bool:
        self._ensure_started()
        loop = asyncio.get_running_loop()
        done: asyncio.Future[bool] = loop.create_future()
        self._pending.put((job, done, loop))
        return await done

    def _ensure_started(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="bot-intake", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            batch = [self._pending.get()]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._pending.get_nowait())
                except stdqueue.Empty:
                    break
            self._write(batch)

    def _write(self, batch: list[Pending]) -> None:
        try:
            with self.engine.begin() as conn:
                fresh = queue.enqueue_many(conn, [job for job, _, _ in batch])
        except Exception as exc:  # the requests answer 500 and GitHub redelivers
            for _, done, loop in batch:
                loop.call_soon_threadsafe(_fail, done, exc)
            return
        for (_, done, loop), result in zip(batch, fresh, strict=True):
            loop.call_soon_threadsafe(_succeed, done, result)


def _succeed(done: asyncio.Future[bool], result: bool) -> None:
    if not done.done():
        done.set_result(result)


def _fail(done: asyncio.Future[bool], exc: BaseException) -> None:
    if not done.done():
        done.set_exception(exc)
