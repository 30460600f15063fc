"""End to end: the bot process, the fake GitHub and a trained model on loopback."""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx
from sqlalchemy import func, select

from kubesift.bot.comment import MARKER
from kubesift.store.schema import bot_corrections, bot_decisions, bot_jobs, label_events
from kubesift.testing import Fault
from tests.bot.conftest import BOT_LOGIN, REPO, Env
from tests.bot.helpers import deliver, fixture, retarget, signed_headers, wait_done

BUG_NOTE = "Fix panic crash race in the kubelet\n"
BUG_BODY = f"What this PR does\n\n```release-note\n{BUG_NOTE}```\n"
LEAK_BODY = "Details\n\n```release-note\nFix leak error regression in the kubelet\n```\n"
NONE_BODY = "Cleanup\n\n```release-note\nNONE\n```\n"


def pr_event(action: str, number: int, body: str) -> dict[str, Any]:
    """A real ``opened`` payload; ``edited`` (no fixture of its own) adds ``changes``."""
    payload = retarget(fixture("pull_request/opened.payload.json"), REPO, number, body=body)
    if action == "edited":
        payload.update(action="edited", changes={"body": {"from": "before"}})
    return payload


def bot_comments(env: Env, number: int) -> list[Any]:
    return [c for c in env.fake.list_comments(REPO, number) if c.user == BOT_LOGIN]


def labels_of(env: Env, number: int) -> tuple[str, ...]:
    return env.fake.get_item(REPO, number).labels


def test_labels_then_comment_created_edited_deleted(env: Env) -> None:
    env.fake.create_item(REPO, title="Fix kubelet crash", body=BUG_BODY, kind="pr", number=7)
    bot = env.start()
    try:
        with httpx.Client(timeout=10) as client:
            r, d1 = deliver(client, bot.url, "pull_request", pr_event("opened", 7, BUG_BODY))
            assert r.status_code == 200
            wait_done(env.engine, d1)
            assert "kind/bug" in labels_of(env, 7)
            [first] = bot_comments(env, 7)
            assert MARKER in first.body and "kind/bug" in first.body
            r, d2 = deliver(client, bot.url, "pull_request", pr_event("edited", 7, LEAK_BODY))
            wait_done(env.engine, d2)
            [second] = bot_comments(env, 7)
            assert second.id == first.id and second.body != BUG_BODY
            assert "leak" in second.body or "regression" in second.body or "fix" in second.body
            r, d3 = deliver(client, bot.url, "pull_request", pr_event("edited", 7, NONE_BODY))
            wait_done(env.engine, d3)
            assert bot_comments(env, 7) == []
            assert "kind/bug" in labels_of(env, 7)  # the bot never removes a label
            # a redelivery is recognised and does nothing
            r, _ = deliver(client, bot.url, "pull_request", pr_event("opened", 7, BUG_BODY), d1)
            assert r.text == "duplicate delivery"
    finally:
        bot.stop()


