"""Reconcile passes as real processes against the fake GitHub and a real store."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from kubesift.learn import registry
from tests.conftest import REPO, GitHubFixture, run_cli
from tests.reconcile.conftest import actions, decisions, reconcile, status, write_config

NOTE = "```release-note\n{}\n```\n"


def production(home: Path) -> str:
    return registry.ref(registry.production(home / "models"))


def new_labelled_prs(gh: GitHubFixture, count: int) -> None:
    """PRs with a release note and human kind labels, as a week of a project brings."""
    for i in range(count):
        bug = i % 2 == 0
        text = (
            f"Fix a panic in the kubelet when volume {i} is gone"
            if bug
            else (f"Add the field spec.extra{i} to the Deployment API")
        )
        gh.fake.create_item(
            REPO,
            kind="pr",
            title=text,
            body=NOTE.format(text),
            user=f"dev{i % 7}",
            labels=["kind/bug" if bug else "kind/feature"],
            actor="maintainer",
        )


def test_first_pass_trains_then_a_fresh_model_is_left_alone(home: Path, gh: GitHubFixture) -> None:
    write_config(home.parent / "kubesift.toml")
    code, out = reconcile(gh)
    assert code == 0, out
    first = status()
    assert actions(first)["export"] == ["updated"]
    assert actions(first)["train"] == ["trained", "promoted"]
    prod = production(home)
    assert decisions(first)["train"][0]["subject"] == prod
    assert (home / "models" / "production.json").exists()

    gh.fake.reset_stats()
    code, out = reconcile(gh)
    assert code == 0, out
    second = status()
    assert actions(second)["export"] == ["unchanged"]
    assert gh.stats()["total"] == 1  # one conditional request, answered 304
    [train] = decisions(second)["train"]
    assert train["action"] == "none" and "fresh" in train["reason"]
    assert production(home) == prod
    assert "no candidate" in decisions(second)["evaluate"][0]["reason"]


def test_new_labels_make_production_stale_and_a_candidate_is_judged(
    home: Path, gh: GitHubFixture
) -> None:
    write_config(home.parent / "kubesift.toml", freshness={"min_new_labels": 30})
    assert reconcile(gh)[0] == 0
    before = production(home)
    new_labelled_prs(gh, 40)
    code, out = reconcile(gh)
    assert code == 0, out
    info = status()
    [train] = decisions(info)["train"]
    assert train["action"] == "trained" and "40 new labelled examples" in train["reason"]
    [judged] = decisions(info)["evaluate"]
    assert judged["subject"] == train["subject"]
    assert judged["action"] in ("accepted", "refused") and judged["reason"]
    assert judged["details"]["production"] == before and judged["details"]["table"]
    # The evaluation slice is the newest data, which the production model never saw.
    assert judged["details"]["split"].startswith("created:")


def test_worse_candidate_is_refused_with_its_reason(home: Path, gh: GitHubFixture) -> None:
    config = home.parent / "kubesift.toml"
    write_config(config)
    assert reconcile(gh)[0] == 0
    good = production(home)
    write_config(config, model="majority")
    code, out = reconcile(gh)
    assert code == 0, out
    info = status()
    [train] = decisions(info)["train"]
    assert "'sift-linear' → 'majority'" in train["reason"]
    [judged] = decisions(info)["evaluate"]
    assert judged["action"] == "refused"
    assert judged["reason"].startswith("worse than production: kind/bug F1")
    assert judged["details"]["vetoes"]
    assert actions(info)["promote"] == ["none"]
    assert production(home) == good
    assert "refused" in info["models"]["candidate"]
    assert "refused" in out and "worse than production" in out  # printed as it happens
    # Same spec, same data: the next pass does not train the refused model again.
    assert reconcile(gh)[0] == 0
    [again] = decisions(status())["train"]
    assert again["action"] == "none" and "waiting for new data" in again["reason"]


def test_better_candidate_is_promoted_and_the_server_switches(
    home: Path, gh: GitHubFixture
) -> None:
    pytest.importorskip("kserve", reason="kubesift serve needs the serve extra")
    from tests.serve.conftest import ServeProcess

    config = home.parent / "kubesift.toml"
    write_config(config, model="majority")
    assert reconcile(gh)[0] == 0
    weak = registry.production(home / "models")
    server = ServeProcess(home, "--poll-interval", "0.1")
    try:
        server.wait_ready()
        body = {"inputs": [{"name": "text", "shape": [1], "datatype": "BYTES",
                            "data": ["Fix a panic in the kubelet"]}]}  # fmt: skip
        infer = f"{server.url}/v2/models/kubernetes-analysis/infer"
        assert httpx.post(infer, json=body).json()["model_version"] == weak.version

        write_config(config, model="sift-linear")
        code, out = reconcile(gh)
        assert code == 0, out
        info = status()
        [judged] = decisions(info)["evaluate"]
        assert judged["action"] == "accepted", judged["reason"]
        [promoted] = decisions(info)["promote"]
        assert promoted["action"] == "promoted" and promoted["details"]["from"] == registry.ref(
            weak
        )
        strong = registry.production(home / "models")
        assert registry.ref(strong) == promoted["subject"] != registry.ref(weak)
        server.wait(lambda: httpx.post(infer, json=body).json()["model_version"] == strong.version)
    finally:
        server.stop()


def test_kill_9_during_training_then_rerun_converges(home: Path, gh: GitHubFixture) -> None:
    write_config(home.parent / "kubesift.toml")
    env = {**os.environ, **gh.env(), "COLUMNS": "200"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "kubesift", "reconcile", "--once"],
        env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert proc.stderr is not None
    for line in proc.stderr:
        if "training sift-linear" in line:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert not registry.list_versions(home / "models")  # killed before the model was saved

    code, out = reconcile(gh)
    assert code == 0, out
    info = status(runs=2)
    assert info["runs"][1]["status"] == "interrupted"
    assert info["runs"][0]["status"] == "ok"
    assert actions(info)["export"] == ["unchanged"]  # the killed pass's export was kept
    assert "trained" in actions(info)["train"]
    assert len(registry.list_versions(home / "models")) == 1
    assert not registry.unfinished(home / "models")
    assert info["lock"]["holder"] is None


def test_two_reconcilers_at_once_one_acts(home: Path, gh: GitHubFixture) -> None:
    write_config(home.parent / "kubesift.toml")
    env = {**os.environ, **gh.env(), "COLUMNS": "200"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "kubesift", "reconcile", "--once"],
            env=env,
            stderr=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    info = status(runs=5)
    runs = [(r["status"], r["started_at"], r["finished_at"], r["error"]) for r in info["runs"]]
    assert sorted(r[0] for r in runs) == ["ok", "skipped"], (runs, outs)
    skipped = [o for o in outs if "reconcile: skipped" in o[1]]
    assert len(skipped) == 1 and "holds the lock" in skipped[0][1], outs
    assert len(registry.list_versions(home / "models")) == 1


def test_bad_desired_state_is_a_one_line_error(home: Path) -> None:
    (home.parent / "kubesift.toml").write_text('[reconcile]\nrepositories = ["not a repo"]\n')
    out = run_cli("reconcile", "--once")
    assert out.returncode == 2 and "not OWNER/NAME" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    bad_step = run_cli("reconcile", "--once", "--step", "deploy")
    assert bad_step.returncode == 2


def test_steps_run_alone_for_a_pipeline(home: Path, gh: GitHubFixture) -> None:
    write_config(home.parent / "kubesift.toml")
    assert reconcile(gh, "--once", "--step", "export")[0] == 0
    assert list(decisions(status())) == ["export"]
    assert reconcile(gh, "--once", "--step", "train")[0] == 0
    assert list(decisions(status())) == ["train"]
    assert json.loads((home / "models" / "production.json").read_text())["name"] == "sift-linear"
    bad_token = run_cli(
        "reconcile", "--once", "--step", "export", "--step", "train",
        env={"KUBESIFT_API_URL": gh.url, "GITHUB_TOKEN": "ghp_wrong"},
    )  # fmt: skip
    assert bad_token.returncode == 1, bad_token.stderr
    assert "Bad credentials" in bad_token.stderr and "ghp_wrong" not in bad_token.stderr
    info = status()
    assert actions(info) == {"export": ["error"], "train": ["none"]}  # trained on what is stored
    assert info["runs"][0]["status"] == "failed"
