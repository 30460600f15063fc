"""Generated Prow runs that ship what a run timeline reads, in the formats their producers
write (no public sample of these files is small enough to vendor):

- ``podinfo.json``: Prow's ``{"pod": <core/v1 Pod>}`` (container statuses);
- ``junit_e2e_*.xml`` with the suite's ``timestamp`` and sequential cases;
- ``e2e-timelines_spyglass_*.json``: OpenShift's e2e monitor intervals, structured form
  (``locator``/``message`` objects, openshift/origin ``pkg/monitor/monitorapi``);
- ``e2e-events_*.json``: the older flat form (``locator``/``message`` strings with
  ``tempStructuredLocator``/``tempStructuredMessage``, ``pkg/monitor/serialization``);
- ``gather-extra/artifacts/events.json``: a core/v1 ``EventList``.

The story each run tells: node ``worker-b`` goes NotReady (rebooted) while the test
``[sig-network] services should serve endpoints`` runs, and the test fails.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

FAILED_TEST = "[sig-network] services should serve endpoints"
PASSED_TESTS = ("[sig-apps] deployment should roll out", "[sig-storage] volume should mount")
NODE = "worker-b"


def _z(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def write_timeline_run(
    root: Path, job: str, build: str, start: float, tests: int = 0, intervals: int = 0
) -> Path:
    """One failed run of ``job`` under ``root`` (``logs/<job>/<build>``) starting at epoch
    ``start``; ``tests`` more passing tests and ``intervals`` more monitor intervals (pod
    state changes, as a real OpenShift run has tens of thousands) make a bigger run."""
    t0 = datetime.fromtimestamp(start, UTC)
    d = root / "logs" / job / build
    art = d / "artifacts" / "e2e" / "gather-extra" / "artifacts"
    art.mkdir(parents=True, exist_ok=True)
    end = t0 + timedelta(minutes=40)
    (d / "started.json").write_text(json.dumps({"timestamp": int(start)}))
    (d / "finished.json").write_text(
        json.dumps({"timestamp": int(end.timestamp()), "passed": False, "result": "FAILURE"})
    )
    (d / "podinfo.json").write_text(json.dumps(_podinfo(job, build, t0, end)))
    (d / "prowjob.json").write_text(json.dumps({"spec": {"type": "periodic", "job": job}}))
    suite_at = t0 + timedelta(minutes=5)
    (d / "artifacts" / "junit_e2e_20260101-000000.xml").write_text(_junit(suite_at, tests))
    failed_at = suite_at + timedelta(seconds=60 + 90)  # after the two passing tests
    monitor = _structured(t0, failed_at)
    monitor["items"] += _pod_churn(t0, intervals)
    (d / "artifacts" / "e2e-timelines_spyglass_20260101-000000.json").write_text(
        json.dumps(monitor)
    )
    (d / "artifacts" / "e2e-events_20260101-000000.json").write_text(json.dumps(_flat(failed_at)))
    (art / "events.json").write_text(json.dumps(_events(failed_at)))
    return d


def _podinfo(job: str, build: str, t0: datetime, end: datetime) -> dict[str, Any]:
    return {"pod": {
        "metadata": {"name": f"{build}-{job}"[:63], "namespace": "test-pods"},
        "status": {
            "phase": "Failed",
            "initContainerStatuses": [{"name": "clonerefs", "state": {"terminated": {
                "exitCode": 0, "reason": "Completed", "startedAt": _z(t0),
                "finishedAt": _z(t0 + timedelta(seconds=20))}}}],
            "containerStatuses": [{"name": "test", "state": {"terminated": {
                "exitCode": 1, "reason": "Error", "startedAt": _z(t0 + timedelta(seconds=30)),
                "finishedAt": _z(end)}}}],
        },
    }}  # fmt: skip


def _junit(at: datetime, extra: int) -> str:
    cases = [f'<testcase name="{PASSED_TESTS[0]}" time="60"/>',
             f'<testcase name="{PASSED_TESTS[1]}" time="90"/>',
             f'<testcase name="{FAILED_TEST}" time="120"><failure message="timed out">'
             "timed out waiting for endpoints of service e2e-svc</failure></testcase>"]  # fmt: skip
    cases += [f'<testcase name="[sig-node] generated test {n}" time="1"/>' for n in range(extra)]
    total = 60 + 90 + 120 + extra
    return (f'<testsuite name="openshift-tests" tests="{len(cases)}" failures="1" '
            f'time="{total}" timestamp="{at.strftime("%Y-%m-%dT%H:%M:%S")}">'
            + "".join(cases) + "</testsuite>")  # fmt: skip


def _structured(t0: datetime, failed_at: datetime) -> dict[str, Any]:
    def item(level: str, source: str, ltype: str, keys: dict[str, str], reason: str,
             human: str, start: datetime, stop: datetime | None,
             annotations: dict[str, str] | None = None) -> dict[str, Any]:  # fmt: skip
        return {
            "level": level, "display": True, "source": source,
            "locator": {"type": ltype, "keys": keys},
            "message": {"reason": reason, "cause": "", "humanMessage": human,
                        "annotations": annotations or {}},
            "from": _z(start), "to": _z(stop) if stop else None,
        }  # fmt: skip

    test = {"e2e-test": FAILED_TEST}
    return {"items": [
        item("Info", "E2ETest", "E2ETest", test, "E2ETestStarted", "started", failed_at, None),
        item("Error", "E2ETest", "E2ETest", test, "E2ETestFinished", "finished",
             failed_at, failed_at + timedelta(seconds=120), {"status": "Failed"}),
        item("Warning", "NodeState", "Node", {"node": NODE}, "NotReady",
             "node is not ready (rebooted)", failed_at + timedelta(seconds=10),
             failed_at + timedelta(seconds=100)),
        item("Warning", "Alert", "Alert", {"alert": "KubeNodeNotReady", "namespace":
             "openshift-monitoring"}, "", "alert/KubeNodeNotReady firing",
             failed_at + timedelta(seconds=40), failed_at + timedelta(seconds=300),
             {"alertstate": "firing", "severity": "warning"}),
        item("Error", "Disruption", "Disruption", {"backend-disruption-name":
             "kube-api-new-connections"}, "DisruptionBegan", "API unreachable",
             failed_at + timedelta(seconds=12), failed_at + timedelta(seconds=19)),
        item("Info", "KubeEvent", "Kind", {"namespace": "e2e-test", "pod": "web-0"}, "Pulled",
             "Container image pulled", t0 + timedelta(minutes=2), None),
        item("Info", "E2ETest", "E2ETest", {"e2e-test": "bad time"}, "E2ETestStarted", "",
             datetime(1, 1, 1, tzinfo=UTC), None),  # Go's zero time: no time, skipped
    ]}  # fmt: skip


def _pod_churn(t0: datetime, count: int) -> list[dict[str, Any]]:
    """``count`` pod state intervals spread over the run's 40 minutes."""
    out = []
    for n in range(count):
        at = t0 + timedelta(seconds=(n * 2400) / max(1, count))
        out.append({
            "level": "Info", "display": False, "source": "PodState",
            "locator": {"type": "Pod", "keys": {"namespace": f"e2e-ns-{n % 97}",
                                                "pod": f"pod-{n % 1013}", "uid": f"u{n}"}},
            "message": {"reason": "PodIsPending" if n % 3 else "Created", "cause": "",
                        "humanMessage": f"pod phase changed ({n})", "annotations": {}},
            "from": _z(at), "to": _z(at + timedelta(seconds=5 + n % 30)),
        })  # fmt: skip
    return out


