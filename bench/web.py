"""Dashboard benchmark: each page's API on a big store.

Builds a store with a generated Kubernetes-like history exported from the fake GitHub
(91,000 items; 5,000 with --quick), a generated Prow history imported from its files
(37 days of 100 jobs × 60 tests, 12 runs a day each: 44,400 runs; 8 jobs with --quick),
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
from _measure import export_generated, quick_main, wait_healthy

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


#: (jobs, tests per job, runs per job and day) over 37 days: the 30-day basis and the
#: 7-day sample Component Readiness compares. Full: 44,400 runs, 1,200 a day.
CI_SIZE = {"full": (100, 60, 12), "quick": (8, 40, 4)}


def seed_ci(engine: Any, root: Path, quick: bool) -> int:
    jobs, tests, per_day = CI_SIZE["quick" if quick else "full"]
    end = int(time.time()) // 3600 * 3600
    h = generate(root, end=end, days=37, jobs=jobs, tests=tests, runs_per_job_day=per_day,
                 regressions=4, flakes=6, seed=7)  # fmt: skip
    now = stamp(datetime.now(UTC))
    import_runs(engine, LocalSource(root), variants.load(), now=now)
    with engine.begin() as conn:
        regressions.report(conn, list(variants.load().columns), now=now)
    return h.runs


def seed_model(home: Path, engine: Any) -> str:
    from tests.learn.conftest import synthetic_notes

    save_notes(engine, synthetic_notes(), "kubernetes/kubernetes")
    spec = TrainSpec(labels=("kind/bug",), families=("sig",), split="release:1.29", compare=(),
                     folds=3)  # fmt: skip
    version = save_trained(home / "models", train(load_dataset(engine), spec))
    return f"{version.name}/{version.version}"


def build(home: Path, items: int, quick: bool) -> dict[str, Any]:
    engine = open_store(load_settings({"KUBESIFT_HOME": str(home)}))
    timings: dict[str, Any] = {}
    for name, step in (
        ("export", lambda: export_generated(engine, items)),
        ("ci", lambda: timings.update(ci_runs=seed_ci(engine, home / "ci-tree", quick))),
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
    wait_healthy(proc, url, "kubesift web")
    return proc, url


def red_cell(client: httpx.Client) -> str:
    """The failure API's query for a failing cell of the first job with one."""
    for j in client.get("/api/ci/jobs").json()["jobs"]:
        grid = client.get("/api/ci/grid", params={"job": j["job"], "only": "failing"}).json()
        for row in grid["rows"][1:]:
            if 12 in row["cells"]:
                build = grid["columns"][row["cells"].index(12)]["build"]
                q = {"job": j["job"], "build": build, "suite": row["suite"], "test": row["name"]}
                return str(httpx.QueryParams(q))
    raise SystemExit("no failing cell in the generated CI history")


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
        "ci_flakes": "/api/ci/flakes",
        "ci_clusters": "/api/ci/clusters",
        "ci_failure": f"/api/ci/failure?{red_cell(client)}",
        "ci_search": "/api/ci/search?q=i/o%20timeout",
        "ci_search_days": "/api/ci/search?q=exited%20with%20code%20137&days=30",
    }


def warm_up(url: str, started: float) -> float:
    """Seconds from starting the server until its caches are warm (``/healthz`` says so)."""
    while not httpx.get(f"{url}/healthz", timeout=5).json().get("warm"):
        if time.perf_counter() - started > 600:
            raise SystemExit("kubesift web did not warm its caches in 10 minutes")
        time.sleep(0.2)
    return round(time.perf_counter() - started, 1)


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
        seeded = build(home, items, quick)
        model = seeded.pop("model")
        figures |= seeded
        started = time.perf_counter()
        proc, url = serve(home)
        try:
            figures["warm_s"] = warm_up(url, started)
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
        f"kubesift web on {f['items']:,} items, {f['ci_runs']:,} CI runs over 37 days, "
        "50,000 bot decisions, "
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
        f"(the server warmed its caches {f['warm_s']} s after it started; first: the first"
        " call after that)"
    )
    print("seeding: " + ", ".join(f"{k} {v} s" for k, v in f.items() if k.startswith("seed_")))


def main() -> None:
    quick_main(__doc__ or "", run, print_table, "5,000 items")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests' small helpers
    main()
