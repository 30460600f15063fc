"""The dashboard's cache: one computation per key however many ask at once."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from kubesift.web.data import Cache


def test_concurrent_askers_wait_for_one_computation() -> None:
    cache = Cache()
    calls = []

    def slow() -> dict[str, Any]:
        calls.append(1)
        time.sleep(0.2)
        return {"value": len(calls)}

    results: list[dict[str, Any]] = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get(("k", 1), slow))) for _ in range(5)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == [1] and results == [{"value": 1}] * 5
    assert cache.get(("k", 2), slow) == {"value": 2}  # a new version computes again


def test_a_failed_computation_is_not_kept_and_the_oldest_entry_goes_first() -> None:
    cache = Cache(size=2)

    def boom() -> dict[str, Any]:
        raise RuntimeError("store unreachable")

    with pytest.raises(RuntimeError):
        cache.get(("k",), boom)
    assert cache.get(("k",), lambda: {"ok": True}) == {"ok": True}
    cache.get(("a",), lambda: {"a": 1})
    cache.get(("b",), lambda: {"b": 1})
    assert ("k",) not in cache.entries and len(cache.entries) == 2
