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
        wait_for(lambda: _bot_comment(env) is not None, 60, "the bot's comment")
    finally:
        bot.stop()
    body = _bot_comment(env)
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


def _bot_comment(env: Env) -> str | None:
    mine = [c.body for c in env.fake.list_comments(REPO, 7) if c.user == BOT_LOGIN]
    return mine[0] if mine else None
