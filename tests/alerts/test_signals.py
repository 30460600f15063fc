"""The fixtures' real payload shapes become signals; malformed input is refused whole."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from kubesift.alerts import signals
from kubesift.errors import AlertInputError
from tests.alerts.helpers import load


def test_alertmanager_v4_fixtures(alert_fixtures: Path) -> None:
    [firing] = signals.from_alertmanager(
        load(alert_fixtures, "alertmanager_v4_crashloop_firing.json")
    )
    [resolved] = signals.from_alertmanager(
        load(alert_fixtures, "alertmanager_v4_crashloop_resolved.json")
    )
    assert firing.key == resolved.key and firing.dedup != resolved.dedup
    assert firing.status == "firing" and firing.ends_at == ""  # the zero time is "no end"
    assert resolved.status == "resolved" and resolved.at == resolved.ends_at
    assert firing.workload == "api" and firing.namespace == "shop"
    assert firing.runbook.startswith("https://runbooks.prometheus-operator.dev/")
    group = signals.from_alertmanager(load(alert_fixtures, "alertmanager_v4_group_truncated.json"))
    assert [s.name for s in group] == ["KubeNodeNotReady", "KubeletDown"]
    assert {s.truncated for s in group} == {3} and group[1].severity == "critical"


def test_both_event_apis_and_the_watch_envelope(alert_fixtures: Path) -> None:
    [core] = signals.from_k8s(load(alert_fixtures, "k8s_event_core_v1_backoff.json"))
    [modified] = signals.from_k8s(load(alert_fixtures, "k8s_watch_modified_backoff.json"))
    [new] = signals.from_k8s(load(alert_fixtures, "k8s_event_events_v1_failedscheduling.json"))
    assert core.key == modified.key and (core.occurrences, modified.occurrences) == (87, 88)
    assert core.dedup != modified.dedup  # one more occurrence, same signal key
    assert new.name == "FailedScheduling" and new.occurrences == 14
    assert new.text.startswith("0/3 nodes are available") and new.workload == "worker-batch"
    assert core.workload == "api" and core.severity == new.severity == "warning"


def test_a_core_event_and_its_events_k8s_io_twin_normalise_alike(alert_fixtures: Path) -> None:
    core = load(alert_fixtures, "k8s_event_core_v1_backoff.json")
    twin = {
        "apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": core["metadata"],
        "regarding": core["involvedObject"], "note": core["message"], "reason": core["reason"],
        "type": core["type"], "eventTime": core["firstTimestamp"],
        "series": {"count": core["count"], "lastObservedTime": core["lastTimestamp"]},
        "reportingController": "kubelet", "reportingInstance": "worker-2",
    }  # fmt: skip
    [a], [b] = signals.from_k8s(core), signals.from_k8s(twin)
    same = ("key", "dedup", "name", "severity", "at", "namespace", "workload", "pod", "text")
    assert {k: getattr(a, k) for k in same} == {k: getattr(b, k) for k in same}


def test_an_event_list_and_fluent_bit_records(alert_fixtures: Path) -> None:
    core = load(alert_fixtures, "k8s_event_core_v1_backoff.json")
    listed = signals.from_k8s({"kind": "EventList", "apiVersion": "v1", "items": [core, core]})
    assert len(listed) == 2
    records = [
        {"date": 1767225600.5, "log": "ERROR db down at 10.0.0.3:5432",
         "kubernetes": {"namespace_name": "shop", "pod_name": "api-7d9f8c6b5-x2k9q",
                        "container_name": "api"}},
        {"date": 1767225601.0, "log": "GET /healthz 200", "kubernetes": {}},
    ]  # fmt: skip
    [err] = signals.from_fluentbit(records)
    assert err.source == "log" and err.workload == "api" and err.at == "2026-01-01T00:00:00Z"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p.pop("alerts"), "no 'alerts' list"),
        (lambda p: p.update(version="3"), "unsupported Alertmanager webhook version"),
        (lambda p: p["alerts"][1]["labels"].pop("alertname"), "no alertname"),
        (lambda p: p["alerts"][0].update(startsAt="yesterday"), "not an RFC 3339 time"),
        (lambda p: p["alerts"][0].update(status="burning"), "must be 'firing' or 'resolved'"),
    ],
)
def test_malformed_alertmanager_payloads_are_refused_whole(
    alert_fixtures: Path, change: object, message: str
) -> None:
    payload = copy.deepcopy(load(alert_fixtures, "alertmanager_v4_group_truncated.json"))
    change(payload)  # type: ignore[operator]
    with pytest.raises(AlertInputError, match=message):
        signals.from_alertmanager(payload)


def test_unknown_keys_and_empty_maps_are_accepted(alert_fixtures: Path) -> None:
    payload = load(alert_fixtures, "alertmanager_v4_crashloop_firing.json")
    payload.update(somethingNew={"x": 1}, groupLabels={}, commonLabels={}, commonAnnotations={})
    assert len(signals.from_alertmanager(payload)) == 1
