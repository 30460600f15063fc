"""``make demo``: the whole loop on the fakes, unattended, ending with the dashboard.

fake GitHub → export → release notes → report → train → serve → the bot labels new PRs
live → CI results from a fake GCS with an injected regression and a flake → an alert
replay → ``kubesift web``. Every step is the ``kubesift`` command a user would type (it is
printed before it runs); the fakes run in this process. Ctrl-C (or ``make demo-stop``,
which sends SIGTERM to the pid in ``$KUBESIFT_HOME/demo.pid``) stops everything it
started, and nothing is left behind.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from kubesift.bot.signature import sign
from kubesift.config import find_datasets, find_shared, load_settings
from kubesift.testing import FakeGitHub, create_app, generate_repo, serve_in_thread
from kubesift.testing.server import RunningServer

REPO = "kubernetes/kubernetes"
NEW_PRS = (
    ("Fix a kubelet panic when a pod is deleted during startup",
     "Fixed a panic in the kubelet when a pod was deleted while its containers started."),
    ("Add a --dry-run flag to kubectl drain",
     "kubectl drain gains a --dry-run=server flag."),
    ("Fix a data race in the scheduler cache",
     "Fixed a race in the scheduler's cache that could drop pods from the queue."),
)  # fmt: skip


class Demo:
    def __init__(self, home: Path, ports: dict[str, int], say: Callable[[str], None]) -> None:
        self.home = home
        self.ports = ports
        self.say = say
        self.env = {**os.environ, "KUBESIFT_HOME": str(home)}
        self.procs: list[subprocess.Popen[bytes]] = []
        self.servers: list[RunningServer] = []
        self.started = time.monotonic()

    # -- running commands -------------------------------------------------------------------

    def step(self, title: str) -> None:
        self.say(f"\n== [{time.monotonic() - self.started:5.1f} s] {title}")

    def run(self, *args: str, env: dict[str, str] | None = None) -> str:
        self.say("$ kubesift " + " ".join(args))
        done = subprocess.run(
            [sys.executable, "-m", "kubesift", *args],
            env={**self.env, **(env or {})}, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise SystemExit(f"kubesift {' '.join(args)} failed:\n{done.stderr[-2000:]}")
        return done.stdout

    def start(self, name: str, *args: str, ready: str) -> None:
        """A long-running ``kubesift`` process; waits until ``ready`` (a URL) answers 200."""
        self.say("$ kubesift " + " ".join(args) + " &")
        log = (self.home / f"demo-{name}.log").open("wb")
        self.procs.append(
            subprocess.Popen([sys.executable, "-m", "kubesift", *args], env=self.env,
                             stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        )  # fmt: skip
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.procs[-1].poll() is not None:
                raise SystemExit(f"{name} exited; see {log.name}")
            try:
                if httpx.get(ready, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"{name} did not become ready; see {log.name}")

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        for server in self.servers:
            server.stop()
        (self.home / "demo.pid").unlink(missing_ok=True)


# -- the steps ----------------------------------------------------------------------------------


def fake_github(d: Demo, items: int) -> tuple[FakeGitHub, str, str]:
    d.step(f"a fake GitHub with a generated {REPO} of {items:,} items")
    fake = FakeGitHub(rate_limit=10**9)
    fake.add_repo(generate_repo(items, seed=42))
    token = fake.new_token("kubesift-demo")
    fake.add_token(token, "kubesift-demo")
    server = serve_in_thread(create_app(fake))
    d.servers.append(server)
    d.say(f"   serving {server.url}")
    return fake, server.url, token


def collect(d: Demo, url: str, token: str, notes: Path | None) -> str:
    d.step("export the repository, import release notes, write the report")
    d.run("export", "--repo", REPO, "--api-url", url, env={"GITHUB_TOKEN": token})
    if notes is not None:
        d.run("import", "release-notes", str(notes))
    report = d.run("report").strip()
    d.say(f"   report: {report}")
    return "release-notes" if notes is not None else "items"


def learn(d: Demo, source: str) -> None:
    d.step(
        "train kind/bug and the kind and sig families: an evaluation run, then the "
        "production fit on everything"
    )
    out = d.run("train", "--source", source, "--label", "kind/bug", "--family", "kind",
                "--family", "sig", "--no-compare", "--production", "--json")  # fmt: skip
    metrics = json.loads(out)["metrics"]
    bug = (metrics["calibration"]["labels"] or {}).get("kind/bug", {})
    d.say(f"   kind/bug acts at {bug.get('threshold') or 0:.3f}, promising precision "
          f"{bug.get('expected_precision')}; {len(metrics['calibration']['abstains'])} "
          f"labels abstain")  # fmt: skip


def serve_model(d: Demo, source: str) -> None:
    d.step("serve the model over KServe's protocols")
    port = d.ports["serve"]
    try:
        d.start("serve", "serve", "--port", str(port), "--source", source,
                ready=f"http://127.0.0.1:{port}/v2/health/ready")  # fmt: skip
    except SystemExit as exc:
        d.say(f"   skipped: {exc} (install the serve extra: pip install 'kubesift[serve]')")
        return
    answer = httpx.post(
        f"http://127.0.0.1:{port}/v1/models/kubernetes-analysis:predict",
        json={"instances": [{"text": "Fix a nil pointer panic in the kube-proxy"}]}, timeout=10,
    ).json()  # fmt: skip
    d.say(f"   predict → {answer['predictions'][0]['labels']}")


def bot(d: Demo, fake: FakeGitHub, url: str, token: str) -> None:
    d.step("the bot labels new PRs as they are opened (signed webhooks, live)")
    secret = "demo-webhook-secret"
    (d.home / "demo-secret").write_text(secret)
    (d.home / "demo-token").write_text(token)
    port = d.ports["bot"]
    d.start("bot", "bot", "--port", str(port), "--host", "127.0.0.1", "--github-endpoint", url,
            "--github-token-path", str(d.home / "demo-token"),
            "--hmac-secret-file", str(d.home / "demo-secret"),
            ready=f"http://127.0.0.1:{port}/healthz")  # fmt: skip
    numbers = []
    for title, note in NEW_PRS:
        body = f"#### What this PR does\n\n{title}.\n\n```release-note\n{note}\n```\n"
        item = fake.create_item(REPO, title=title, body=body, kind="pr", user="contributor")
        numbers.append(item.number)
        payload = {
            "action": "opened", "number": item.number, "sender": {"login": "contributor"},
            "repository": {"full_name": REPO, "name": "kubernetes",
                           "owner": {"login": "kubernetes"}},
            "pull_request": {"number": item.number, "title": title, "body": body,
                             "user": {"login": "contributor"}, "merged": False},
        }  # fmt: skip
        raw = json.dumps(payload).encode()
        httpx.post(f"http://127.0.0.1:{port}/", content=raw, timeout=10, headers={
            "X-GitHub-Event": "pull_request", "X-GitHub-Delivery": f"demo-{item.number}",
            "X-Hub-Signature-256": sign(raw, secret), "Content-Type": "application/json",
        })  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        done = [n for n in numbers if any(c.user != "contributor"
                                          for c in fake.list_comments(REPO, n))]  # fmt: skip
        if len(done) == len(numbers):
            break
        time.sleep(0.3)
    for n, (title, _note) in zip(numbers, NEW_PRS, strict=True):
        d.say(f"   #{n} {title!r} → labels {list(fake.get_item(REPO, n).labels)}")


def ci(d: Demo) -> None:
    from kubesift.testing.cihistory import generate
    from kubesift.testing.fakegcs import FakeGCS

    d.step("CI results from a fake GCS bucket: an injected regression and a flake")
    d.say("   (the jobs are named like OpenShift's periodic jobs, whose names carry the variants"
          " Sippy's Component Readiness compares: platform, network, release)")  # fmt: skip
    root = d.home / "demo-gcs"
    bucket = root / "demo-ci"
    if not bucket.exists():
        end = int(time.time()) // 3600 * 3600
        generate(bucket, end=end, days=37, jobs=4, tests=25, runs_per_job_day=3, seed=3,
                 regressions=1, flakes=1)  # fmt: skip
    server = serve_in_thread(FakeGCS(root).asgi())
    d.servers.append(server)
    d.run("ci", "import", "gs://demo-ci", "--api-url", server.url)
    found = json.loads(d.run("ci", "regressions", "--json"))
    for r in found.get("regressions", [])[:3]:
        d.say(f"   regression: {r['test']} on {r['variants'].split(',')[0]}")


def alerts(d: Demo) -> None:
    d.step("an alert replay: which alerts needed a human, learnt from the people on call")
    shared = find_shared()
    rules = shared / "fixtures" / "alerts" / "kube-prometheus-alerts.tsv" if shared else None
    if rules is None or not rules.exists():
        d.say("   skipped: kube-prometheus rules not found (../shared/fixtures/alerts)")
        return
    stream = d.home / "demo-alerts.jsonl"
    d.run("alerts", "generate", str(stream), "--rules", str(rules), "--days", "4",
          "--per-day", "30")  # fmt: skip
    # `kubesift alerts replay` keeps its own throwaway store; the demo replays into this
    # one (the same library call) so that the dashboard's Alerts page shows the inbox.
    d.say(f"$ kubesift alerts replay {stream}   (into this store)")
    from kubesift.alerts.replay import run as replay
    from kubesift.store import open_store

    records = [json.loads(line) for line in stream.read_text().splitlines() if line.strip()]
    engine = open_store(load_settings({"KUBESIFT_HOME": str(d.home)}))
    figures, _state = replay(engine, records)
    from kubesift.alerts import queries

    with engine.connect() as conn:  # the figures the Alerts page shows, from the store
        for line in queries.headlines(queries.inbox(conn, limit=1)):
            d.say(f"   {line}")
    engine.dispose()
    d.say(
        f"   the replay's second half (after its drift): kubesift paged {figures['pages_kubesift']}"
        f" times where Alertmanager's grouping notified {figures['pages_grouping']}, recall of"
        f" needed a human {figures['recall_needs_human']}"
    )


def web(d: Demo) -> str:
    d.step("the dashboard")
    port = d.ports["web"]
    d.start("web", "web", "--port", str(port), ready=f"http://127.0.0.1:{port}/healthz")
    return f"http://127.0.0.1:{port}/"


def run(home: Path, items: int, ports: dict[str, int], use_notes: bool, hold: bool) -> None:
    say = lambda line: print(line, flush=True)  # noqa: E731
    d = Demo(home, ports, say)
    home.mkdir(parents=True, exist_ok=True)
    (home / "demo.pid").write_text(str(os.getpid()))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        fake, url, token = fake_github(d, items)
        datasets = find_datasets()
        notes = datasets / "k8s-release-notes" if datasets and use_notes else None
        source = collect(d, url, token, notes if notes and notes.exists() else None)
        learn(d, source)
        serve_model(d, source)
        bot(d, fake, url, token)
        ci(d)
        alerts(d)
        address = web(d)
        d.say(f"\nkubesift is running: open {address}  (took {time.monotonic() - d.started:.0f} s)")
        d.say("Ctrl-C (or `make demo-stop`) stops the dashboard, the bot, the model server "
              "and the fakes.")  # fmt: skip
        if hold:
            while not stop.wait(0.5):
                pass
    except KeyboardInterrupt:
        pass
    finally:
        d.stop()
        say("stopped everything the demo started")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--items", type=int, default=3_000, help="generated issues and PRs")
    parser.add_argument("--no-notes", action="store_true", help="train on the items instead")
    parser.add_argument("--web-port", type=int, default=8787)
    parser.add_argument("--bot-port", type=int, default=8788)
    parser.add_argument("--serve-port", type=int, default=8789)
    parser.add_argument("--no-hold", action="store_true", help="stop after starting (tests)")
    args = parser.parse_args(argv)
    home = load_settings().home
    ports = {"web": args.web_port, "bot": args.bot_port, "serve": args.serve_port}
    random.seed(0)
    run(home, args.items, ports, not args.no_notes, not args.no_hold)


if __name__ == "__main__":
    main()
