"""A fake GitHub (in a thread), a small trained model, and a bot process on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from kubesift.config import load_settings
from kubesift.learn.service import save_trained
from kubesift.learn.train import Trained
from kubesift.store import open_store
from kubesift.testing import FakeGitHub, create_app, serve_in_thread
from kubesift.testing.server import RunningServer
from tests.bot.helpers import BotProcess
from tests.serve.conftest import free_port, train_small

REPO = "kubesift/demo"
BOT_LOGIN = "kubesift-bot"
BOT_TOKEN = "ghp_bottoken0000000000000000000000000001"
HUMAN_TOKEN = "ghp_humantoken00000000000000000000000002"


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    return train_small(tmp_path_factory.mktemp("bottrain"))


@dataclass
class Env:
    fake: FakeGitHub
    server: RunningServer
    home: Path
    token_file: Path
    engine: Engine

    def start(self, *args: str) -> BotProcess:
        return BotProcess(
            self.home, free_port(), self.server.url, self.token_file, "--retry-delay", "0.2", *args
        )


@pytest.fixture
def env(tmp_path: Path, home: Path, trained_model: Trained) -> Iterator[Env]:
    save_trained(home / "models", trained_model)
    fake = FakeGitHub()
    fake.create_repo(*REPO.split("/"))
    fake.add_token(BOT_TOKEN, BOT_LOGIN)
    fake.add_token(HUMAN_TOKEN, "maintainer")
    server = serve_in_thread(create_app(fake))
    token_file = tmp_path / "oauth"
    token_file.write_text(BOT_TOKEN + "\n")
    engine = open_store(load_settings())  # the store `home` chose: SQLite or PostgreSQL
    try:
        yield Env(fake, server, home, token_file, engine)
    finally:
        server.stop()
        engine.dispose()
