"""The durable queue and the records, on a real store (SQLite, or PostgreSQL on that lane)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from kubesift.bot import queue, records
from kubesift.bot.events import LabelChange
from kubesift.bot.policy import Plan, RepoSettings, Suggestion
from kubesift.config import load_settings
from kubesift.learn import online
from kubesift.store import open_store


@pytest.fixture
def engine(home: Path) -> Iterator[Engine]:
    engine = open_store(load_settings())
    yield engine
    engine.dispose()


def put(engine: Engine, delivery: str, number: int = 1) -> bool:
    with engine.begin() as conn:
        return queue.enqueue(conn, delivery, "issues", "{}", repo="a/b", number=number)


def test_redelivery_is_recognised(engine: Engine) -> None:
    assert put(engine, "d1") and not put(engine, "d1")


def test_lease_finish_retry_and_expiry(engine: Engine) -> None:
    put(engine, "d1", 1)
    put(engine, "d2", 1)  # same item: not leased while d1 runs
    put(engine, "d3", 2)
    a = queue.lease(engine, "w1", 0.3)
    b = queue.lease(engine, "w2", 30)
    assert a is not None and b is not None and (a.delivery_id, b.delivery_id) == ("d1", "d3")
    assert queue.lease(engine, "w2", 30) is None
    time.sleep(0.35)  # w1 "crashed": its lease runs out, another worker takes d1 over
    again = queue.lease(engine, "w2", 30)
    assert again is not None and again.delivery_id == "d1" and again.attempts == 2
    with engine.begin() as conn:
        assert not queue.finish(conn, a, "w1", "late")  # the lost lease cannot finish
        assert queue.finish(conn, again, "w2", "ok")
    assert queue.retry(engine, b, "w2", "boom", 0.0, max_attempts=1) == "failed"
    c = queue.lease(engine, "w1", 30)
    assert c is not None and c.delivery_id == "d2"
    assert queue.retry(engine, c, "w1", "boom", 60.0, max_attempts=5) == "queued"
    assert queue.lease(engine, "w1", 30) is None  # not due yet
    with engine.connect() as conn:
        assert queue.counts(conn) == {"done": 1, "failed": 1, "queued": 1}
    assert queue.backoff(1, 5) == 5 and queue.backoff(3, 5) == 20 and queue.backoff(30, 5) == 600


def test_concurrent_workers_never_hold_one_item_twice(engine: Engine) -> None:
    jobs = [
        {"delivery_id": f"d{i}", "event": "issues", "payload": "{}", "repo": "a/b", "number": i % 4}
        for i in range(40)
    ]
    with engine.begin() as conn:
        assert all(queue.enqueue_many(conn, jobs))
    held: dict[int, str] = {}
    guard = threading.Lock()
    clashes: list[str] = []
    finished: list[str] = []

    def work(name: str) -> None:
        idle = 0
        while idle < 30:
            job = queue.lease(engine, name, 30)
            if job is None:
                idle += 1
                time.sleep(0.01)
                continue
            idle = 0
            number = int(job.delivery_id[1:]) % 4
            with guard:
                if number in held:
                    clashes.append(f"{name} and {held[number]} both hold item {number}")
                held[number] = name
            time.sleep(0.002)
            with guard:
                del held[number]  # before the lease ends, so no false clash is seen
            with engine.begin() as conn:
                if queue.finish(conn, job, name, "ok"):
                    finished.append(job.delivery_id)

    workers = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(6)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    assert clashes == []
    assert sorted(finished) == sorted(j["delivery_id"] for j in jobs)


def test_settings_and_stats(engine: Engine) -> None:
    with engine.begin() as conn:
        assert records.get_settings(conn, "a/b") == RepoSettings()
        records.put_settings(conn, "a/b", RepoSettings(("kind",), 0.9, False, True))
        assert records.get_settings(conn, "a/b") == RepoSettings(("kind",), 0.9, False, True)
        plan = Plan(
            (Suggestion("kind/bug", 0.9), Suggestion("sig/node", 0.8)),
            ("kind/bug", "sig/node"),
            (),
        )
        for n in (1, 2):
            records.record_decisions(conn, None, "a/b", n, "pr", plan, dry_run=False, model="m")
        change = LabelChange("a/b", 1, "unlabeled", "kind/bug", "alice", False, "")
        records.record_correction(conn, "c1", change)
        records.record_correction(conn, "c1", change)  # redelivered: once
        records.record_correction(
            conn, "c2", LabelChange("a/b", 2, "labeled", "kind/flake", "bob", False, "")
        )
        stats = {s.label: s for s in online.label_stats(conn)}
    assert stats["kind/bug"].precision == 0.5 and stats["kind/bug"].recall == 1.0
    assert stats["sig/node"].precision == 1.0
    assert stats["kind/flake"].missed == 1 and stats["kind/flake"].recall == 0.0
