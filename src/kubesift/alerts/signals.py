"""Alerts, Kubernetes Events and log records into one ``Signal``. Pure: JSON in, records out.

Alertmanager's webhook v4 (unknown keys tolerated, empty maps, the zero ``endsAt``), both
Event APIs (core/v1 and events.k8s.io/v1, single, ``EventList`` or a watch envelope) and
Fluent Bit's ``http`` output (JSON records with ``kubernetes.*`` metadata). A malformed
input raises :class:`AlertInputError` before anything is returned, so a receiver stores
all of a payload or none of it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from kubesift.alerts.quiet import LEVELS, level_name
from kubesift.errors import AlertInputError
from kubesift.timeutil import from_epoch, to_iso

ZERO_TIME = "0001-01-01T00:00:00Z"
SEVERITIES = ("critical", "warning", "info", "none")
#: Prometheus severities into ours (Robusta's and Keep's maps agree on these).
_SEVERITY = {
    "critical": "critical", "high": "critical", "error": "critical", "page": "critical",
    "warning": "warning", "medium": "warning", "low": "warning", "warn": "warning",
    "info": "info", "debug": "info", "none": "none",
}  # fmt: skip
#: kube-state-metrics names the object; ``job`` and ``service`` name the scrape target.
_WORKLOAD_LABELS = ("deployment", "statefulset", "daemonset", "job_name", "cronjob")
#: ``api-7d9f8c6b5-x2k9q`` (Deployment pod), ``db-0`` (StatefulSet), ``agent-x2k9q``.
#: Kubernetes' generated names use an alphabet without vowels (and 0, 1, 3); a hash without
#: any digit is still one when it has no vowel.
_POD_SUFFIX = re.compile(
    r"-[bcdfghjklmnpqrstvwxz2456789]{9,10}-[bcdfghjklmnpqrstvwxz2456789]{5}$"
    r"|(?:-(?=[a-z0-9]*\d)[a-z0-9]{5,10})?-[a-z0-9]{5}$|-\d+$"
)
_LOG_LEVEL = re.compile(r"\b(ERROR|FATAL|PANIC|CRITICAL|Error|Fatal|panic)\b|^[EF]\d{4} ")
_WARN_LEVEL = re.compile(r"\b(WARN|WARNING|Warning)\b|^W\d{4} |level=warn")


@dataclass(frozen=True)
class Signal:
    """One thing that happened: an alert notification, an Event occurrence, a log error."""

    source: str  # alertmanager | k8s-event | log
    key: str  # stable identity: fingerprint, Event uid, pod+container
    dedup: str  # what makes a re-delivery the same delivery
    name: str  # alertname, Event reason, "LogError"
    severity: str  # critical | warning | info | none
    status: str  # firing | resolved
    at: str  # when it happened (ISO 8601 UTC)
    namespace: str = ""
    workload: str = ""
    pod: str = ""
    node: str = ""
    cluster: str = ""
    text: str = ""
    runbook: str = ""
    link: str = ""
    ends_at: str = ""
    occurrences: int = 1
    labels: Mapping[str, str] = field(default_factory=dict)
    group: str = ""  # Alertmanager's groupKey
    truncated: int = 0  # Alertmanager's truncatedAlerts for the message this came in


def load_json(body: bytes, expected: str = "JSON") -> Any:
    """A request body parsed as JSON; empty or malformed is a one-line input error."""
    if not body.strip():
        raise AlertInputError(f"the body is empty ({expected} expected)")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise AlertInputError(f"the body is not JSON: {exc}") from None


def iso(value: Any, what: str) -> str:
    """An RFC 3339 time as ``YYYY-MM-DDTHH:MM:SS(.ffffff)Z`` UTC; '' for the zero time."""
    if value in (None, "", ZERO_TIME):
        return ""
    if not isinstance(value, str):
        raise AlertInputError(f"{what} is not a time: {value!r}")
    text = value.strip().replace("Z", "+00:00")
    # Go writes nanoseconds; Python's parser takes at most microseconds.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise AlertInputError(f"{what} is not an RFC 3339 time: {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if moment.year <= 1:
        return ""
    return to_iso(moment)


def severity_of(value: Any) -> str:
    return _SEVERITY.get(str(value or "").strip().lower(), "warning" if value else "none")


def workload_of(labels: Mapping[str, str], pod: str = "") -> str:
    """The workload a signal is about: an explicit label, else the pod's name less its
    generated suffixes."""
    for name in _WORKLOAD_LABELS:
        if labels.get(name):
            return str(labels[name])
    return _POD_SUFFIX.sub("", pod) if pod else ""


def _mapping(value: Any, what: str) -> dict[str, str]:
    """Labels or annotations: an object of strings, as Alertmanager sends them. Any other
    value is refused, never turned into text (a list nested 1,000 deep included)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise AlertInputError(f"{what} must be an object of strings")
    for k, v in value.items():
        if not isinstance(v, str):
            raise AlertInputError(f"{what}.{k[:100]} must be a string, not {type(v).__name__}")
    return dict(value)


