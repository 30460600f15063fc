"""Dashboard benchmark: each page's API on a big store.

Builds a store with a generated Kubernetes-like history exported from the fake GitHub
(91,000 items; 5,000 with --quick), a generated Prow history (a week of runs of 8 jobs),
50,000 bot decisions, a trained model and 3,000 alert incidents; starts ``kubesift web``
as its own process and times every page's API call from this process (sequential
requests over one keep-alive connection), p50 / p95 / max.

    python bench/web.py             # 91,000 items
    python bench/web.py --quick     # 5,000 items (< 60 s)
    python bench/web.py --json out.json
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from _measure import export_generated, quick_main

from kubesift.alerts.ingest import Triage
from kubesift.alerts.service import ingest
from kubesift.alerts.signals import from_alertmanager
from kubesift.ci import regressions, variants
from kubesift.ci.importer import import_runs
from kubesift.ci.sources import LocalSource
from kubesift.collect.importer import save_notes
from kubesift.config import load_settings
from kubesift.learn.dataset import load_dataset
from kubesift.learn.service import save_trained
from kubesift.learn.train import TrainSpec, train
from kubesift.store import open_store
from kubesift.store.schema import bot_decisions
from kubesift.testing.cihistory import generate

REQUESTS = 40
LIMIT_P95_MS = 300


def stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def seed_bot(engine: Any, count: int) -> None:
    rng = random.Random(3)
    now = datetime.now(UTC)
    labels = ["kind/bug", "kind/feature", "sig/node", "sig/network", "area/kubelet"]
    rows = [
        {"repo": "kubernetes/kubernetes", "number": 100_000 + i,
         "kind": rng.choice(["issue", "pr"]), "label": rng.choice(labels), "score": rng.random(),
         "action": rng.choice(["added", "held_back"]), "dry_run": False,
         "model": "sift-linear@bench",
         "created_at": stamp(now - timedelta(minutes=count - i))}
        for i in range(count)
    ]  # fmt: skip
    with engine.begin() as conn:
        for start in range(0, count, 5_000):
            conn.execute(bot_decisions.insert(), rows[start : start + 5_000])


def seed_alerts(engine: Any, count: int) -> None:
    rng = random.Random(5)
    now = datetime.now(UTC)
    names = ["KubePodCrashLooping", "KubeDeploymentReplicasMismatch", "CPUThrottlingHigh",
             "KubeJobFailed", "TargetDown", "NodeFilesystemSpaceFillingUp"]  # fmt: skip
    triage = Triage()
    for start in range(0, count, 500):
        alerts = []
        for i in range(start, min(start + 500, count)):
            at = stamp(now - timedelta(minutes=(count - i) * 3))
            alerts.append({
                "status": "firing",
                "labels": {"alertname": rng.choice(names), "namespace": f"ns-{i % 40}",
                           "severity": rng.choice(["warning", "info", "critical"]),
                           "pod": f"app-{i % 97}-7d9f8-abcde"},
                "annotations": {"summary": "bench"}, "startsAt": at,
                "endsAt": "0001-01-01T00:00:00Z", "fingerprint": f"fp{i}",
            })  # fmt: skip
        payload = {"version": "4", "status": "firing", "receiver": "bench", "groupLabels": {},
                   "commonLabels": {}, "commonAnnotations": {}, "externalURL": "",
                   "groupKey": "{}", "truncatedAlerts": 0, "alerts": alerts}  # fmt: skip
        ingest(engine, triage, from_alertmanager(payload))


def seed_ci(engine: Any, root: Path) -> None:
    end = int(time.time()) // 3600 * 3600
    generate(root, end=end, days=37, jobs=8, tests=40, runs_per_job_day=4, seed=7)
    now = stamp(datetime.now(UTC))
    import_runs(engine, LocalSource(root), variants.load(), now=now)
    with engine.begin() as conn:
        regressions.report(conn, list(variants.load().columns), now=now)


def seed_model(home: Path, engine: Any) -> str:
    from tests.learn.conftest import synthetic_notes

    save_notes(engine, synthetic_notes(), "kubernetes/kubernetes")
    spec = TrainSpec(labels=("kind/bug",), families=("sig",), split="release:1.29", compare=(),
                     folds=3)  # fmt: skip
    version = save_trained(home / "models", train(load_dataset(engine), spec))
    return f"{version.name}/{version.version}"


def build(home: Path, items: int) -> dict[str, Any]:
    engine = open_store(load_settings({"KUBESIFT_HOME": str(home)}))
    timings: dict[str, Any] = {}
    for name, step in (
        ("export", lambda: export_generated(engine, items)),
        ("ci", lambda: seed_ci(engine, home / "ci-tree")),
        ("bot", lambda: seed_bot(engine, 50_000)),
        ("alerts", lambda: seed_alerts(engine, 3_000)),
    ):
        start = time.perf_counter()
        step()
        timings[f"seed_{name}_s"] = round(time.perf_counter() - start, 1)
    timings["model"] = seed_model(home, engine)
    return timings


def serve(home: Path) -> tuple[subprocess.Popen[bytes], str]:
    from tests.serve.conftest import free_port

    port = free_port()
    env = {**os.environ, "KUBESIFT_HOME": str(home)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "kubesift", "web", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("kubesift web did not start")


def endpoints(client: httpx.Client, model: str) -> dict[str, str]:
    job = client.get("/api/ci/jobs").json()["jobs"][0]["job"]
    return {
        "overview": "/api/overview",
        "models": "/api/models",
        "model": f"/api/models/{model}",
        "bot": "/api/bot/decisions",
        "bot_filtered": "/api/bot/decisions?label=sig/node&page=20",
        "ci_jobs": "/api/ci/jobs",
        "ci_grid": f"/api/ci/grid?job={job}",
        "alerts": "/api/alerts/incidents",
        "alerts_paged": "/api/alerts/incidents?decision=page&page=3",
        "project": "/api/project",
        "project_issues": "/api/project?kind=issue&since=2024-01-01",
        "ci_readiness": "/api/ci/readiness",
    }


def time_api(url: str, model: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with httpx.Client(base_url=url, timeout=30) as client:
        for name, path in endpoints(client, model).items():
            seconds = []
            start = time.perf_counter()
            client.get(path)  # the first call may fill a cache: reported on its own
            out[f"{name}_first_ms"] = round((time.perf_counter() - start) * 1000, 1)
            for _ in range(REQUESTS):
                start = time.perf_counter()
                response = client.get(path)
                seconds.append(time.perf_counter() - start)
                if response.status_code != 200:
                    raise SystemExit(f"{path}: {response.status_code} {response.text[:200]}")
            ms = sorted(s * 1000 for s in seconds)
            out[f"{name}_p50_ms"] = round(statistics.median(ms), 1)
            out[f"{name}_p95_ms"] = round(ms[int(len(ms) * 0.95) - 1], 1)
            out[f"{name}_max_ms"] = round(ms[-1], 1)
    return out


def run(quick: bool) -> dict[str, Any]:
    items = 5_000 if quick else 91_000
    with tempfile.TemporaryDirectory(prefix="kubesift-bench-web-") as tmp:
        home = Path(tmp)
        figures: dict[str, Any] = {"quick": quick, "cpus": os.cpu_count(), "items": items}
        seeded = build(home, items)
        model = seeded.pop("model")
        figures |= seeded
        proc, url = serve(home)
        try:
            figures |= time_api(url, model)
        finally:
            proc.terminate()
            proc.wait(10)
    worst = max(v for k, v in figures.items() if k.endswith("_p95_ms"))
    figures["worst_first_ms"] = max(v for k, v in figures.items() if k.endswith("_first_ms"))
    figures["worst_p95_ms"] = worst
    figures["all_under_300ms_p95"] = worst <= LIMIT_P95_MS
    return figures


def print_table(f: dict[str, Any]) -> None:
    print(
        f"kubesift web on {f['items']:,} items, a week of CI, 50,000 bot decisions, "
        f"3,000 incidents ({f['cpus']} cores; {REQUESTS} sequential requests each)"
    )
    print(f"{'API':16} {'first ms':>9} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for key in [k[: -len("_p50_ms")] for k in f if k.endswith("_p50_ms")]:
        print(
            f"{key:16} {f[key + '_first_ms']:>9} {f[key + '_p50_ms']:>8} "
            f"{f[key + '_p95_ms']:>8} {f[key + '_max_ms']:>8}"
        )
    verdict = "yes" if f["all_under_300ms_p95"] else "NO"
    print(f"worst p95: {f['worst_p95_ms']} ms; every page ≤ {LIMIT_P95_MS} ms p95: {verdict}")
    print(
        "(first: the first call after a store change, which fills the charts' and readiness'"
        " caches)"
    )
    print("seeding: " + ", ".join(f"{k} {v} s" for k, v in f.items() if k.startswith("seed_")))


def main() -> None:
    quick_main(__doc__ or "", run, print_table, "5,000 items")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests' small helpers
    main()
