"""Alert triage benchmark: replay quality, template accuracy and speed, receiver intake.

replay:    a generated stream from the real kube-prometheus rules, through the real
           receiver path with simulated people on call (10 % wrong answers, drift at
           half-time); pages on the later half vs "page everything" and Alertmanager
           grouping alone, recall of needs-a-human, misses per 1,000 alerts, precision
           and how fast it recovers after the drift.
templates: grouping accuracy on our labelled Kubernetes-style lines and on the real e2e
           build log (labelled by bench/e2e_events.py); templating speed.
intake:    `kubesift alerts serve` as its own process, loaded from this one with
           concurrent Alertmanager posts: alerts/s and the ack latency percentiles.

    python bench/alerts.py                  # 28 days x 60 episodes x 3 seeds, 200,000 lines,
                                            # 20 s load
    python bench/alerts.py --quick          # 10 days x 40, one seed, 20,000 lines, 5 s load
    python bench/alerts.py --only replay,intake --json out.json
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
from _measure import print_figures, wait_healthy
from e2e_events import label

from kubesift.alerts.templates import grouping_accuracy, mine
from kubesift.config import find_fixtures
from kubesift.testing.logsamples import labelled_lines

PARTS = ("replay", "templates", "intake")
#: Numbers standing alone (not the 8 of k8s.io or the 0817 of a klog prefix I0817).
_NUMBER = re.compile(r"(?<![A-Za-z\d])\d+(?![A-Za-z\d])")
TOKEN = "bench-token"
CONCURRENCY = 32


def _fixtures(kind: str) -> Path:
    found = find_fixtures(kind)
    if found is None:
        sys.exit(f"../shared/fixtures/{kind} is absent: set KUBESIFT_DATASETS or check out shared/")
    return found


def e2e_lines(count: int) -> list[str]:
    base = (_fixtures("ci") / "sonobuoy-e2e" / "e2e.head.log").read_text().splitlines()
    out: list[str] = []
    copy_no = 0
    while len(out) < count:
        copy_no += 1
        out += [_NUMBER.sub(lambda m, k=copy_no: str(int(m.group()) + k), ln) for ln in base]
    return out[:count]


def templates(quick: bool) -> dict[str, Any]:
    """Grouping accuracy per system (real logs: bench/logsamples and the e2e build log;
    and our generated Kubernetes-style lines), this templater beside Drain alone (its
    first split by token count, no free-text tails); lines/s in one pass."""
    import log_events

    data = e2e_lines(20_000 if quick else 200_000)
    started = time.perf_counter()
    found = mine(data)
    seconds = time.perf_counter() - started
    real = [line for lines in log_events.samples().values() for line in lines]
    mixed: list[str] = []
    while len(mixed) < len(data):  # copies with their numbers moved, as e2e_lines does
        k = len(mixed) // len(real) + 1
        mixed += [_NUMBER.sub(lambda m, k=k: str(int(m.group()) + k), ln) for ln in real]
    mixed = mixed[: len(data)]
    started = time.perf_counter()
    mine(mixed)
    mixed_seconds = time.perf_counter() - started
    out: dict[str, Any] = {
        "template_lines": len(data),
        "template_seconds": round(seconds, 2),
        "template_lines_per_s": round(len(data) / seconds),
        "template_lines_per_s_real_samples": round(len(mixed) / mixed_seconds),
        "templates_e2e_repeated": len({t for t, _ in found}),
    }
    systems = {s: (lines, lambda line, s=s: log_events.label(s, line))
               for s, lines in log_events.samples().items()}  # fmt: skip
    e2e = (_fixtures("ci") / "sonobuoy-e2e" / "e2e.head.log").read_text().splitlines()
    systems["k8s-e2e"] = (e2e, lambda line: label(line) or "")
    for name, tails in (("", True), ("_drain", False)):
        scores = []
        for system, (lines, labeller) in systems.items():
            mined = mine(lines, tails=tails)
            kept = [(t, labeller(line)) for (t, _), line in zip(mined, lines, strict=True)]
            kept = [(t, e) for t, e in kept if e]
            score = grouping_accuracy([t for t, _ in kept], [e for _, e in kept])
            out[f"accuracy{name}.{system}"] = round(score, 4)
            out[f"accuracy_labelled_lines.{system}"] = len(kept)  # of the system's lines
            scores.append(score)
        own = labelled_lines(2_000 if quick else 20_000, seed=9)
        own_found = mine([line for _, line in own], tails=tails)
        own_score = grouping_accuracy([t for t, _ in own_found], [e for e, _ in own])
        out[f"accuracy{name}.k8s-style-generated"] = round(own_score, 4)
        out[f"accuracy{name}.mean_real"] = round(sum(scores) / len(scores), 4)
    return out


SPREAD = ("fewer_pages_than_grouping", "recall_needs_human", "missed_per_1000_alerts",
          "precision_of_pages")  # fmt: skip


def _quiet() -> Any:
    """[alerts.quiet] for the replay: the defaults, or ``KUBESIFT_BENCH_OPEN_AFTER=N`` to
    measure another N-of-M."""
    from kubesift.alerts.quiet import Quiet

    after = os.environ.get("KUBESIFT_BENCH_OPEN_AFTER")
    return Quiet(open_after=int(after)) if after else Quiet()


def replay_one(days: int, per_day: int, seed: int) -> tuple[dict[str, Any], int, float]:
    from kubesift.alerts.generate import generate
    from kubesift.alerts.replay import run
    from kubesift.alerts.rules import load_rules
    from kubesift.store.db import create_store_engine, ensure_schema

    rules = load_rules(_fixtures("alerts") / "kube-prometheus-alerts.tsv")
    records = generate(rules, days=days, per_day=per_day, seed=seed)
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_store_engine(f"sqlite:///{tmp}/replay.db")
        ensure_schema(engine)
        started = time.perf_counter()
        figures, _ = run(engine, records, quiet=_quiet())
        seconds = time.perf_counter() - started
        engine.dispose()
    return figures, len(records) - 1, seconds


def replay(quick: bool) -> dict[str, Any]:
    """The first seed's figures in full; over all seeds (the feedback loop makes one run
    a single trajectory), the mean, min and max of the headline figures."""
    days, per_day = (10, 40) if quick else (28, 60)
    seeds = (7,) if quick else (7, 8, 9)
    runs = [replay_one(days, per_day, seed) for seed in seeds]
    figures, deliveries, seconds = runs[0]
    out: dict[str, Any] = {
        "replay_days": days,
        "replay_seeds": len(seeds),
        "replay_deliveries": deliveries,
        "replay_seconds": round(seconds, 1),
        **{f"replay_{k}": v for k, v in figures.items()},
    }
    for key in SPREAD:
        values = [r[0][key] for r in runs]
        out[f"replay_{key}_mean"] = round(sum(values) / len(values), 4)
        out[f"replay_{key}_min"] = min(values)
        out[f"replay_{key}_max"] = max(values)
    return out


def _payloads(count: int) -> list[dict[str, Any]]:
    """Alertmanager messages of one alert each: 200 workloads x a few alertnames, firing
    (new incidents and joins), their re-sends, and some resolutions."""
    base = {"version": "4", "status": "firing", "receiver": "kubesift", "groupKey": "{}:{}",
            "truncatedAlerts": 0, "groupLabels": {}, "commonLabels": {},
            "commonAnnotations": {}, "externalURL": "http://alertmanager:9093"}  # fmt: skip
    names = ("KubePodCrashLooping", "KubePodNotReady", "KubeContainerWaiting", "TargetDown")
    out = []
    for n in range(count):
        workload, name = f"svc{n % 200}", names[(n // 200) % len(names)]
        labels = {"alertname": name, "severity": "warning", "namespace": f"team{n % 20}",
                  "pod": f"{workload}-7d9f8c6b5-x2k9q", "instance": "10.0.0.1"}  # fmt: skip
        alert = {"status": "firing", "labels": labels, "annotations": {"summary": name},
                 "startsAt": f"2026-09-01T{(n // 3600) % 24:02d}:{(n // 60) % 60:02d}:"
                             f"{n % 60:02d}Z", "endsAt": "0001-01-01T00:00:00Z",
                 "fingerprint": f"{n:016x}"}  # fmt: skip
        if n % 10 == 9:  # a re-send of the alert before
            alert = copy.deepcopy(out[-1]["alerts"][0])
        out.append({**base, "alerts": [alert]})
    return out


async def _load(host: str, port: int, path: str, payloads: list[dict[str, Any]],
                seconds: float, concurrency: int) -> tuple[int, list[float], int]:  # fmt: skip
    """Keep-alive connections, one request in flight on each, written as raw bytes: the
    load costs little CPU, so the receiver's own speed is what is measured."""
    bodies = [orjson.dumps(p) for p in payloads]
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {TOKEN}\r\n"
            "Content-Type: application/json\r\nContent-Length: ").encode()  # fmt: skip
    latencies: list[float] = []
    errors = sent = 0
    deadline = time.perf_counter() + seconds

    async def worker(k: int) -> None:
        nonlocal errors, sent
        reader, writer = await asyncio.open_connection(host, port)
        i = k
        while time.perf_counter() < deadline:
            body = bodies[i % len(bodies)]
            started = time.perf_counter()
            writer.write(head + str(len(body)).encode() + b"\r\n\r\n" + body)
            status = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            errors += b" 200 " not in status
            sent += 1
            i += concurrency
        writer.close()

    await asyncio.gather(*(worker(k) for k in range(concurrency)))
    return sent, latencies, errors


