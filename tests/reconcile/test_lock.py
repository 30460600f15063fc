"""The store lock: one holder at a time, lapsed and dead holders replaced."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.engine import Engine

from kubesift.config import load_settings
from kubesift.reconcile.lock import StoreLock, read
from kubesift.store import open_store
from kubesift.store.schema import reconcile_locks


def _engine(home: Path) -> Engine:
    return open_store(load_settings())


def test_one_holder_at_a_time(home: Path) -> None:
    engine = _engine(home)
    a = StoreLock(engine, ttl=30, holder="host-a:1")
    b = StoreLock(engine, ttl=30, holder="host-b:2")
    assert a.acquire()
    assert not b.acquire()
    assert read(engine).holder == "host-a:1"
    assert a.acquire()  # re-entrant for its holder
    a.release()
    assert read(engine).holder is None
    assert b.acquire()
    b.release()


def test_a_lapsed_lease_is_taken_over(home: Path) -> None:
    engine = _engine(home)
    a = StoreLock(engine, ttl=30, holder="host-a:1")
    assert a.acquire()
    a._stop.set()  # a silent holder: no more heartbeats
    with engine.begin() as conn:
        conn.execute(update(reconcile_locks).values(expires_at="2000-01-01T00:00:00.000000Z"))
    b = StoreLock(engine, ttl=30, holder="host-b:2")
    assert b.acquire()
    assert not a.renew() and a.lost
    b.release()


def test_a_dead_process_on_this_host_is_replaced_at_once(home: Path) -> None:
    engine = _engine(home)
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    import socket

    dead = StoreLock(engine, ttl=3600, holder=f"{socket.gethostname()}:{child.pid}")
    assert dead.acquire()
    dead._stop.set()
    alive = StoreLock(engine, ttl=30)
    assert alive.acquire()  # no waiting out the hour
    alive.release()


def test_heartbeat_keeps_the_lease(home: Path) -> None:
    engine = _engine(home)
    a = StoreLock(engine, ttl=0.6, holder="host-a:1")
    assert a.acquire()
    first = read(engine).expires_at
    time.sleep(1.0)
    assert read(engine).expires_at != first and read(engine).holder == "host-a:1"
    assert not StoreLock(engine, ttl=0.6, holder="host-b:2").acquire()
    a.release()
