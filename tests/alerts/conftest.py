"""The alert tests' shared fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.alerts.helpers import PageSink


@pytest.fixture
def sink() -> Iterator[PageSink]:
    """A real HTTP server on loopback that records every page posted to it."""
    s = PageSink()
    yield s
    s.close()