def intake(quick: bool) -> dict[str, Any]:
    seconds = 5.0 if quick else 20.0
    payloads = _payloads(40_000)
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "KUBESIFT_HOME": tmp, "KUBESIFT_ALERTS_TOKEN": TOKEN}
        env.pop("KUBESIFT_DATABASE_URL", None)
        port = 9700 + os.getpid() % 200
        server = subprocess.Popen(
            [sys.executable, "-m", "kubesift", "alerts", "serve", "--host", "127.0.0.1",
             "--port", str(port), "--digest-every", "0"], env=env,
        )  # fmt: skip
        try:
            wait_healthy(server, f"http://127.0.0.1:{port}", "the alert receiver")
            path = "/v1/alerts/alertmanager"
            asyncio.run(_load("127.0.0.1", port, path, payloads[:500], 1.0, 16))
            sent, lat, errors = asyncio.run(
                _load("127.0.0.1", port, path, payloads[500:], seconds, CONCURRENCY)
            )
        finally:
            server.terminate()
            server.wait(10)
    lat.sort()
    return {
        "intake_seconds": seconds,
        "intake_alerts": sent,
        "intake_alerts_per_s": round(sent / seconds),
        "intake_ack_p50_ms": round(lat[len(lat) // 2] * 1000, 2),
        "intake_ack_p99_ms": round(lat[int(len(lat) * 0.99)] * 1000, 2),
        "intake_errors": errors,
        "intake_concurrency": CONCURRENCY,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a reduced run (under 60 s)")
    parser.add_argument("--json", type=Path, help="write the figures as a flat JSON object")
    parser.add_argument("--only", default=",".join(PARTS), help=f"parts: {','.join(PARTS)}")
    args = parser.parse_args()
    parts = [p for p in args.only.split(",") if p]
    unknown = set(parts) - set(PARTS)
    if unknown:
        sys.exit(f"unknown part {sorted(unknown)[0]!r} (parts: {', '.join(PARTS)})")
    figures: dict[str, Any] = {}
    for part in PARTS:
        if part in parts:
            figures.update({"templates": templates, "replay": replay, "intake": intake}[part](
                args.quick))  # fmt: skip
    print_figures(figures, args.json)


if __name__ == "__main__":
    main()
