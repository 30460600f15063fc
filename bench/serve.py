"""Model server benchmark: ``kubesift serve`` under load from ``wrk`` (a separate process).

Trains a model into a temporary KUBESIFT_HOME (the shared release notes when found, else
synthetic notes), starts one ``kubesift serve`` process, and drives it with ``wrk`` (Debian:
``apt-get install -y wrk``; a Lua script picks a different release note per request) at
1, 16 and 128 connections, posting single texts (``{"instances": [text]}``) and batches
of 32 texts. Reports requests/s, p50/p99 latency, errors and the server's memory.

    python bench/serve.py                  # 10 s per scenario
    python bench/serve.py --quick          # 3 s per scenario, smaller model (< 60 s)
    python bench/serve.py --models DIR     # serve the models in DIR instead of training
    python bench/serve.py --json out.json  # also write the figures as a flat JSON object
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
NAME = "kubernetes-analysis"
PATH = f"/v1/models/{NAME}:predict"
SCENARIOS = [("single", 1, 1), ("single", 16, 1), ("single", 128, 1)]
SCENARIOS += [("batch32", 1, 32), ("batch32", 16, 32), ("batch32", 128, 32)]
TARGETS = {
    "single_c16_rps": (">=", 1000.0),
    "single_c16_p99_ms": ("<=", 25.0),
    "batch32_c1_p99_ms": ("<=", 40.0),
}

LUA = r"""
local bodies = {}
%(bodies)s
local n = #bodies
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i %% n + 1
  return wrk.format(nil, nil, nil, bodies[i])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p90_us": %%d, ' ..
    '"p99_us": %%d, "max_us": %%d, "mean_us": %%f, "non2xx": %%d, "socket_errors": %%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean, e.status,
    e.connect + e.read + e.write + e.timeout))
