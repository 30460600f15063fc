"""The bot knows CI: after ``kubesift ci import --notify-bot``, a PR whose presubmit failed
gets one comment that says which failures are known flakes, open regressions, tracked by
an open issue, or new."""

from __future__ import annotations

import json
import time
from pathlib import Path

from sqlalchemy import select

from kubesift.bot.comment import MARKER
from kubesift.collect.service import export_repository
from kubesift.github import TokenAuth
from kubesift.store.schema import bot_jobs
from tests.bot.conftest import BOT_LOGIN, BOT_TOKEN, REPO, Env
from tests.bot.helpers import wait_for
from tests.bot.test_e2e import BUG_BODY
from tests.ci.helpers import prow_run
from tests.conftest import run_cli

PERIODIC = "periodic-ci-kubesift-demo-e2e-aws-ovn"
FLAKE, REGRESSED, TRACKED, SOUND = (
    "[sig-node] Pods should flake now and then",
    "[sig-network] Services should route traffic",
    "[sig-storage] Volumes should mount",
    "[sig-apps] Deployment should roll out",
)


def _case(name: str, failed: bool, text: str = "boom") -> str:
    body = f"<failure>{text}</failure>" if failed else ""
    return f'<testcase name="{name}">{body}</testcase>'


def _history(tree: Path, now: int) -> None:
    """37 days of a periodic job, two runs a day: one test flakes now and then, one
    regressed five days ago, the others pass."""
    for k in range(74):
        at = now - 37 * 86_400 + k * 43_200
        fails = {
            FLAKE: k % 9 == 4,
            REGRESSED: at > now - 5 * 86_400 and k % 3 != 0,
            TRACKED: False,
            SOUND: False,
        }
        xml = "".join(_case(n, f, "dial tcp 10.0.0.1:443: i/o timeout") for n, f in fails.items())
        prow_run(
            tree,
            f"logs/{PERIODIC}/{1000 + k}",
            started=at,
            finished={"timestamp": at + 600, "passed": not any(fails.values())},
            junit={"junit_01.xml": f'<testsuite name="e2e">{xml}</testsuite>'.encode()},
        )


def test_a_failed_presubmit_is_explained_in_the_one_comment(env: Env, tmp_path: Path) -> None:
    now = int(time.time())
    env.fake.create_item(REPO, title="Fix kubelet crash", body=BUG_BODY, kind="pr", number=7)
    issue = env.fake.create_item(
        REPO,
        title=f"Failing test: {TRACKED}",
        body="volume mount fails: timed out waiting for the condition",
        kind="issue",
    )
    export_repository(env.engine, REPO, api_url=env.server.url, auth=TokenAuth(BOT_TOKEN))
    tree = tmp_path / "ci"
    _history(tree, now)
    presubmit = "".join(
        [
            _case(FLAKE, True),
            _case(REGRESSED, True),
            _case(TRACKED, True, "timed out waiting for the condition"),
            _case(SOUND, True, "deployment web has 0 of 3 replicas"),
        ]
    )
    prow_run(
        tree,
        "pr-logs/pull/kubesift_demo/7/pull-kubesift-demo-e2e/501",
        started=now - 600,
        finished={"timestamp": now - 60, "passed": False},
        junit={"junit_01.xml": f'<testsuite name="e2e">{presubmit}</testsuite>'.encode()},
    )
    done = run_cli("ci", "import", str(tree), "--notify-bot", "--json")
    assert done.returncode == 0, done.stderr
    opened = json.loads(run_cli("ci", "regressions", "--json").stdout)
    assert [r["test"] for r in opened["regressions"]] == [REGRESSED]
    with env.engine.connect() as conn:
        jobs = conn.execute(select(bot_jobs.c.event, bot_jobs.c.number)).all()
    assert [tuple(j) for j in jobs] == [("kubesift_ci", 7)]
    # a second import of the same runs queues nothing more
    again = run_cli("ci", "import", str(tree), "--notify-bot")
    assert "queued 0 PR comment refreshes" in again.stdout
    bot = env.start()
    try:
        wait_for(lambda: _bot_comment(env, 7) is not None, 60, "the bot's comment")
    finally:
        bot.stop()
    body = _bot_comment(env, 7)
    assert body is not None and MARKER in body
    assert "kind/bug" in body  # the labels section is still there
    assert (
        "**CI**: 4 failed tests in 1 failed presubmit runs; 1 not seen failing elsewhere." in body
    )
    lines = {
        line.split(": `")[1].split("`")[0]: line for line in body.splitlines() if ": `[sig-" in line
    }
    assert lines[FLAKE].startswith("- known flake")
    assert lines[REGRESSED].startswith("- matches an open regression") and "#1" in lines[REGRESSED]
    assert (
        lines[TRACKED].startswith("- an open issue tracks it")
        and f"{REPO}#{issue.number}" in lines[TRACKED]
    )
    assert lines[SOUND].startswith("- new") and "probably this change" in lines[SOUND]


def _bot_comment(env: Env, number: int = 8) -> str | None:
    mine = [c.body for c in env.fake.list_comments(REPO, number) if c.user == BOT_LOGIN]
    return mine[0] if mine else None


SHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
PRESUBMIT = "pull-kubesift-demo-e2e"


