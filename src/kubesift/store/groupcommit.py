"""Group commit: requests wait until what they brought is committed, but the requests that
arrive together are written by one thread in one transaction.

Durable before the 2xx, yet a burst costs one commit rather than one per request, and the
event loop never blocks on the database. When a batch fails, each item is written alone,
so one bad request cannot fail the others (the receivers answer 5xx for it only).
"""

from __future__ import annotations

import asyncio
import queue as stdqueue
import threading
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy.engine import Connection, Engine

T = TypeVar("T")
Writer = Callable[[Connection, Sequence[Any]], Sequence[Any]]
Pending = tuple[T, asyncio.Future[Any], asyncio.AbstractEventLoop]


class GroupCommit(Generic[T]):
    """``await group.submit(item)`` -> what ``write(conn, items)`` returned for it."""

    def __init__(
        self,
        engine: Engine,
        write: Writer,
        *,
        name: str = "group-commit",
        on_commit: Callable[[], None] | None = None,
        max_batch: int = 256,
    ) -> None:
        self.engine = engine
        self.write = write
        self.name = name
        self.on_commit = on_commit
        self.max_batch = max_batch
        self._pending: stdqueue.SimpleQueue[Pending[T]] = stdqueue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    async def submit(self, item: T) -> Any:
        self._ensure_started()
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Any] = loop.create_future()
        self._pending.put((item, done, loop))
        return await done

    def _ensure_started(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            batch = [self._pending.get()]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._pending.get_nowait())
                except stdqueue.Empty:
                    break
            if not self._commit(batch):
                for one in batch:
                    self._commit([one])
            if self.on_commit is not None:
                self.on_commit()

    def _commit(self, batch: list[Any]) -> bool:
        """True when the batch committed, or was one item (answered either way)."""
        try:
            with self.engine.begin() as conn:
                results = list(self.write(conn, [item for item, _, _ in batch]))
        except Exception as exc:
            if len(batch) > 1:
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