def _flat(failed_at: datetime) -> dict[str, Any]:
    return {"items": [{
        "level": "Error",
        "locator": f'e2e-test/"{FAILED_TEST}"',
        "message": 'e2e test finished As "Failed"',
        "tempStructuredLocator": {"type": "", "keys": None},
        "tempStructuredMessage": {"reason": "", "cause": "", "humanMessage": "",
                                  "annotations": None},
        "from": _z(failed_at), "to": _z(failed_at + timedelta(seconds=120)),
    }, {
        "level": "Warning", "locator": f"node/{NODE}", "message": "reason/Rebooted node rebooted",
        "from": _z(failed_at + timedelta(seconds=8)), "to": _z(failed_at + timedelta(seconds=8)),
    }]}  # fmt: skip


def _events(failed_at: datetime) -> dict[str, Any]:
    return {"kind": "EventList", "apiVersion": "v1", "items": [{
        "metadata": {"name": f"{NODE}.17a", "namespace": "default"},
        "involvedObject": {"kind": "Node", "name": NODE},
        "reason": "Rebooted", "type": "Warning",
        "message": f"Node {NODE} has been rebooted, boot id: 6f1c",
        "firstTimestamp": _z(failed_at + timedelta(seconds=8)),
        "lastTimestamp": _z(failed_at + timedelta(seconds=8)), "count": 1,
    }, {
        "metadata": {"name": "web-0.17b", "namespace": "e2e-test"},
        "involvedObject": {"kind": "Pod", "namespace": "e2e-test", "name": "web-0"},
        "reason": "BackOff", "type": "Warning", "message": "Back-off restarting failed container",
        "firstTimestamp": _z(failed_at + timedelta(seconds=30)),
        "lastTimestamp": _z(failed_at + timedelta(seconds=90)), "count": 4,
    }]}  # fmt: skip