end
"""


def synthetic_texts(count: int = 512) -> list[dict[str, Any]]:
    sys.path.insert(0, str(ROOT))
    from tests.learn.conftest import synthetic_notes

    return [{"text": n.text, "author": n.author} for n in synthetic_notes(count, seed=11)]


def notes_dir() -> Path | None:
    from kubesift.config import find_datasets

    base = find_datasets()
    path = base / "k8s-release-notes" if base else None
    return path if path is not None and path.is_dir() else None


def train_model(home: Path, quick: bool) -> tuple[str, list[dict[str, Any]]]:
    """Train and save a model; also the texts to send (the test period's notes)."""
    from kubesift.collect.importer import import_release_notes, save_notes
    from kubesift.config import load_settings
    from kubesift.learn.dataset import load_dataset
    from kubesift.learn.service import save_trained
    from kubesift.learn.train import TrainSpec, train
    from kubesift.store import open_store

    engine = open_store(load_settings({"KUBESIFT_HOME": str(home)}))
    found = notes_dir()
    if found is not None and not quick:
        import_release_notes(engine, [str(found)])
        spec = TrainSpec(labels=("kind/bug",), families=("kind", "sig"), compare=(), folds=3)
        source = "k8s-release-notes"
    else:
        sys.path.insert(0, str(ROOT))
        from tests.learn.conftest import synthetic_notes

        save_notes(engine, synthetic_notes(600), "kubernetes/kubernetes")
        spec = TrainSpec(families=("kind", "sig"), split="release:1.29", compare=(), folds=3)
        source = "synthetic"
    dataset = load_dataset(engine)
    version = save_trained(home / "models", train(dataset, spec))
    rows = [{"text": e.text, "author": e.author} for e in dataset.examples[-512:]]
    labels = len(version.metadata["labels"])
    return f"{version.name}/{version.version} ({source}, {labels} labels)", rows


def lua_script(path: Path, bodies: list[bytes]) -> None:
    lines = [f"bodies[{i + 1}] = [==[{b.decode()}]==]" for i, b in enumerate(bodies)]
    path.write_text(LUA % {"bodies": "\n".join(lines)})


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Sampler(threading.Thread):
    """Peak RSS of a process, sampled every 50 ms."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.peak = 0
        self.stop_event = threading.Event()

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                self.peak = max(self.peak, self.proc.memory_info().rss)
            except psutil.Error:
                return
            self.stop_event.wait(0.05)


def wrk(url: str, script: Path, connections: int, seconds: float) -> dict[str, Any]:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{round(seconds)}s", "--timeout", "10s"]
    out = subprocess.run(
        [*cmd, "-s", str(script), url], capture_output=True, text=True, check=True
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    result: dict[str, Any] = json.loads(line[len("RESULT ") :])
    return result


def run(quick: bool, models: Path | None) -> dict[str, Any]:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install -y wrk")
    seconds = 3.0 if quick else 10.0
    figures: dict[str, Any] = {"quick": quick, "cpus": os.cpu_count(), "seconds": seconds}
    with tempfile.TemporaryDirectory(prefix="kubesift-bench-serve-") as tmp:
        home = Path(tmp) / "home"
        if models is not None:
            home.mkdir()
            (home / "models").symlink_to(models.resolve())
            figures["model"] = str(models)
            rows = synthetic_texts()
        else:
            start = time.perf_counter()
            figures["model"], rows = train_model(home, quick)
            figures["train_seconds"] = round(time.perf_counter() - start, 1)
        singles = [json.dumps({"instances": [r]}).encode() for r in rows]
        batches = [
            json.dumps({"instances": rows[i : i + 32]}).encode() for i in range(0, len(rows), 32)
        ]
        for kind, bodies in (("single", singles), ("batch32", batches)):
            lua_script(Path(tmp) / f"{kind}.lua", bodies)

        port = free_port()
        env = {**os.environ, "KUBESIFT_HOME": str(home)}
        log = (Path(tmp) / "serve.log").open("w")
        started = time.perf_counter()
        server = subprocess.Popen(
            [sys.executable, "-m", "kubesift", "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            while True:
                if server.poll() is not None:
                    raise SystemExit((Path(tmp) / "serve.log").read_text()[-3000:])
                try:
                    if httpx.get(base + "/v2/health/ready", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.05)
            figures["ready_seconds"] = round(time.perf_counter() - started, 2)
            proc = psutil.Process(server.pid)
            figures["rss_idle_mb"] = round(proc.memory_info().rss / 2**20, 1)
            sampler = Sampler(server.pid)
            sampler.start()
            for kind, connections, size in SCENARIOS:
                script = Path(tmp) / f"{kind}.lua"
                wrk(base + PATH, script, connections, 1.0)  # warm up
                r = wrk(base + PATH, script, connections, seconds)
                key = f"{kind}_c{connections}"
                rps = r["requests"] / (r["duration_us"] / 1e6)
                figures[f"{key}_rps"] = round(rps, 1)
                figures[f"{key}_texts_per_s"] = round(rps * size, 1)
                figures[f"{key}_p50_ms"] = round(r["p50_us"] / 1000, 2)
                figures[f"{key}_p99_ms"] = round(r["p99_us"] / 1000, 2)
                figures[f"{key}_max_ms"] = round(r["max_us"] / 1000, 2)
                figures[f"{key}_errors"] = r["non2xx"] + r["socket_errors"]
            sampler.stop_event.set()
            sampler.join()
            figures["rss_peak_mb"] = round(max(sampler.peak, proc.memory_info().rss) / 2**20, 1)
            figures["rss_after_mb"] = round(proc.memory_info().rss / 2**20, 1)
        finally:
            server.terminate()
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()
            log.close()
    for key, (op, target) in TARGETS.items():
        value = figures[key]
        figures[f"{key}_ok"] = value >= target if op == ">=" else value <= target
    return figures


def print_table(f: dict[str, Any]) -> None:
    print(f"model: {f['model']}; {f['cpus']} CPUs; {f['seconds']} s per scenario (wrk, 1 thread)")
    head = ("scenario", "conns", "req/s", "texts/s", "p50 ms", "p99 ms", "max ms", "errors")
    print("{:<9} {:>6} {:>9} {:>9} {:>8} {:>8} {:>8} {:>7}".format(*head))
    for kind, connections, _ in SCENARIOS:
        k = f"{kind}_c{connections}"
        print(
            f"{kind:<9} {connections:>6} {f[k + '_rps']:>9.0f} {f[k + '_texts_per_s']:>9.0f} "
            f"{f[k + '_p50_ms']:>8.2f} {f[k + '_p99_ms']:>8.2f} {f[k + '_max_ms']:>8.2f} "
            f"{f[k + '_errors']:>7}"
        )
    print(
        f"server RSS: idle {f['rss_idle_mb']} MiB, peak {f['rss_peak_mb']} MiB, "
        f"after {f['rss_after_mb']} MiB; ready after {f['ready_seconds']} s"
    )
    for key, (op, target) in TARGETS.items():
        mark = "ok" if f[f"{key}_ok"] else "MISSED"
        print(f"target {key} {op} {target}: {f[key]} {mark}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 s per scenario, small model")
    parser.add_argument("--models", type=Path, help="serve this models directory")
    parser.add_argument("--json", type=Path, help="write the figures as a flat JSON object")
    args = parser.parse_args()
    figures = run(args.quick, args.models)
    print_table(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
