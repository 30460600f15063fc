"""The shared CI fixtures (real JUnit files and the reference tools' vectors)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kubesift.config import find_fixtures


@pytest.fixture(scope="session")
def ci_fixtures() -> Path:
    path = find_fixtures("ci")
    if path is None:
        pytest.skip("../shared/fixtures/ci is absent (set KUBESIFT_DATASETS or check out shared/)")
    return path


@pytest.fixture(scope="session")
def vectors(ci_fixtures: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ci_fixtures / "vectors.json").read_text())
    return data