def _object(payload: Any, what: str) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise AlertInputError(f"{what} must be a JSON object")
    return payload


def from_alertmanager(payload: Any, now: str = "") -> list[Signal]:
    """Alertmanager's webhook v4 message into one signal per alert."""
    msg = _object(payload, "the Alertmanager message")
    version = str(msg.get("version", ""))
    if version and version != "4":
        raise AlertInputError(f"unsupported Alertmanager webhook version {version!r} (4 expected)")
    alerts = msg.get("alerts")
    if not isinstance(alerts, list):
        raise AlertInputError("the Alertmanager message has no 'alerts' list")
    truncated = msg.get("truncatedAlerts") or 0
    if not isinstance(truncated, int) or truncated < 0:
        raise AlertInputError("truncatedAlerts must be a non-negative integer")
    group = str(msg.get("groupKey") or "")
    common = _mapping(msg.get("commonLabels"), "commonLabels")
    return [
        _alert(_object(a, f"alerts[{n}]"), n, group, truncated, common, now)
        for n, a in enumerate(alerts)
    ]


def _alert(
    alert: dict[str, Any], n: int, group: str, truncated: int, common: dict[str, str], now: str
) -> Signal:
    labels = {**common, **_mapping(alert.get("labels"), f"alerts[{n}].labels")}
    annotations = _mapping(alert.get("annotations"), f"alerts[{n}].annotations")
    name = labels.get("alertname", "")
    if not name:
        raise AlertInputError(f"alerts[{n}] has no alertname label")
    status = alert.get("status")
    if status not in ("firing", "resolved"):
        raise AlertInputError(f"alerts[{n}].status must be 'firing' or 'resolved', not {status!r}")
    starts = iso(alert.get("startsAt"), f"alerts[{n}].startsAt") or now
    if not starts:
        raise AlertInputError(f"alerts[{n}] has no startsAt")
    ends = iso(alert.get("endsAt"), f"alerts[{n}].endsAt")
    fingerprint = str(alert.get("fingerprint") or "") or _digest(sorted(labels.items()))
    pod = labels.get("pod", "")
    return Signal(
        source="alertmanager",
        key=fingerprint,
        dedup=f"am:{fingerprint}:{status}:{starts}",
        name=name,
        severity=severity_of(labels.get("severity")),
        status=status,
        at=ends if status == "resolved" and ends else starts,
        namespace=labels.get("namespace", ""),
        workload=workload_of(labels, pod),
        pod=pod,
        node=labels.get("node", "") or labels.get("instance", "").split(":")[0],
        cluster=labels.get("cluster", ""),
        text=annotations.get("summary") or annotations.get("description") or name,
        runbook=annotations.get("runbook_url", ""),
        link=str(alert.get("generatorURL") or ""),
        ends_at=ends,
        labels=labels,
        group=group,
        truncated=truncated,
    )


def from_k8s(payload: Any) -> list[Signal]:
    """A core/v1 or events.k8s.io/v1 Event, an ``EventList`` or a watch envelope.

    A watch DELETED (the Event's TTL ran out) is no occurrence and gives nothing."""
    body = _object(payload, "the Kubernetes payload")
    if "object" in body and "type" in body and "kind" not in body:
        kind = body.get("type")
        if kind not in ("ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"):
            raise AlertInputError(f"unknown watch event type {kind!r}")
        return [] if kind in ("DELETED", "BOOKMARK", "ERROR") else from_k8s(body["object"])
    if isinstance(body.get("items"), list):
        return [s for item in body["items"] for s in from_k8s(_event_item(item, body))]
    return [event_signal(body)]


def _event_item(item: Any, listing: dict[str, Any]) -> Any:
    # Items of an EventList carry no kind/apiVersion of their own.
    if isinstance(item, dict) and "kind" not in item:
        version = str(listing.get("apiVersion") or "v1")
        return {**item, "kind": "Event", "apiVersion": version}
    return item