def test_human_removal_is_respected_and_recorded(env: Env) -> None:
    """A maintainer's removal is a correction; the lifecycle robot's is not (it once
    counted as a human "wrong" and fed the canary and rollback decisions)."""
    env.fake.create_item(REPO, title="Crash", body=BUG_BODY, kind="pr", number=8)
    env.fake.create_item(REPO, title="Crash", body=BUG_BODY, kind="pr", number=12)
    bot = env.start()
    try:
        with httpx.Client(timeout=10) as client:
            _, d1 = deliver(client, bot.url, "pull_request", pr_event("opened", 8, BUG_BODY))
            _, d0 = deliver(client, bot.url, "pull_request", pr_event("opened", 12, BUG_BODY))
            wait_done(env.engine, d1, d0)
            assert "kind/bug" in labels_of(env, 8)
            robot = retarget(
                fixture("pull_request/unlabeled.payload.json"), REPO, 12,
                sender="k8s-triage-robot",
            )  # fmt: skip
            robot["label"]["name"] = "kind/bug"
            _, d4 = deliver(client, bot.url, "pull_request", robot)
            wait_done(env.engine, d4)
            env.fake.remove_label(REPO, 8, "kind/bug", actor="maintainer")
            unlabeled = retarget(
                fixture("pull_request/unlabeled.payload.json"), REPO, 8, sender="maintainer"
            )
            unlabeled["label"]["name"] = "kind/bug"
            _, d2 = deliver(client, bot.url, "pull_request", unlabeled)
            _, d3 = deliver(client, bot.url, "pull_request", pr_event("edited", 8, LEAK_BODY))
            wait_done(env.engine, d2, d3)
            assert "kind/bug" not in labels_of(env, 8)
            [note] = bot_comments(env, 8)
            assert "a human removed it" in note.body
        with env.engine.connect() as conn:
            events = conn.execute(
                select(label_events.c.event, label_events.c.actor).where(
                    label_events.c.item_number == 8
                )
            ).all()
        assert ("unlabeled", "maintainer") in [tuple(e) for e in events]
        from tests.conftest import run_cli

        out = run_cli("bot", "stats", "--json", env={"KUBESIFT_HOME": str(env.home)})
        assert out.returncode == 0, out.stderr
        rows = {r["label"]: r for r in json.loads(out.stdout)["labels"]}
        assert rows["kind/bug"]["added"] == 2
        assert rows["kind/bug"]["removed"] == 1  # the maintainer's, not the robot's
        with env.engine.connect() as conn:
            actors = conn.execute(select(bot_corrections.c.actor)).scalars().all()
        assert actors == ["maintainer"]
    finally:
        bot.stop()


def test_shadow_mode_writes_nothing(env: Env) -> None:
    env.fake.create_item(REPO, title="Crash", body=BUG_BODY, kind="pr", number=9)
    env.fake.reset_stats()
    bot = env.start("--dry-run")
    try:
        with httpx.Client(timeout=10) as client:
            _, d1 = deliver(client, bot.url, "pull_request", pr_event("opened", 9, BUG_BODY))
            wait_done(env.engine, d1)
        assert labels_of(env, 9) == () and bot_comments(env, 9) == []
        routes = env.fake.stats_snapshot()
        assert not any(m in json.dumps(routes) for m in ('"POST ', '"PATCH ', '"DELETE '))
        with env.engine.connect() as conn:
            rows = conn.execute(select(bot_decisions.c.label, bot_decisions.c.dry_run)).all()
        assert ("kind/bug", True) in [tuple(r) for r in rows]
    finally:
        bot.stop()


def test_http_contract(env: Env) -> None:
    bot = env.start()
    try:
        with httpx.Client(timeout=10) as c:
            payload = pr_event("opened", 1, BUG_BODY)
            body = json.dumps(payload).encode()
            good = signed_headers(body, "pull_request")
            bad = {**good, "X-Hub-Signature-256": "sha256=" + "0" * 64}
            assert c.post(bot.url, content=body, headers=bad).status_code == 403
            for missing in ("X-GitHub-Event", "X-GitHub-Delivery"):
                h = {k: v for k, v in good.items() if k != missing}
                assert c.post(f"{bot.url}/hook", content=body, headers=h).status_code == 400
            nosig = {k: v for k, v in good.items() if not k.startswith("X-Hub")}
            assert c.post(bot.url, content=body, headers=nosig).status_code == 403
            sha1_only = {k: v for k, v in good.items() if k != "X-Hub-Signature-256"}
            sha1_only["X-GitHub-Delivery"] = "sha1-delivery"
            assert c.post(bot.url, content=body, headers=sha1_only).status_code == 200
            ping = json.dumps(fixture("ping/payload.json")).encode()
            assert (
                c.post(bot.url, content=ping, headers=signed_headers(ping, "ping")).status_code
                == 200
            )
            other = json.dumps(fixture("issue_comment/created.payload.json")).encode()
            r = c.post(bot.url, content=other, headers=signed_headers(other, "issue_comment"))
            assert r.status_code == 200 and r.text.startswith("ignored")
            junk = b'{"action": "opened", '
            r = c.post(bot.url, content=junk, headers=signed_headers(junk, "pull_request"))
            assert r.status_code == 400
            assert c.get(bot.url).status_code == 405
            helped = c.post(f"{bot.url}/help", json=[{"Org": "kubesift", "Repo": "demo"}])
            assert helped.status_code == 200 and "Description" in helped.json()
            assert c.get(f"{bot.url}/help").status_code == 405
        with env.engine.connect() as conn:
            queued = conn.execute(select(bot_jobs.c.event)).scalars().all()
        assert queued == ["pull_request"]  # only the sha1-signed PR delivery
    finally:
        bot.stop()


