"""Kubernetes Events in, with the official ``kubernetes`` client: list, then watch from
the list's resourceVersion, resume each watch where the last one ended, and re-list when
the apiserver answers 410 Gone (its history was compacted). events.k8s.io/v1 first,
core/v1 where that API is not served. Duplicates from a re-list are harmless: the ingest
is idempotent by Event uid and count.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import urllib3

from kubesift.alerts.signals import Signal, from_k8s
from kubesift.errors import AlertError
from kubesift.retry import backoff

log = logging.getLogger("kubesift.alerts")
Sink = Callable[[list[Signal]], None]


@dataclass
class WatchStats:
    lists: int = 0
    watches: int = 0
    gone: int = 0
    events: int = 0
    reconnects: int = 0
    api: str = ""


def _apis(api_client: Any) -> list[tuple[str, Callable[..., Any]]]:
    from kubernetes import client

    return [
        ("events.k8s.io/v1", client.EventsV1Api(api_client).list_event_for_all_namespaces),
        ("v1", client.CoreV1Api(api_client).list_event_for_all_namespaces),
    ]


def watch_events(
    api_client: Any,
    sink: Sink,
    stop: threading.Event,
    *,
    field_selector: str = "type=Warning",
    timeout_seconds: int = 60,
) -> WatchStats:
    """List+watch Events until ``stop`` is set, handing signals to ``sink``."""
    from kubernetes import watch
    from kubernetes.client.rest import ApiException

    stats = WatchStats()
    api, lister = _choose(api_client)
    stats.api = api
    version = ""
    failures = 0  # in a row: the backoff grows with them and resets on a good list or watch
    while not stop.is_set():
        try:
            if not version:
                version = _list(lister, sink, field_selector, stats)
            failures = 0
            w = watch.Watch()
            stats.watches += 1
            events = w.stream(
                lister,
                resource_version=version,
                field_selector=field_selector,
                timeout_seconds=timeout_seconds,
                allow_watch_bookmarks=True,
            )
            for event in events:
                obj = event["raw_object"]
                version = obj.get("metadata", {}).get("resourceVersion", version)
                if event["type"] in ("ADDED", "MODIFIED"):
                    sink(from_k8s({"type": event["type"], "object": _with_kind(obj, api)}))
                    stats.events += 1
                if stop.is_set():
                    w.stop()
                    break
        except ApiException as exc:
            if exc.status != 410:
                raise AlertError(f"the Kubernetes API answered {exc.status}: {exc.reason}") from exc
            stats.gone += 1
            log.info("watch expired (410 Gone): listing again")
            version = ""
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            # The apiserver restarted or the network dropped: resume where we were.
            stats.reconnects += 1
            failures += 1
            log.warning("watch connection lost (%s): retrying", type(exc).__name__)
            stop.wait(backoff(failures, cap=30.0))
    return stats


def _choose(api_client: Any) -> tuple[str, Callable[..., Any]]:
    from kubernetes.client.rest import ApiException

    for api, lister in _apis(api_client):
        try:
            lister(limit=1, _preload_content=False).release_conn()
            return api, lister
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            host = api_client.configuration.host
            raise AlertError(f"cannot reach the Kubernetes API at {host}: {exc}") from exc
        except ApiException as exc:
            if exc.status != 404:
                raise AlertError(f"the Kubernetes API answered {exc.status}: {exc.reason}") from exc
    raise AlertError("the cluster serves neither events.k8s.io/v1 nor core/v1 Events")


def _list(lister: Callable[..., Any], sink: Sink, selector: str, stats: WatchStats) -> str:
    import json

    answer = lister(field_selector=selector, _preload_content=False)
    body = json.loads(answer.data)
    stats.lists += 1
    api = body.get("apiVersion", "v1")
    items = [_with_kind(i, api) for i in body.get("items", [])]
    if items:
        sink([s for item in items for s in from_k8s(item)])
        stats.events += len(items)
    return str(body.get("metadata", {}).get("resourceVersion", ""))


def _with_kind(obj: dict[str, Any], api: str) -> dict[str, Any]:
    return {"kind": "Event", "apiVersion": api, **obj}
