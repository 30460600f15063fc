# ruff: noqa: E501 -- the event templates are log lines, kept whole to be readable
"""Labelled log lines in the style of Kubernetes components, for template-mining accuracy.

Each line comes from one of the event templates below, with its variable parts drawn at
random (pod and node names, namespaces, IPs, ports, UUIDs, durations, counts, paths,
HTTP verbs and codes), so the event id of every line is known: the ground truth the
log-parsing literature's grouping accuracy needs.
"""

from __future__ import annotations

import random
import uuid

EVENTS = (
    'I{d} {t} 1 kubelet.go:{n}] "SyncLoop (PLEG): event for pod" pod="{ns}/{pod}" event={{ID:{u}}}',
    'E{d} {t} 1 pod_workers.go:{n}] "Error syncing pod, skipping" err="failed to \\"StartContainer\\" for \\"{c}\\" with CrashLoopBackOff" pod="{ns}/{pod}"',
    "I{d} {t} 1 scheduler.go:{n}] Successfully bound pod to node pod={ns}/{pod} node={node} evaluatedNodes={k} feasibleNodes={k2}",
    "E{d} {t} 1 reflector.go:{n}] k8s.io/client-go/informers/factory.go:{n2}: Failed to watch *v1.{kind}: failed to list *v1.{kind}: Unauthorized",
    "W{d} {t} 1 reflector.go:{n}] watch of *v1.{kind} ended with: very short watch: k8s.io/client-go/informers/factory.go:{n2}: Unexpected watch close - watch lasted less than a second and no items received",
    '{date} {time} {ip}:{port} - - "{verb} /api/v1/namespaces/{ns}/pods/{pod} HTTP/1.1" {code} {bytes} {dur}',
    '{iso} [INFO] {ip}:{port} - {k} "A IN {svc}.{ns}.svc.cluster.local. udp {bytes} false {k2}" NOERROR qr,aa,rd {bytes2} {dur}',
    '{iso} level=error msg="failed to connect to {ip}:{port}: connection refused" component=etcd-client attempt={k}',
    '{iso} {{"level":"warn","ts":"{iso}","caller":"etcdserver/util.go:{n}","msg":"apply request took too long","took":"{dur}","expected-duration":"100ms"}}',
    "I{d} {t} 1 controller.go:{n}] quota admission added evaluator for: {kind}.apps",
    'I{d} {t} 1 event.go:{n}] Event occurred object="{ns}/{pod}" kind="Pod" reason="Scheduled" message="Successfully assigned {ns}/{pod} to {node}"',
    'E{d} {t} 1 remote_runtime.go:{n}] "RemoveContainer from runtime service failed" err="rpc error: code = NotFound desc = could not find container {hex}" containerID="{hex}"',
    'time="{iso}" level=info msg="StartContainer for {hex} returns successfully"',
    'time="{iso}" level=error msg="PullImage {image} failed" error="rpc error: code = Unknown desc = failed to pull and unpack image"',
    "{iso} ERROR request {u} failed after {dur}: upstream {svc}.{ns} returned {code}",
    "{iso} WARN slow query on table {table} took {dur} rows={k}",
    "{iso} INFO user {user} logged in from {ip}",
    "panic: runtime error: index out of range [{k}] with length {k2}",
    "goroutine {n} [running]:",
    'I{d} {t} 1 garbagecollector.go:{n}] "Deleting object" object="{ns}/{pod}" objectUID={u} kind="Pod" propagationPolicy=Background',
)
NAMESPACES = ("default", "kube-system", "payments", "shop", "monitoring", "ingress-nginx")
WORKLOADS = ("api", "web", "coredns", "etcd-client", "checkout", "prometheus", "worker")
KINDS = ("Pod", "Service", "ConfigMap", "Secret", "Deployment", "Node")
VERBS = ("GET", "PUT", "POST", "PATCH", "DELETE")
TABLES = ("orders", "users", "sessions", "events")
USERS = ("alice", "bob", "carol", "system:admin", "dave")
IMAGES = (
    "registry.k8s.io/pause:3.9",
    "docker.io/library/nginx:1.25",
    "quay.io/prometheus/node-exporter:v1.7.0",
)


def _values(rng: random.Random) -> dict[str, object]:
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    workload = rng.choice(WORKLOADS)
    return {
        "d": f"{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}",
        "t": f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}.{rng.randint(0, 999999):06d}",
        "n": rng.randint(10, 999),
        "n2": rng.randint(10, 999),
        "k": rng.randint(0, 50),
        "k2": rng.randint(1, 50),
        "ns": rng.choice(NAMESPACES),
        "pod": f"{workload}-{''.join(rng.choices(alphabet, k=9))}-{''.join(rng.choices(alphabet, k=5))}",
        "node": f"node-{rng.randint(1, 40)}",
        "c": workload,
        "u": uuid.UUID(int=rng.getrandbits(128)),
        "kind": rng.choice(KINDS),
        "date": f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "time": f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}",
        "iso": f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}.{rng.randint(0, 999):03d}Z",
        "ip": f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
        "port": rng.randint(1024, 65535),
        "verb": rng.choice(VERBS),
        "code": rng.choice((200, 201, 404, 409, 500, 503)),
        "bytes": rng.randint(40, 90000),
        "bytes2": rng.randint(40, 900),
        "dur": f"{rng.uniform(0.1, 900):.3f}ms",
        "svc": rng.choice(WORKLOADS),
        "hex": "".join(rng.choices("0123456789abcdef", k=64)),
        "image": rng.choice(IMAGES),
        "table": rng.choice(TABLES),
        "user": rng.choice(USERS),
    }


def labelled_lines(count: int, seed: int = 5) -> list[tuple[int, str]]:
    """``count`` (event id, line) pairs, events drawn unevenly as in real logs."""
    rng = random.Random(seed)
    weights = [1.0 / (1 + i) ** 0.8 for i in range(len(EVENTS))]
    out = []
    for _ in range(count):
        event = rng.choices(range(len(EVENTS)), weights)[0]
        out.append((event, EVENTS[event].format(**_values(rng))))
    return out
