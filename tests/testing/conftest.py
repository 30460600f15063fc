"""Fixtures for the fake GitHub: a fake with two users, a small hand-made repo, a live server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kubesift.testing import FakeGitHub, GeneratedRepo, generate_repo

from .support import Served, build_small, serve


@pytest.fixture
def fake() -> FakeGitHub:
    fake = FakeGitHub()
    fake.add_token("tok-a", "alice")
    fake.add_token("tok-b", "bob")
    build_small(fake)
    return fake


@pytest.fixture
def served(fake: FakeGitHub) -> Iterator[Served]:
    yield from serve(fake)


@pytest.fixture(scope="module")
def generated() -> GeneratedRepo:
    return generate_repo(5_000, seed=7)


@pytest.fixture(scope="module")
def served_generated() -> Iterator[Served]:
    """A generated 3,000-item repository behind a live server (module-wide, read-only)."""
    fake = FakeGitHub()
    fake.add_token("tok-a", "alice")
    fake.add_repo(generate_repo(3_000, seed=11))
    yield from serve(fake)
