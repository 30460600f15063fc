"""The package layering of the design, as a test: nothing imports the CLI (it renders
what the library computes), and the dashboard computes nothing the CLI would not."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).parents[1] / "src" / "kubesift"


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_no_package_imports_the_cli() -> None:
    """``web`` once imported ``cli.common``: the layering runs the other way."""
    offenders = sorted(
        f"{path.relative_to(SRC)} imports {module}"
        for path in SRC.rglob("*.py")
        if path.relative_to(SRC).parts[0] not in ("cli", "__main__.py")
        for module in _imports(path)
        if module == "kubesift.cli" or module.startswith("kubesift.cli.")
    )
    assert offenders == []


def test_the_checker_sees_imports() -> None:
    assert "kubesift.errors" in _imports(SRC / "web" / "data.py")