def _presubmit(tree: Path, number: int, build: int, at: int, failed: bool) -> None:
    """A presubmit run of PR ``number`` at commit SHA, its prowjob.json naming the PR head."""
    xml = _case(SOUND, failed, "deployment web has 0 of 3 replicas")
    d = prow_run(
        tree,
        f"pr-logs/pull/kubesift_demo/{number}/{PRESUBMIT}/{build}",
        started=at,
        finished={"timestamp": at + 60, "passed": not failed},
        junit={"junit_01.xml": f'<testsuite name="e2e">{xml}</testsuite>'.encode()},
    )
    refs = {"org": "kubesift", "repo": "demo", "pulls": [{"number": number, "sha": SHA}]}
    (d / "prowjob.json").write_text(json.dumps({"spec": {"type": "presubmit", "refs": refs}}))


def _status(state: str, context: str = PRESUBMIT) -> dict[str, object]:
    """A ``status`` webhook as GitHub sends it when Prow reports on a commit."""
    owner, name = REPO.split("/")
    return {
        "id": 1, "sha": SHA, "name": REPO, "context": context, "state": state,
        "target_url": f"https://prow.example/view/{context}", "description": "Job finished.",
        "branches": [], "commit": {"sha": SHA},
        "repository": {"full_name": REPO, "name": name, "owner": {"login": owner}},
        "sender": {"login": "k8s-ci-robot", "type": "User"},
    }  # fmt: skip


def _comment_edits(env: Env) -> int:
    return sum(
        1 for e in env.fake.stats.log if e["method"] == "PATCH" and "/comments/" in e["path"]
    )


def test_a_status_webhook_refreshes_the_pr_comment_once(env: Env, tmp_path: Path) -> None:
    import httpx

    from tests.bot.helpers import deliver, job_status, wait_done

    now = int(time.time())
    env.fake.create_item(REPO, title="Fix kubelet crash", body=BUG_BODY, kind="pr", number=8)
    tree = tmp_path / "ci"
    _presubmit(tree, 8, 601, now - 900, failed=True)
    symptoms = tmp_path / "symptoms.toml"
    symptoms.write_text('[[symptom]]\nid = "replicas"\nsummary = "Deployment @team not ready"\n'
                        'string = "0 of 3 replicas"\nin = "failures"\n')  # fmt: skip
    assert run_cli("ci", "symptoms", "load", str(symptoms)).returncode == 0
    assert run_cli("ci", "import", str(tree)).returncode == 0  # no --notify-bot
    bot = env.start()
    try:
        with httpx.Client(timeout=10) as client:
            hook = f"{bot.url}/hook"
            # pending: nothing to refresh yet, not even queued
            answer, pending = deliver(client, hook, "status", _status("pending"))
            assert answer.status_code == 200 and job_status(env.engine, pending) is None
            _, first = deliver(client, hook, "status", _status("failure"))
            wait_done(env.engine, first)
            body = _bot_comment(env)
            assert body is not None and "1 failed tests in 1 failed presubmit runs" in body
            # the run's symptom is named, in a code span: "@team" pings no one
            assert "Symptoms of these runs: `Deployment @team not ready`." in body
            assert "(symptoms: `Deployment @team not ready`)" in body
            # a retest passes at the same commit; Prow reports success
            _presubmit(tree, 8, 602, now - 300, failed=False)
            run_cli("ci", "import", str(tree))
            edits = _comment_edits(env)
            _, second = deliver(client, hook, "status", _status("success"))
            wait_done(env.engine, second)
            assert _comment_edits(env) == edits + 1  # edited once, not a second comment
            body = _bot_comment(env)
            assert body is not None and "failed presubmit" not in body
            assert len([c for c in env.fake.list_comments(REPO, 8) if c.user == BOT_LOGIN]) == 1
            # the same delivery again is not queued again; another context changes nothing
            again, _ = deliver(client, hook, "status", _status("success"), delivery=second)
            assert again.status_code == 200
            _, other = deliver(client, hook, "status", _status("success", "tide"))
            wait_done(env.engine, other)
            assert _comment_edits(env) == edits + 1
            # a check run that names the PR itself
            run = {"head_sha": SHA, "name": "unit", "status": "completed",
                   "conclusion": "failure", "pull_requests": [{"number": 8}]}  # fmt: skip
            where = {k: v for k, v in _status("x").items() if k in ("repository", "sender")}
            check = {"action": "completed", "check_run": run, **where}
            _, checked = deliver(client, hook, "check_run", check)
            wait_done(env.engine, checked)
            # a malformed status (no sha) is refused for good, not retried
            bad = {**_status("failure"), "sha": None}
            _, broken = deliver(client, hook, "status", bad)
            assert job_status(env.engine, broken) in (None, "failed")
    finally:
        bot.stop()
    with env.engine.connect() as conn:
        outcomes = dict(conn.execute(select(bot_jobs.c.delivery_id, bot_jobs.c.outcome)).all())
    assert outcomes[second].startswith(f"{PRESUBMIT} success → #8")
    assert outcomes[other].startswith("tide success → #8")
    assert outcomes[checked].startswith("unit failure → #8")


def test_shadow_mode_holds_for_status_refreshes(env: Env, tmp_path: Path) -> None:
    import httpx

    from tests.bot.helpers import deliver, wait_done

    env.fake.create_item(REPO, title="Fix kubelet crash", body=BUG_BODY, kind="pr", number=8)
    _presubmit(tmp_path / "ci", 8, 601, int(time.time()) - 900, failed=True)
    run_cli("ci", "import", str(tmp_path / "ci"))
    bot = env.start("--dry-run")
    try:
        with httpx.Client(timeout=10) as client:
            _, delivery = deliver(client, f"{bot.url}/hook", "status", _status("failure"))
            wait_done(env.engine, delivery)
    finally:
        bot.stop()
    assert _bot_comment(env, 8) is None and _comment_edits(env) == 0
