"""Finding the shared datasets: one function for the CLI, tests, benchmarks and the fake."""

from __future__ import annotations

from pathlib import Path

from kubesift.config import SHARED, find_datasets, find_shared


def test_datasets_from_the_environment_or_beside_the_checkout(tmp_path: Path) -> None:
    assert find_datasets({"KUBESIFT_DATASETS": str(tmp_path)}) == tmp_path
    assert find_datasets({"KUBESIFT_DATASETS": str(tmp_path / "missing")}) is None
    shared = find_shared()
    default = find_datasets({})
    if shared is None:
        assert default is None
    else:
        assert default == shared / "datasets" and shared.is_absolute()
        assert not SHARED.is_absolute()  # where it looks is relative, never a machine path
