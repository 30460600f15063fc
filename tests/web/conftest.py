"""A store with a trained model, bot decisions and alert incidents, and ``kubesift web``
running on it as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine

from kubesift.alerts.ingest import Triage
from kubesift.alerts.service import ingest
from kubesift.alerts.signals import from_alertmanager
from kubesift.ci import regressions, symptom_store, variants
from kubesift.ci.importer import import_runs
from kubesift.ci.sources import LocalSource
from kubesift.ci.symptoms import Symptom
from kubesift.config import load_settings
from kubesift.learn.service import save_trained
from kubesift.learn.train import Trained, TrainSpec
from kubesift.store import open_store
from kubesift.store.schema import (
    bot_corrections,
    bot_decisions,
    reconcile_decisions,
    reconcile_runs,
)
from kubesift.testing.cihistory import CIHistory, generate
from kubesift.testing.ciruns import write_timeline_run
from kubesift.testing.server import export_generated
from tests.ci.helpers import export_tracked_issues
from tests.conftest import PostgresDatabases
from tests.serve.conftest import free_port, train_small

TOKEN = "web-test-token-0000000000000001"
REPO = "kubernetes/kubernetes"
ISSUES_REPO = "openshift/origin"
#: matches the generated regression's failure text (cihistory.ERRORS[0])
OOM_SYMPTOM = Symptom("oom-kill", "Container OOM-killed (137)", "string", "exited with code 137")
TIMELINE_JOB = "periodic-ci-openshift-release-master-e2e-aws"
TIMELINE_BUILD = "1790000000000000001"


def stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="session")
def web_model(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    return train_small(tmp_path_factory.mktemp("webtrain"))


def alert(name: str, severity: str, namespace: str, fingerprint: str) -> dict[str, object]:
    return {
        "status": "firing",
        "labels": {"alertname": name, "severity": severity, "namespace": namespace,
                   "pod": f"{name.lower()}-7d9f8-abcde", "cluster": "prod"},
        "annotations": {"summary": f"{name} in {namespace}"},
        "startsAt": "2026-12-01T10:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "fingerprint": fingerprint,
    }  # fmt: skip


def webhook(*alerts: dict[str, object]) -> dict[str, object]:
    return {
        "version": "4", "groupKey": "{}:{}", "truncatedAlerts": 0, "status": "firing",
        "receiver": "kubesift", "groupLabels": {}, "commonLabels": {},
        "commonAnnotations": {}, "externalURL": "http://am:9093", "alerts": list(alerts),
    }  # fmt: skip


def seed(engine: Engine, model_ref: str, decisions: int = 120) -> None:
    payload = webhook(
        alert("KubePodCrashLooping", "critical", "payments", "f1"),
        alert("CPUThrottlingHigh", "info", "monitoring", "f2"),
        alert("KubeDeploymentReplicasMismatch", "warning", "shop", "f3"),
    )
    ingest(engine, Triage(), from_alertmanager(payload, now="2026-12-01T10:00:05Z"))
    now = datetime.now(UTC)
    # Rows go back 0-3 days (so on a Monday this week holds today's only). Which rows are
    # held back (i % 5) is independent of their day (i % 4): every day, and so every week
    # on any weekday, has labels added, whose online precision the tests read.
    rows = [
        {"repo": REPO, "number": 1000 + i, "kind": "issue" if i % 3 else "pr",
         "label": "kind/bug" if i % 2 else "sig/node", "score": 0.5 + (i % 50) / 100,
         "action": "held_back" if i % 5 == 0 else "added", "dry_run": False,
         "model": model_ref, "created_at": stamp(now - timedelta(days=i % 4, minutes=120 - i))}
        for i in range(decisions)
    ]  # fmt: skip
    assert all(any(r["action"] == "added" for r in rows[d::4]) for d in range(4))
    with engine.begin() as conn:
        run = conn.execute(
            reconcile_runs.insert().values(holder="test", steps="train,evaluate", status="ok",
                                           started_at=stamp(now), finished_at=stamp(now))
        ).inserted_primary_key[0]  # fmt: skip
        conn.execute(
            reconcile_decisions.insert().values(
                run_id=run, controller="evaluate", action="accepted", subject=model_ref,
                reason="no worse than production on release:1.29", created_at=stamp(now))
        )  # fmt: skip
        conn.execute(bot_decisions.insert(), rows)
        # A maintainer triaged every fifth decided item (one of each day: i % 5 == 1 meets
        # every i % 4), so each week's labels are judged; on #1001 they also removed the
        # bot's kind/bug.
        triaged = [
            {"delivery_id": f"t{i}", "repo": REPO, "number": 1000 + i,
             "label": "triage/accepted", "action": "labeled", "actor": "maintainer",
             "created_at": stamp(now)}
            for i in range(decisions) if i % 5 == 1
        ]  # fmt: skip
        conn.execute(
            bot_corrections.insert(),
            [{"delivery_id": "d1", "repo": REPO, "number": 1001, "label": "kind/bug",
              "action": "unlabeled", "actor": "maintainer", "created_at": stamp(now)},
             *triaged],
        )  # fmt: skip


@pytest.fixture(scope="session")
def ci_tree(tmp_path_factory: pytest.TempPathFactory) -> CIHistory:
    """A generated Prow history (GCS layout) ending this hour: one regression, one flake."""
    end = int(time.time()) // 3600 * 3600
    root = tmp_path_factory.mktemp("ci-tree")
    # and one OpenShift-style run that ships a timeline (podinfo, intervals, events)
    write_timeline_run(root, TIMELINE_JOB, TIMELINE_BUILD, end - 3 * 3600)
    return generate(root, end=end, days=37, jobs=3, tests=12, runs_per_job_day=3, seed=2,
                    regressions=1, flakes=1, noise_rate=0)  # fmt: skip


def seed_ci(engine: Engine, h: CIHistory) -> None:
    """The history imported and judged, its regression triaged to an issue, and the
    issues a maintainer filed for it and its flake in ``openshift/origin``."""
    now = stamp(datetime.now(UTC))
    export_tracked_issues(engine, h, ISSUES_REPO)
    import_runs(engine, LocalSource(h.root), variants.load(), now=now)
    # a symptom defined after the import: applied to the stored history
    symptom_store.define(engine, [OOM_SYMPTOM], "file")
    with engine.begin() as conn:
        found = regressions.report(conn, list(variants.load().columns), now=now)
        assert found.regressed, "the generated regression was not found"
        regressions.triage(conn, found.regressed[0].regression_id, "kubernetes/kubernetes#4242")


@dataclass
class Web:
    url: str
    home: Path
    engine: Engine
    model_ref: str
    proc: subprocess.Popen[bytes]
    ci: CIHistory


@pytest.fixture(scope="module")
def web(
    tmp_path_factory: pytest.TempPathFactory,
    web_model: Trained,
    ci_tree: CIHistory,
    postgres_databases: PostgresDatabases | None,
) -> Iterator[Web]:
    """One seeded store and one server per test module (seeding and starting cost ~10 s);
    tests that act restore what they changed."""
    root = tmp_path_factory.mktemp("web")
    home = root / "home"
    pg = postgres_databases
    database = pg.create(migrated=True) if pg is not None else None
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KUBESIFT_HOME", str(home))
        mp.delenv("KUBESIFT_DATABASE_URL", raising=False)
        if pg is not None and database is not None:
            mp.setenv("KUBESIFT_DATABASE_URL", pg.url_for(database))
        mp.delenv("GITHUB_TOKEN", raising=False)
        mp.chdir(root)
        try:
            yield from _serve(home, web_model, ci_tree)
        finally:
            if pg is not None and database is not None:
                pg.drop(database)


def _serve(home: Path, web_model: Trained, ci_tree: CIHistory) -> Iterator[Web]:
    version = save_trained(home / "models", web_model)
    engine = open_store(load_settings())
    ref = f"{version.name}@{version.version}"
    seed(engine, ref)
    seed_ci(engine, ci_tree)
    export_generated(engine, 400, seed=9, use_release_notes=False)
    save_items_models(home, engine)
    proc, url = start_web(home, {"KUBESIFT_WEB_TOKEN": TOKEN})
    try:
        yield Web(url, home, engine, ref, proc, ci_tree)
    finally:
        proc.terminate()
        proc.wait(10)
        engine.dispose()


ITEMS_SPEC = TrainSpec(labels=("kind/bug",), families=(), split=None, compare=(), folds=3,
                       params={"use_char": False})  # fmt: skip


def save_items_models(home: Path, engine: Engine) -> None:
    """An items model of every repository and kubernetes/kubernetes' own, each evaluated on
    the newest fifth of the exported items (a few seconds), so that the models pages have
    all three registries."""
    from kubesift.learn.dataset import load_dataset
    from kubesift.learn.train import train
    from kubesift.reconcile.judge import newest_split

    cfg = load_settings({"KUBESIFT_HOME": str(home)})
    for repo, label in ((None, "kind/bug"), ("kubernetes/kubernetes", "kind/feature")):
        dataset = load_dataset(engine, "items", repo=repo)
        spec = replace(ITEMS_SPEC, labels=(label,), split=newest_split(dataset, 0.2))
        save_trained(cfg.models_dir_for("items", repo), train(dataset, spec))


def start_web(home: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """``kubesift web`` on ``home``'s store as its own process, once it answers; its output
    goes to ``web.log`` beside ``home``."""
    port = free_port()
    full = {**os.environ, "KUBESIFT_HOME": str(home), **env}
    with (home.parent / "web.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kubesift", "web", "--port", str(port)],
            env=full, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError((home.parent / "web.log").read_text())
