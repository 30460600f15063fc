"""A lease in the store so that one reconciler acts at a time, on SQLite or PostgreSQL.

The holder renews the lease while it works (a heartbeat thread); a holder killed with
``kill -9`` stops renewing, and its lease lapses after ``ttl`` seconds. On the same
host a lease whose process is gone is taken over at once, so a restarted reconciler
does not wait out the ttl of the one it replaces.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass

from sqlalchemy import or_, select, update
from sqlalchemy.engine import Engine

from kubesift.store.schema import reconcile_locks
from kubesift.store.writes import dialect_insert
from kubesift.timeutil import stamp

LOCK_NAME = "reconcile"


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class LockState:
    holder: str | None
    acquired_at: str | None
    expires_at: str | None


def read(engine: Engine, name: str = LOCK_NAME) -> LockState:
    with engine.connect() as conn:
        row = (
            conn.execute(select(reconcile_locks).where(reconcile_locks.c.name == name))
            .mappings()
            .first()
        )
    if row is None:
        return LockState(None, None, None)
    return LockState(row["holder"], row["acquired_at"], row["expires_at"])


def _dead_local(holder: str | None) -> bool:
    """True when ``holder`` is a process on this host that no longer exists."""
    if not holder:
        return False
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class StoreLock:
    """``acquire()`` → True if this process now holds the lease; ``release()`` gives it up."""

    def __init__(
        self, engine: Engine, ttl: float = 120.0, name: str = LOCK_NAME, holder: str = ""
    ) -> None:
        self.engine = engine
        self.ttl = ttl
        self.name = name
        self.holder = holder or holder_name()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.lost = False

    def acquire(self) -> bool:
        now = time.time()
        with self.engine.begin() as conn:
            conn.execute(
                dialect_insert(conn, reconcile_locks)
                .values(name=self.name, holder=None, acquired_at=None, expires_at=None)
                .on_conflict_do_nothing(index_elements=["name"])  # type: ignore[attr-defined]
            )
        current = read(self.engine, self.name)
        takeable = [
            reconcile_locks.c.holder.is_(None),
            reconcile_locks.c.holder == self.holder,
            reconcile_locks.c.expires_at < stamp(now),
        ]
        if _dead_local(current.holder):
            takeable.append(reconcile_locks.c.holder == current.holder)
        with self.engine.begin() as conn:
            # One conditional UPDATE: of two racing reconcilers only one matches the row.
            taken = conn.execute(
                update(reconcile_locks)
                .where(reconcile_locks.c.name == self.name, or_(*takeable))
                .values(
                    holder=self.holder,
                    acquired_at=stamp(now),
                    expires_at=stamp(now + self.ttl),
                )
            ).rowcount
        if taken:
            self._start_heartbeat()
        return bool(taken)

    def renew(self) -> bool:
        now = time.time()
        with self.engine.begin() as conn:
            kept = conn.execute(
                update(reconcile_locks)
                .where(reconcile_locks.c.name == self.name, reconcile_locks.c.holder == self.holder)
                .values(expires_at=stamp(now + self.ttl))
            ).rowcount
        if not kept:
            self.lost = True
        return bool(kept)

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        with self.engine.begin() as conn:
            conn.execute(
                update(reconcile_locks)
                .where(reconcile_locks.c.name == self.name, reconcile_locks.c.holder == self.holder)
                .values(holder=None, expires_at=None)
            )

    def _start_heartbeat(self) -> None:
        self._stop.clear()

        def beat() -> None:
            while not self._stop.wait(self.ttl / 3):
                try:
                    if not self.renew():
                        return
                except Exception:  # a transient store error: try again next beat
                    continue

        self._thread = threading.Thread(target=beat, name="reconcile-lock", daemon=True)
        self._thread.start()
