"""A small synthetic store of release notes with a learnable kind/bug signal."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from kubesift.collect.importer import save_notes
from kubesift.collect.krel import KrelNote
from kubesift.config import load_settings
from kubesift.store import open_store

BUG_WORDS = ["fix", "panic", "crash", "race", "leak", "nil pointer", "regression", "error"]
FEATURE_WORDS = ["add", "support", "new", "field", "alpha", "feature gate", "introduce", "enable"]
SUBJECTS = ["kubelet", "scheduler", "apiserver", "kubectl", "volume", "endpoint", "proxy", "etcd"]


def synthetic_notes(count: int = 240, seed: int = 3) -> list[KrelNote]:
    rng = random.Random(seed)
    notes = []
    for i in range(count):
        bug = rng.random() < 0.4
        words = rng.sample(BUG_WORDS if bug else FEATURE_WORDS, 3)
        subject = rng.choice(SUBJECTS)
        sig = "node" if subject == "kubelet" else rng.choice(["apps", "network", "storage"])
        notes.append(
            KrelNote(
                pr_number=1000 + i,
                text=f"{' '.join(words).capitalize()} in the {subject} when {rng.choice(SUBJECTS)}",
                author=f"dev{rng.randrange(12)}",
                kinds=("bug",) if bug else ("feature",),
                sigs=(sig,),
                areas=(),
                documentation=(),
                action_required=False,
                release=f"1.{20 + i * 12 // count}.0",
                source="synthetic.json",
            )
        )
    return notes


@pytest.fixture
def engine(home: Path) -> Engine:
    eng = open_store(load_settings({"KUBESIFT_HOME": str(home)}))
    save_notes(eng, synthetic_notes(), "kubernetes/kubernetes")
    return eng
