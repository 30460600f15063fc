"""A fake GitHub with a repository big enough to train on, and the desired state as toml."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, GitHubFixture, run_cli

BASE = {
    "repositories": ["kubernetes/kubernetes"],
    "labels": ["kind/bug"],
    "families": ["kind"],
}


def write_config(path: Path, **sections: Any) -> Path:
    """kubesift.toml with a [reconcile] table: BASE, overridden by ``sections``."""
    top = {**BASE, **{k: v for k, v in sections.items() if not isinstance(v, dict)}}
    lines = ["[reconcile]"] + [f"{k} = {json.dumps(v)}" for k, v in top.items()]
    for name, table in sections.items():
        if isinstance(table, dict):
            lines.append(f"[reconcile.{name}]")
            lines += [f"{k} = {json.dumps(v)}" for k, v in table.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


BUG = ["fix", "panic", "crash", "race", "leak", "nil pointer", "regression", "error"]
FEATURE = ["add", "support", "new", "field", "alpha", "feature gate", "introduce", "enable"]
SUBJECTS = ["kubelet", "scheduler", "apiserver", "kubectl", "volume", "endpoint", "proxy"]


def learnable_prs(gh: GitHubFixture, count: int, seed: int = 5, start: int | None = None) -> None:
    """PRs whose release notes say what kind they are, labelled by a human, ten minutes
    apart and all in the past (an export's watermark never jumps ahead of the clock)."""
    rng = random.Random(seed)
    when = start or gh.fake.now() - count * 600 - 60
    for i in range(count):
        bug = rng.random() < 0.4
        text = (
            f"{' '.join(rng.sample(BUG if bug else FEATURE, 3)).capitalize()} "
            f"in the {rng.choice(SUBJECTS)} when {rng.choice(SUBJECTS)} restarts"
        )
        gh.fake.create_item(
            REPO,
            kind="pr",
            title=text,
            body=f"What this PR does\n\n```release-note\n{text}\n```\n",
            user=f"dev{rng.randrange(9)}",
            labels=["kind/bug" if bug else "kind/feature"],
            actor="maintainer",
            created_at=when + i * 600,
        )


@pytest.fixture
def gh() -> Iterator[GitHubFixture]:
    """400 generated items, then 500 PRs with a learnable kind signal."""
    fixture = GitHubFixture(items=400, seed=11)
    learnable_prs(fixture, 500)
    try:
        yield fixture
    finally:
        fixture.server.stop()


def reconcile(gh: GitHubFixture | None, *args: str) -> tuple[int, str]:
    env = gh.env() if gh is not None else {}
    out = run_cli("reconcile", *(args or ("--once",)), env=env, timeout=300)
    return out.returncode, out.stderr + out.stdout


def status(runs: int = 1) -> dict[str, Any]:
    out = run_cli("reconcile", "status", "--json", "--runs", str(runs))
    assert out.returncode == 0, out.stderr
    return dict(json.loads(out.stdout))


def decisions(info: dict[str, Any], run: int = 0) -> dict[str, list[dict[str, Any]]]:
    """controller → its decisions in the ``run``-th newest pass."""
    out: dict[str, list[dict[str, Any]]] = {}
    for d in info["runs"][run]["decisions"]:
        out.setdefault(d["controller"], []).append(d)
    return out


def actions(info: dict[str, Any], run: int = 0) -> dict[str, list[str]]:
    return {k: [d["action"] for d in v] for k, v in decisions(info, run).items()}
