"""A replay stream with ground truth, from real alerting rules. Pure and seeded.

Each episode is one alert (or an alert storm's member) with the truth of whether it
needed a human. The truth is what the model has to learn: critical rules and a set of
"serious" warning rules need a human in production namespaces, nothing does in dev
namespaces, info never; a rollout of the workload shortly before makes any alert on it
real; flapping rules never are; in a storm (a node down) only the root is. Halfway
through, a quarter of the serious rules stop being serious and as many others start
(drift). The stream also carries the Kubernetes Events (rollouts, BackOff) and error
log lines around each episode, Watchdog heartbeats, and Alertmanager's re-sends.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kubesift.alerts.rules import Rule
from kubesift.timeutil import from_epoch

PROD = ("payments", "shop", "checkout", "auth")
DEV = ("staging", "dev-alice", "dev-bob", "ci")
SYSTEM = ("kube-system", "monitoring")
WORKLOADS = ("api", "web", "worker", "db", "cache", "gateway")
DEPLOY_RULES = ("KubePodCrashLooping", "KubePodNotReady", "KubeDeploymentReplicasMismatch",
                "KubeContainerWaiting")  # fmt: skip
STORM_RULES = ("KubePodNotReady", "TargetDown", "KubeContainerWaiting")
LOG_LINES = (
    "ERROR failed to connect to postgres at 10.0.{a}.{b}:5432: connection refused",
    "ERROR request {u} failed after {n}ms: upstream timeout",
    "panic: runtime error: invalid memory address or nil pointer dereference [signal {n}]",
    "E1205 {h}:{m}:{s}.{n} 1 reflector.go:{n}] failed to list *v1.Pod: Unauthorized",
    "ERROR cache miss storm: {n} keys evicted in {n}s",
)
START = "2026-09-01T00:00:00Z"


@dataclass
class World:
    rng: random.Random
    rules: list[Rule]
    serious: set[str]
    flappy: set[str]
    drift_at: float
    records: list[dict[str, Any]] = field(default_factory=list)
    episode: int = 0
    rank: dict[str, int] = field(default_factory=dict)


def _iso(t: float) -> str:
    return from_epoch(t)


def _fingerprint(labels: dict[str, str]) -> str:
    return hashlib.sha1(repr(sorted(labels.items())).encode()).hexdigest()[:16]


def _pod(rng: random.Random, workload: str) -> str:
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    return f"{workload}-{''.join(rng.choices(alphabet, k=9))}-{''.join(rng.choices(alphabet, k=5))}"


def generate(
    rules: list[Rule], *, days: int = 28, per_day: int = 60, seed: int = 7
) -> list[dict[str, Any]]:
    """The stream, time-ordered: a ``meta`` record first, then one record per delivery
    (``source``: alertmanager, k8s or log; ``episode`` and ``truth`` where it has one)."""
    rng = random.Random(seed)
    usable = [r for r in rules if r.severity in ("critical", "warning", "info")]
    warnings = sorted({r.alert for r in usable if r.severity == "warning"})
    serious = set(rng.sample(warnings, k=max(1, len(warnings) * 3 // 10)))
    flappy = set(rng.sample(sorted(set(warnings) - serious), k=min(8, len(warnings) // 8)))
    start = datetime.fromisoformat(START.replace("Z", "+00:00")).timestamp()
    w = World(rng, usable, serious, flappy, drift_at=start + days * 86400 / 2)
    names = sorted({r.alert for r in usable})
    rng.shuffle(names)
    w.rank = {name: n for n, name in enumerate(names)}
    for day in range(days):
        base = start + day * 86400
        for _ in range(per_day):
            _episode(w, base + rng.uniform(0, 86400))
        if rng.random() < 2 / 7:
            _storm(w, base + rng.uniform(0, 86400))
        for hour in range(0, 24, 6):
            _watchdog(w, base + hour * 3600)
    w.records.sort(key=lambda r: (r["at"], r["seq"]))
    meta = {"kind": "meta", "seed": seed, "days": days, "start": START,
            "drift_at": _iso(w.drift_at), "rules": len(usable), "episodes": w.episode}  # fmt: skip
    return [meta, *w.records]


def _actionable(w: World, rule: Rule, namespace: str, at: float) -> bool:
    if rule.severity == "info" or namespace in DEV or rule.alert in w.flappy:
        return False
    if rule.severity == "critical":
        return True
    serious = w.serious
    if at >= w.drift_at:
        serious = _drifted(w)
    return rule.alert in serious and namespace in PROD


def _drifted(w: World) -> set[str]:
    rng = random.Random(len(w.serious))  # the same drift every time it is asked
    ordered = sorted(w.serious)
    gone = set(rng.sample(ordered, k=max(1, len(ordered) // 4)))
    others = sorted({r.alert for r in w.rules if r.severity == "warning"} - w.serious - w.flappy)
    new = set(rng.sample(others, k=min(len(gone), len(others))))
    return (w.serious - gone) | new


def _emit(w: World, at: float, source: str, payload: Any, episode: int = 0,
          truth: bool | None = None) -> None:  # fmt: skip
    record = {"at": _iso(at), "seq": len(w.records), "source": source, "payload": payload}
    if episode:
        record.update(episode=episode, truth=truth)
    w.records.append(record)


def _episode(w: World, at: float) -> None:
    rng = w.rng
    roll = rng.random()
    if roll < 0.1:
        wanted = rng.choice(DEPLOY_RULES)
        rule = next((r for r in w.rules if r.alert == wanted), w.rules[0])
        namespace, deploy = rng.choice(PROD), True
    else:
        pool = [r for r in w.rules if r.severity == rng.choices(
            ("warning", "critical", "info"), (0.72, 0.08, 0.2))[0]] or w.rules  # fmt: skip
        if roll < 0.2 and w.flappy:
            pool = [r for r in w.rules if r.alert in w.flappy]
        # Real clusters fire a few rules often and most rarely (heavy-tailed, Zipf-like).
        rule = rng.choices(pool, [1.0 / (1 + w.rank[r.alert]) ** 1.1 for r in pool])[0]
        namespace = rng.choice(rng.choices((PROD, DEV, SYSTEM), (0.4, 0.4, 0.2))[0])
        deploy = False
    workload = rng.choice(WORKLOADS)
    truth = deploy or _actionable(w, rule, namespace, at)
    w.episode += 1
    if deploy:
        _rollout(w, at - rng.uniform(300, 2400), namespace, workload, broken=True)
    elif rng.random() < 0.3:
        _logs(w, at - rng.uniform(60, 1500), namespace, workload, rng.randint(1, 2))
    _alert(w, rule, namespace, workload, at, truth)


def _alert(w: World, rule: Rule, namespace: str, workload: str, at: float, truth: bool,
           pod: str | None = None) -> None:  # fmt: skip
    rng = w.rng
    pod = pod or _pod(rng, workload)
    labels = {"alertname": rule.alert, "severity": rule.severity, "namespace": namespace,
              "pod": pod, "container": workload, "job": "kube-state-metrics"}  # fmt: skip
    fp = _fingerprint(labels)
    if rule.alert in w.flappy:
        cycles = [(rng.uniform(120, 420), rng.uniform(60, 300)) for _ in range(rng.randint(3, 7))]
    elif truth:
        cycles = [(rng.uniform(1200, 7200), 0.0)]
    else:
        quick = rng.random() < 0.4
        cycles = [(rng.uniform(180, 540) if quick else rng.uniform(900, 18000), 0.0)]
    t = at
    for length, gap in cycles:
        _am(w, rule, labels, fp, t, None, truth)
        if rng.random() < 0.05:
            _am(w, rule, labels, fp, t + rng.uniform(1, 20), None, truth)  # an HA replica
        if length > 4 * 3600:
            _am(w, rule, labels, fp, t, None, truth, at=t + 4 * 3600)  # repeat_interval
        _am(w, rule, labels, fp, t, t + length, truth)
        t += length + gap


def _am(w: World, rule: Rule, labels: dict[str, str], fp: str, starts: float,
        ends: float | None, truth: bool, at: float | None = None) -> None:  # fmt: skip
    status = "resolved" if ends is not None else "firing"
    alert = {
        "status": status, "labels": labels,
        "annotations": {"summary": rule.summary or rule.alert, "runbook_url": rule.runbook},
        "startsAt": _iso(starts), "endsAt": _iso(ends) if ends else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus-k8s-0:9090/graph?g0.expr=up", "fingerprint": fp,
    }  # fmt: skip
    payload = {"version": "4", "status": status, "receiver": "kubesift",
               "groupKey": f'{{}}:{{alertname="{rule.alert}"}}', "truncatedAlerts": 0,
               "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
               "externalURL": "http://alertmanager-main-0:9093", "alerts": [alert]}  # fmt: skip
    _emit(w, at if at is not None else (ends or starts), "alertmanager", payload,
          w.episode if rule.alert not in ("Watchdog",) else 0, truth)  # fmt: skip


def _event(w: World, at: float, namespace: str, name: str, kind: str, reason: str,
           note: str, warning: bool, count: int = 1) -> None:  # fmt: skip
    uid = hashlib.sha1(f"{namespace}{name}{reason}{at}".encode()).hexdigest()
    event = {
        "apiVersion": "events.k8s.io/v1", "kind": "Event",
        "metadata": {"name": f"{name}.{uid[:16]}", "namespace": namespace, "uid": uid},
        "eventTime": _iso(at) , "series": {"count": count, "lastObservedTime": _iso(at)},
        "reportingController": "kubelet" if warning else "deployment-controller",
        "reportingInstance": "worker-1", "action": reason, "reason": reason,
        "regarding": {"kind": kind, "name": name, "namespace": namespace},
        "note": note, "type": "Warning" if warning else "Normal",
    }  # fmt: skip
    _emit(w, at, "k8s", {"type": "ADDED", "object": event})


def _rollout(w: World, at: float, namespace: str, workload: str, broken: bool) -> None:
    _event(w, at, namespace, workload, "Deployment", "ScalingReplicaSet",
           f"Scaled up replica set {workload}-7d9f8c6b5 to 3", warning=False)  # fmt: skip
    if broken:
        pod = _pod(w.rng, workload)
        for n in range(1, w.rng.randint(2, 4)):
            _event(w, at + 60 * n, namespace, pod, "Pod", "BackOff",
                   f"Back-off restarting failed container {workload} in pod {pod}",
                   True, n)  # fmt: skip
        _logs(w, at + 30, namespace, workload, w.rng.randint(3, 8))


def _logs(w: World, at: float, namespace: str, workload: str, n: int) -> None:
    rng = w.rng
    pod = _pod(rng, workload)
    for k in range(n):
        line = rng.choice(LOG_LINES).format(
            a=rng.randint(0, 9), b=rng.randint(2, 250), u=rng.getrandbits(32),
            n=rng.randint(1, 999),
            h=rng.randint(10, 23), m=rng.randint(10, 59), s=rng.randint(10, 59),
        )  # fmt: skip
        record = {"date": at + 20 * k, "log": line,
                  "kubernetes": {"namespace_name": namespace, "pod_name": pod,
                                 "container_name": workload, "host": "worker-1"}}  # fmt: skip
        _emit(w, at + 20 * k, "log", [record])


def _storm(w: World, at: float) -> None:
    """A node goes down: its root alert needs a human, the pods' alerts that follow do not."""
    rng = w.rng
    node = f"worker-{rng.randint(1, 9)}"
    root = next((r for r in w.rules if r.alert == "KubeNodeNotReady"), w.rules[0])
    w.episode += 1
    labels = {"alertname": root.alert, "severity": root.severity, "node": node,
              "condition": "Ready", "job": "kube-state-metrics"}  # fmt: skip
    fp = _fingerprint(labels)
    length = rng.uniform(1800, 5400)
    _am(w, root, labels, fp, at, None, True)
    _am(w, root, labels, fp, at, at + length, True)
    members = [r for r in w.rules if r.alert in STORM_RULES] or [root]
    for _ in range(rng.randint(25, 50)):
        w.episode += 1
        rule = rng.choice(members)
        namespace = rng.choice(PROD + DEV + SYSTEM)
        t = at + rng.uniform(10, 180)
        pod = _pod(rng, rng.choice(WORKLOADS))
        mlabels = {"alertname": rule.alert, "severity": rule.severity, "namespace": namespace,
                   "pod": pod, "node": node, "job": "kube-state-metrics"}  # fmt: skip
        mfp = _fingerprint(mlabels)
        _am(w, rule, mlabels, mfp, t, None, False)
        _am(w, rule, mlabels, mfp, t, at + length + rng.uniform(0, 300), False)


def _watchdog(w: World, at: float) -> None:
    rule = Rule("Watchdog", "none", summary="An alert that should always be firing.")
    labels = {"alertname": "Watchdog", "severity": "none"}
    _am(w, rule, labels, _fingerprint(labels), at - 3600 * 24 * 30, None, False, at=at)
