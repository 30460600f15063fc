"""Shared fixtures: a temporary KUBESIFT_HOME, the shared datasets, the CLI as a process.

The store backend: SQLite (a file under each test's KUBESIFT_HOME) unless
``KUBESIFT_TEST_POSTGRES_URL`` names a PostgreSQL server and a role that may CREATE
DATABASE; then each test that uses ``home`` gets a database of its own (a copy of a
migrated template, dropped afterwards) in ``KUBESIFT_DATABASE_URL``, which the library
and the CLI processes the tests start both read.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN_URL = os.environ.get("KUBESIFT_TEST_POSTGRES_URL", "")
ON_POSTGRES = bool(POSTGRES_ADMIN_URL)

sqlite_only = pytest.mark.skipif(
    ON_POSTGRES, reason="inspects the SQLite file itself; this run stores in PostgreSQL"
)
postgres_only = pytest.mark.skipif(
    not ON_POSTGRES, reason="a PostgreSQL-only behaviour; set KUBESIFT_TEST_POSTGRES_URL"
)


def pytest_configure(config: pytest.Config) -> None:
    # Train the same models whether or not this machine has a sentence encoder installed
    # (tests of the encoder and of sift-embed name theirs).
    os.environ.setdefault("KUBESIFT_ENCODER", "off")
    config.addinivalue_line(
        "markers", "empty_database: on PostgreSQL, start from an empty database, not migrated"
    )


def store_backend() -> str:
    if not ON_POSTGRES:
        return "kubesift store: sqlite (a file per test; set KUBESIFT_TEST_POSTGRES_URL for pg)"
    from sqlalchemy.engine import make_url

    shown = make_url(POSTGRES_ADMIN_URL).render_as_string(hide_password=True)
    return f"kubesift store: postgresql, a fresh database per test on {shown}"


def pytest_report_header(config: pytest.Config) -> str:
    return store_backend()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    terminalreporter.write_line(store_backend())  # also under -q, which hides the header


class PostgresDatabases:
    """Creates and drops the per-test databases on the server the admin URL points to."""

    def __init__(self, admin_url: str) -> None:
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url
        from sqlalchemy.pool import NullPool

        url = make_url(admin_url)
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        self.url = url
        self.admin = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        self.prefix = f"kubesift_test_{os.getpid()}"
        self.template = f"{self.prefix}_template"
        self.counter = itertools.count(1)

    def url_for(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def execute(self, sql: str) -> None:
        from sqlalchemy import text

        with self.admin.connect() as conn:
            conn.execute(text(sql))

    def create_template(self) -> None:
        """The template: a database migrated once, so each test copies it instead."""
        from kubesift.store import create_store_engine, ensure_schema

        self.execute(f'DROP DATABASE IF EXISTS "{self.template}"')
        self.execute(f'CREATE DATABASE "{self.template}" TEMPLATE template0')
        engine = create_store_engine(self.url_for(self.template))
        try:
            ensure_schema(engine)
        finally:
            engine.dispose()  # CREATE DATABASE ... TEMPLATE needs it unused

    def create(self, *, migrated: bool) -> str:
        name = f"{self.prefix}_{next(self.counter)}"
        source = self.template if migrated else "template0"
        self.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
        return name

    def drop(self, name: str) -> None:
        # FORCE: a bot process the test killed may not have closed its connections yet.
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        self.drop(self.template)
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[PostgresDatabases | None]:
    if not ON_POSTGRES:
        yield None
        return
    databases = PostgresDatabases(POSTGRES_ADMIN_URL)
    try:
        databases.execute("SELECT 1")
    except Exception as exc:
        pytest.exit(f"KUBESIFT_TEST_POSTGRES_URL: cannot connect: {exc}", returncode=3)
    databases.create_template()
    try:
        yield databases
    finally:
        databases.close()


@pytest.fixture
def database_url(
    request: pytest.FixtureRequest, postgres_databases: PostgresDatabases | None
) -> Iterator[str | None]:
    """This test's own PostgreSQL database (None on SQLite: the file under KUBESIFT_HOME)."""
    if postgres_databases is None:
        yield None
        return
    migrated = request.node.get_closest_marker("empty_database") is None
    name = postgres_databases.create(migrated=migrated)
    try:
        yield postgres_databases.url_for(name)
    finally:
        postgres_databases.drop(name)


@pytest.fixture
def datasets() -> Path:
    from kubesift.config import find_datasets

    found = find_datasets()
    if found is None:
        pytest.skip("shared datasets not found at ../shared/datasets or $KUBESIFT_DATASETS")
    return found


@pytest.fixture
def home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str | None
) -> Iterator[Path]:
    path = tmp_path / "home"
    monkeypatch.setenv("KUBESIFT_HOME", str(path))
    if database_url is None:
        monkeypatch.delenv("KUBESIFT_DATABASE_URL", raising=False)
    else:
        monkeypatch.setenv("KUBESIFT_DATABASE_URL", database_url)
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    yield path


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m kubesift ARGS`` as a real process with the current environment."""
    full_env = {**os.environ, "COLUMNS": "120", **(env or {})}
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


# -- the shared CI fixtures (real JUnit files, a real build log, the reference vectors) ---------


def _shared_fixtures(kind: str) -> Path:
    from kubesift.config import find_fixtures

    path = find_fixtures(kind)
    if path is None:
        pytest.skip(
            f"../shared/fixtures/{kind} is absent (set KUBESIFT_DATASETS or check out shared/)"
        )
    return path


@pytest.fixture(scope="session")
def ci_fixtures() -> Path:
    return _shared_fixtures("ci")


@pytest.fixture(scope="session")
def vectors(ci_fixtures: Path) -> dict[str, Any]:
    import json

    data: dict[str, Any] = json.loads((ci_fixtures / "vectors.json").read_text())
    return data


def vector_cases(vectors: dict[str, Any], *path: str, at_least: int = 1) -> list[Any]:
    """The test vectors at ``path`` in vectors.json, asserted to be there: a loop over an
    empty or renamed list would pass without checking anything."""
    found: Any = vectors
    for key in path:
        found = found[key]
    assert isinstance(found, list) and len(found) >= at_least, (
        f"vectors.json: expected at least {at_least} cases at {'/'.join(path)}"
    )
    return found


@pytest.fixture(scope="session")
def alert_fixtures() -> Path:
    """Real Alertmanager v4 payloads, both Event APIs, a watch envelope, kube-prometheus rules."""
    return _shared_fixtures("alerts")
