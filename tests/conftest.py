"""Shared fixtures: a temporary KUBESIFT_HOME, the shared datasets, the CLI as a process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def datasets_path() -> Path | None:
    env = os.environ.get("KUBESIFT_DATASETS")
    candidate = Path(env) if env else ROOT.parent / "shared" / "datasets"
    return candidate if candidate.is_dir() else None


@pytest.fixture
def datasets() -> Path:
    found = datasets_path()
    if found is None:
        pytest.skip("shared datasets not found at ../shared/datasets or $KUBESIFT_DATASETS")
    return found


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "home"
    monkeypatch.setenv("KUBESIFT_HOME", str(path))
    monkeypatch.delenv("KUBESIFT_DATABASE_URL", raising=False)
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    yield path


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m kubesift ARGS`` as a real process with the current environment."""
    full_env = {**os.environ, **(env or {}), "COLUMNS": "120"}
    return subprocess.run(
        [sys.executable, "-m", "kubesift", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        check=False,
    )


# -- the one fake GitHub shared by every test ---------------------------------------------

REPO = "kubernetes/kubernetes"
TOKEN = "ghp_testtoken000000000000000000000000001"


class GitHubFixture:
    """A fake GitHub with a small generated repository, served for real on loopback."""

    def __init__(self, items: int, seed: int) -> None:
        from kubesift.testing import FakeGitHub, create_app, generate_repo, serve_in_thread

        self.fake = FakeGitHub()
        self.generated = generate_repo(items, seed=seed, use_release_notes=False)
        self.repo = self.fake.add_repo(self.generated)
        self.fake.add_token(TOKEN, "kubesift-test")
        self.server = serve_in_thread(create_app(self.fake))
        self.url = self.server.url
        self.token = TOKEN

    def env(self) -> dict[str, str]:
        return {"GITHUB_TOKEN": self.token, "KUBESIFT_API_URL": self.url}

    def stats(self) -> dict[str, object]:
        return self.fake.stats_snapshot()


@pytest.fixture
def github() -> Iterator[GitHubFixture]:
    fixture = GitHubFixture(items=450, seed=7)
    try:
        yield fixture
    finally:
        fixture.server.stop()