def test_two_deliveries_at_once_make_one_comment(env: Env) -> None:
    env.fake.create_item(REPO, title="Crash", body=BUG_BODY, kind="pr", number=11)
    bot = env.start("--workers", "4")
    try:
        ids: list[str] = []

        def send(action: str) -> None:
            with httpx.Client(timeout=10) as client:
                ids.append(
                    deliver(client, bot.url, "pull_request", pr_event(action, 11, BUG_BODY))[1]
                )

        threads = [threading.Thread(target=send, args=(a,)) for a in ("opened", "edited")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wait_done(env.engine, *ids)
        assert len(bot_comments(env, 11)) == 1
    finally:
        bot.stop()


def test_github_faults_are_retried(env: Env) -> None:
    env.fake.create_item(REPO, title="Crash", body=BUG_BODY, kind="pr", number=12)
    env.fake.inject(Fault("status", status=502, count=3, path="/labels"))
    env.fake.inject(Fault("secondary", status=403, seconds=1, count=1, path="/comments"))
    bot = env.start("--github-retries", "0")
    try:
        with httpx.Client(timeout=10) as client:
            _, d1 = deliver(client, bot.url, "pull_request", pr_event("opened", 12, BUG_BODY))
            wait_done(env.engine, d1, timeout=60)
        assert "kind/bug" in labels_of(env, 12) and len(bot_comments(env, 12)) == 1
        with env.engine.connect() as conn:
            attempts = conn.execute(
                select(bot_jobs.c.attempts).where(bot_jobs.c.delivery_id == d1)
            ).scalar()
        assert attempts is not None and attempts > 1
    finally:
        bot.stop()


def test_an_item_that_is_gone_fails_at_once_with_its_reason(env: Env) -> None:
    """GitHub answers 404 for an item that was deleted after the delivery: retrying cannot
    help, so the job ends failed on its first attempt and `bot stats` says why."""
    from tests.bot.helpers import job_status, wait_for
    from tests.conftest import run_cli

    bot = env.start("--retry-delay", "30")  # a retry would come far too late for this test
    try:
        with httpx.Client(timeout=10) as client:
            _, d1 = deliver(client, bot.url, "pull_request", pr_event("opened", 404, BUG_BODY))
            wait_for(lambda: job_status(env.engine, d1) == "failed", 20, "the job failed")
        with env.engine.connect() as conn:
            attempts, outcome, error = conn.execute(
                select(bot_jobs.c.attempts, bot_jobs.c.outcome, bot_jobs.c.error).where(
                    bot_jobs.c.delivery_id == d1
                )
            ).one()
        assert attempts == 1 and outcome == "failed permanently"
        assert error.startswith("gone: not found on GitHub: /repos/") and "/404/" in error
        out = run_cli("bot", "stats", "--json", env={"KUBESIFT_HOME": str(env.home)})
        [failure] = json.loads(out.stdout)["failures"]
        assert failure["delivery_id"] == d1 and failure["number"] == 404
        assert failure["outcome"] == "failed permanently" and "not found" in failure["error"]
        text = run_cli("bot", "stats", env={"KUBESIFT_HOME": str(env.home)}).stdout
        assert f"failed: {REPO}#404" in text and "jobs: failed 1" in text
    finally:
        bot.stop()


def test_kill_9_with_1000_jobs_queued(env: Env) -> None:
    items = 100
    for n in range(1, items + 1):
        env.fake.create_item(REPO, title=f"Crash {n}", body=BUG_BODY, kind="pr", number=n)
    bot = env.start("--lease-seconds", "1")
    ids: list[str] = []
    with httpx.Client(timeout=10) as client:
        for i in range(1000):
            action = "opened" if i < items else "edited"
            r, d = deliver(
                client, bot.url, "pull_request", pr_event(action, i % items + 1, BUG_BODY)
            )
            assert r.status_code == 200
            ids.append(d)
    bot.kill()
    with env.engine.connect() as conn:
        before = conn.execute(
            select(func.count()).select_from(bot_jobs).where(bot_jobs.c.status != "done")
        ).scalar()
    assert before and before > 0, "the kill should leave work queued"
    bot = env.start("--lease-seconds", "1", "--workers", "2")
    try:
        wait_done(env.engine, *ids, timeout=240)
        with env.engine.connect() as conn:
            done = conn.execute(
                select(func.count()).select_from(bot_jobs).where(bot_jobs.c.status == "done")
            ).scalar()
            per_job = conn.execute(
                select(
                    bot_decisions.c.job_id, func.count(func.distinct(bot_decisions.c.created_at))
                ).group_by(bot_decisions.c.job_id)
            ).all()
        assert done == 1000
        assert all(n == 1 for _, n in per_job)  # each job recorded its decisions once
        for n in range(1, items + 1):
            assert len(bot_comments(env, n)) == 1
            assert "kind/bug" in labels_of(env, n)
    finally:
        bot.stop()


def test_github_app_installation_auth(env: Env, monkeypatch: Any, tmp_path: Any) -> None:
    """As an App: JWT -> installation token (cached), acting and commenting as slug[bot]."""
    from kubesift.testing import generate_rsa_keypair

    private, public = generate_rsa_keypair()
    app = env.fake.add_app(4242, public_key_pem=public, slug="kubesift", account="kubesift")
    [installation] = list(app.installations)
    key = tmp_path / "app.pem"
    key.write_text(private)
    monkeypatch.setenv("KUBESIFT_GITHUB_APP_ID", "4242")
    monkeypatch.setenv("KUBESIFT_GITHUB_APP_KEY_FILE", str(key))
    for number in (21, 22):
        env.fake.create_item(REPO, title="Fix kubelet crash", body=BUG_BODY, kind="pr",
                             number=number)  # fmt: skip
    env.fake.reset_stats()
    bot = env.start()
    try:
        with httpx.Client(timeout=10) as client:
            for number in (21, 22):
                event = pr_event("opened", number, BUG_BODY)
                event["installation"] = {"id": installation}
                r, delivery = deliver(client, bot.url, "pull_request", event)
                assert r.status_code == 200
                wait_done(env.engine, delivery)
        for number in (21, 22):
            assert "kind/bug" in labels_of(env, number)
            [comment] = [c for c in env.fake.list_comments(REPO, number) if MARKER in c.body]
            assert comment.user == "kubesift[bot]"
        tokens = env.fake.stats_snapshot()["by_route"].get(
            "POST /app/installations/{installation_id}/access_tokens", {}
        )
        assert sum(tokens.values()) == 1, "the installation token is cached across jobs"
        assert private.splitlines()[1] not in bot.tail()
    finally:
        bot.stop()


def test_remote_model_over_kserve_v1(env: Env, tmp_path: Any) -> None:
    """--model-url: predictions come from a running `kubesift serve`, not a local model."""
    import pytest

    pytest.importorskip("kserve", reason="kubesift serve needs the serve extra (kserve)")
    from tests.serve.conftest import ServeProcess

    served_home = tmp_path / "served" / "home"
    served_home.mkdir(parents=True)
    for path in (env.home / "models").rglob("*"):
        if path.is_file():
            target = served_home / "models" / path.relative_to(env.home / "models")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    server = ServeProcess(served_home)
    server.wait_ready()
    env.fake.create_item(REPO, title="Fix kubelet crash", body=BUG_BODY, kind="pr", number=31)
    bot = env.start("--model-url", server.url)
    try:
        with httpx.Client(timeout=10) as client:
            r, delivery = deliver(client, bot.url, "pull_request", pr_event("opened", 31, BUG_BODY))
            assert r.status_code == 200
            wait_done(env.engine, delivery)
        assert "kind/bug" in labels_of(env, 31)
        with env.engine.connect() as conn:
            models = set(conn.execute(select(bot_decisions.c.model)).scalars())
        assert models and all(server.url in str(m) for m in models)
    finally:
        bot.stop()
        server.stop()
