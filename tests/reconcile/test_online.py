"""Canary and rollback from online precision: the real bot process labels items, a human
removes the labels, and the reconciler acts on that feedback."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from kubesift.collect.importer import save_notes
from kubesift.config import load_settings
from kubesift.learn import registry
from kubesift.learn.pointer import in_canary
from kubesift.store import open_store
from kubesift.store.schema import bot_decisions
from kubesift.testing import FakeGitHub, create_app, serve_in_thread
from kubesift.testing.server import RunningServer
from tests.bot.helpers import BotProcess, deliver, fixture, retarget, wait_done
from tests.learn.conftest import synthetic_notes
from tests.reconcile.conftest import actions, decisions, reconcile, status, write_config
from tests.serve.conftest import free_port

REPO = "kubesift/demo"
BOT_TOKEN = "ghp_bottoken0000000000000000000000000001"
BUG_BODY = "What this PR does\n\n```release-note\nFix panic crash race in the kubelet\n```\n"


@dataclass
class World:
    home: Path
    engine: Engine
    fake: FakeGitHub
    server: RunningServer
    token_file: Path

    def bot(self) -> BotProcess:
        # The bot reads the registry's pointers on every item: a test never waits out
        # the default 2 s between looks.
        return BotProcess(
            self.home, free_port(), self.server.url, self.token_file, "--retry-delay", "0.2",
            "--model-check-every", "0",
        )  # fmt: skip


@pytest.fixture
def world(tmp_path: Path, home: Path) -> Iterator[World]:
    engine = open_store(load_settings())
    save_notes(engine, synthetic_notes(), "kubernetes/kubernetes")
    fake = FakeGitHub()
    fake.create_repo(*REPO.split("/"))
    fake.add_token(BOT_TOKEN, "kubesift-bot")
    server = serve_in_thread(create_app(fake))
    token_file = tmp_path / "oauth"
    token_file.write_text(BOT_TOKEN + "\n")
    try:
        yield World(home, engine, fake, server, token_file)
    finally:
        server.stop()
        engine.dispose()


def configure(world: World, model: str, share: float) -> None:
    write_config(
        world.home.parent / "kubesift.toml",
        repositories=[],
        families=[],
        model=model,
        canary={"share": share, "min_judged": 4},
        rollback={"min_judged": 4, "min_precision": 0.8},
    )


def weak_then_strong(world: World, share: float) -> tuple[str, str]:
    """A majority-class model in production, then a linear candidate that beats it."""
    configure(world, "majority", share)
    code, out = reconcile(None)
    assert code == 0, out
    weak = registry.ref(registry.production(world.home / "models"))
    configure(world, "sift-linear", share)
    code, out = reconcile(None)
    assert code == 0, out
    [judged] = decisions(status())["evaluate"]
    assert judged["action"] == "accepted", judged["reason"]
    return weak, judged["subject"]


def label_and_reject(world: World, bot: BotProcess, numbers: range, by: str) -> int:
    """The bot labels the PRs; a human removes every label ``by`` added. → removals."""
    with httpx.Client(timeout=10) as client:
        sent = []
        for n in numbers:
            world.fake.create_item(REPO, title="Crash", body=BUG_BODY, kind="pr", number=n)
            payload = retarget(fixture("pull_request/opened.payload.json"), REPO, n, body=BUG_BODY)
            sent.append(deliver(client, bot.url, "pull_request", payload)[1])
        wait_done(world.engine, *sent)
        with world.engine.connect() as conn:
            added = conn.execute(
                select(bot_decisions.c.number, bot_decisions.c.label).where(
                    bot_decisions.c.model == by, bot_decisions.c.action == "added"
                )
            ).all()
        removals = []
        for number, label in added:
            world.fake.remove_label(REPO, number, label, actor="maintainer")
            event = retarget(
                fixture("pull_request/unlabeled.payload.json"), REPO, number, sender="maintainer"
            )
            event["label"]["name"] = label
            removals.append(deliver(client, bot.url, "pull_request", event)[1])
        wait_done(world.engine, *removals)
    return len(removals)


def numbers_by(world: World, model: str) -> set[int]:
    with world.engine.connect() as conn:
        query = select(bot_decisions.c.number).where(bot_decisions.c.model == model)
        return {int(n) for n in conn.execute(query).scalars()}


def test_canary_that_loses_online_precision_is_rolled_back(world: World) -> None:
    weak, candidate = weak_then_strong(world, share=0.5)
    assert actions(status())["promote"] == ["canary-started"]
    assert registry.read_canary(world.home / "models")["share"] == 0.5  # type: ignore[index]
    bot = world.bot()
    try:
        removed = label_and_reject(world, bot, range(1, 31), by=candidate)
        assert removed >= 4
        # Only the canary's share of items went to the candidate, chosen per item.
        canary_items = {n for n in range(1, 31) if in_canary(f"{REPO}#{n}", 0.5)}
        assert numbers_by(world, candidate) <= canary_items < set(range(1, 31))

        code, out = reconcile(None, "--once", "--step", "canary")
        assert code == 0, out
        [verdict] = decisions(status())["canary"]
        assert verdict["action"] == "aborted" and verdict["subject"] == candidate
        assert "canary online precision 0.000 is below" in verdict["reason"]
        assert registry.read_canary(world.home / "models") is None
        assert registry.ref(registry.production(world.home / "models")) == weak
        assert "aborted" in status()["models"]["candidate"]

        # The running bot follows (it looks at the registry before each item): new items
        # that the canary would have taken go to production again.
        late = range(40, 60)
        assert any(in_canary(f"{REPO}#{n}", 0.5) for n in late)
        with httpx.Client(timeout=10) as client:
            sent = []
            for n in late:
                world.fake.create_item(REPO, title="Crash", body=BUG_BODY, kind="pr", number=n)
                payload = retarget(
                    fixture("pull_request/opened.payload.json"), REPO, n, body=BUG_BODY
                )
                sent.append(deliver(client, bot.url, "pull_request", payload)[1])
            wait_done(world.engine, *sent)
        assert not numbers_by(world, candidate) & set(late)
    finally:
        bot.stop()


def test_production_below_the_precision_floor_is_rolled_back(world: World) -> None:
    weak, strong = weak_then_strong(world, share=0.0)
    assert actions(status())["promote"] == ["promoted"]
    bot = world.bot()
    try:
        assert label_and_reject(world, bot, range(1, 13), by=strong) >= 4
    finally:
        bot.stop()
    code, out = reconcile(None, "--once", "--step", "rollback")
    assert code == 0, out
    made = decisions(status())["rollback"]
    assert [d["action"] for d in made] == ["rolled-back", "restored"]
    assert made[0]["subject"] == strong and made[0]["details"]["to"] == weak
    assert registry.ref(registry.production(world.home / "models")) == weak
    # The rolled-back model is never promoted again; the restored one is judged afresh.
    assert reconcile(None, "--once", "--step", "rollback")[0] == 0
    [again] = decisions(status())["rollback"]
    assert again["action"] == "none" and again["subject"] == weak


def test_interval_mode_runs_passes_until_sigterm(world: World) -> None:
    import os
    import signal
    import subprocess
    import sys

    configure(world, "sift-linear", 0.0)
    proc = subprocess.Popen(
        [sys.executable, "-m", "kubesift", "reconcile", "--interval", "1s"],
        env={**os.environ, "COLUMNS": "200"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(status(runs=1000)["runs"]) < 3:
            time.sleep(0.5)
        runs = status(runs=1000)["runs"]  # all of them, newest first: runs[-1] is the first
        assert len(runs) >= 3 and all(r["status"] == "ok" for r in runs if r["finished_at"])
        assert [d["action"] for d in runs[-1]["decisions"] if d["controller"] == "train"] == [
            "trained",
            "promoted",
        ]  # the first pass trained; later ones find production fresh
        # The newest pass may still be running (its decisions partial): read the newest
        # finished one.
        info = status(runs=1000)
        newest = next(i for i, r in enumerate(info["runs"]) if r["finished_at"])
        assert "fresh" in decisions(info, newest)["train"][0]["reason"]
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert status()["lock"]["holder"] is None