def event_signal(event: dict[str, Any]) -> Signal:
    """One Event (either API) as a signal; its occurrence count makes the dedup key, so a
    watch MODIFIED with a higher count is one more occurrence of the same signal."""
    if event.get("kind", "Event") != "Event":
        raise AlertInputError(f"expected an Event, got kind {event.get('kind')!r}")
    meta = _object(event.get("metadata") or {}, "metadata")
    new_api = "regarding" in event or str(event.get("apiVersion", "")).startswith("events.k8s.io")
    obj = _object(
        (event.get("regarding") if new_api else event.get("involvedObject")) or {}, "the object"
    )
    series = event.get("series") or {}
    if new_api:
        count = series.get("count") or event.get("deprecatedCount") or 1
        first = event.get("eventTime") or event.get("deprecatedFirstTimestamp")
        last = series.get("lastObservedTime") or event.get("deprecatedLastTimestamp") or first
        text = event.get("note") or ""
    else:
        count = event.get("count") or series.get("count") or 1
        first = event.get("firstTimestamp") or event.get("eventTime")
        last = event.get("lastTimestamp") or series.get("lastObservedTime") or first
        text = event.get("message") or ""
    uid = str(meta.get("uid") or meta.get("name") or "")
    reason = str(event.get("reason") or "")
    if not uid or not reason:
        raise AlertInputError("an Event needs metadata.uid (or name) and a reason")
    if not isinstance(count, int) or count < 1:
        raise AlertInputError(f"the Event's count must be a positive integer, not {count!r}")
    at = iso(last, "the Event's last time") or iso(meta.get("creationTimestamp"), "creation")
    if not at:
        raise AlertInputError(f"the Event {uid} carries no time")
    pod = str(obj.get("name") or "") if obj.get("kind") == "Pod" else ""
    warning = str(event.get("type") or "Normal") == "Warning"
    return Signal(
        source="k8s-event",
        key=uid,
        dedup=f"ev:{uid}:{count}",
        name=reason,
        severity="warning" if warning else "info",
        status="firing",
        at=at,
        namespace=str(obj.get("namespace") or meta.get("namespace") or ""),
        workload=_POD_SUFFIX.sub("", pod) if pod else str(obj.get("name") or ""),
        pod=pod,
        node=str((event.get("source") or {}).get("host") or event.get("reportingInstance") or ""),
        text=str(text),
        occurrences=count,
        labels={"kind": str(obj.get("kind") or ""), "type": str(event.get("type") or "")},
    )


def from_fluentbit(payload: Any, min_level: str = "error") -> list[Signal]:
    """Fluent Bit's ``http`` output (``format json``: a list of records, or one record);
    only lines at ``min_level`` or above become signals (the rest are context)."""
    records = payload if isinstance(payload, list) else [payload]
    found = []
    for n, record in enumerate(records):
        rec = _object(record, f"record {n}")
        line = rec.get("log", rec.get("message"))
        if not isinstance(line, str):
            raise AlertInputError(f"record {n} has no 'log' (or 'message') string")
        k8s = _object(rec.get("kubernetes") or {}, f"record {n}.kubernetes")
        at = _record_time(rec.get("date", rec.get("time", rec.get("@timestamp"))), n)
        signal = log_signal(
            line.rstrip("\n"),
            at,
            namespace=str(k8s.get("namespace_name") or ""),
            pod=str(k8s.get("pod_name") or ""),
            container=str(k8s.get("container_name") or ""),
            node=str(k8s.get("host") or ""),
            level=str(rec.get("level") or rec.get("severity") or ""),
            min_level=min_level,
        )
        if signal is not None:
            found.append(signal)
    return found


def _record_time(value: Any, n: int) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return from_epoch(float(value))
    at = iso(value, f"record {n}'s date")
    if not at:
        raise AlertInputError(f"record {n} has no date (Fluent Bit's json_date_key)")
    return at


def line_level(line: str, level: str = "") -> str:
    """A log line's level name (:data:`~kubesift.alerts.quiet.LEVELS`): the sender's
    ``level`` when it names one, else what the line says (``ERROR``, ``E1207 …``), else
    info."""
    named = level_name(level) if level else None
    if named:
        return named
    if _LOG_LEVEL.search(line):
        return "error"
    return "warn" if _WARN_LEVEL.search(line) else "info"


def is_error(line: str, level: str = "") -> bool:
    return LEVELS[line_level(line, level)] >= LEVELS["error"]


def log_signal(
    line: str,
    at: str,
    *,
    namespace: str = "",
    pod: str = "",
    container: str = "",
    node: str = "",
    level: str = "",
    cluster: str = "",
    min_level: str = "error",
) -> Signal | None:
    """A log line at ``min_level`` or above as a signal (None for the others)."""
    found = line_level(line, level)
    if LEVELS[found] < LEVELS[min_level]:
        return None
    key = f"{namespace}/{pod}/{container}"
    return Signal(
        source="log",
        key=key,
        dedup=f"log:{_digest([key, at, line])}",
        name="LogError",
        severity="info",
        status="firing",
        at=at,
        namespace=namespace,
        workload=_POD_SUFFIX.sub("", pod) if pod else container,
        pod=pod,
        node=node,
        cluster=cluster,
        text=line[:4096],
        labels={"container": container, "level": found},
    )


def _digest(parts: Any) -> str:
    return hashlib.sha1(repr(parts).encode(), usedforsecurity=False).hexdigest()[:16]
