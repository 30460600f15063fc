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


def _package_graph() -> dict[str, set[str]]:
    """Which top-level package imports which (lazy imports too: they are dependencies)."""
    graph: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        package = path.relative_to(SRC).parts[0].removesuffix(".py")
        for module in _imports(path):
            if module.startswith("kubesift."):
                other = module.split(".")[1]
                if other != package:
                    graph.setdefault(package, set()).add(other)
    return graph


def test_no_import_cycle_between_packages_and_web_is_on_top() -> None:
    graph = _package_graph()

    def reach(start: str) -> set[str]:
        seen: set[str] = set()
        todo = [start]
        while todo:
            for nxt in graph.get(todo.pop(), set()) - seen:
                seen.add(nxt)
                todo.append(nxt)
        return seen

    cycles = sorted((a, b) for a, targets in graph.items() for b in targets if a in reach(b))
    assert cycles == []
    users_of_web = sorted(p for p, targets in graph.items() if "web" in targets)
    assert set(users_of_web) <= {"cli", "demo"}, users_of_web  # only the CLI starts the web
