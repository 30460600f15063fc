"""Realistic bulk changes to the fake's items (a mixin of :class:`~kubesift.testing.FakeGitHub`):
what a busy repository does between two exports."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from kubesift.testing._repo import FakeRepo
from kubesift.testing.model import Item

if TYPE_CHECKING:
    from kubesift.testing.fakegithub import FakeGitHub, RepoRef

MERGE_BOT = "k8s-ci-robot"
STALE_BOT = "k8s-triage-robot"


def touch(fake: FakeGitHub, ref: RepoRef, count: int, *, seed: int = 0) -> list[int]:
    """Change ``count`` distinct items realistically (relabel, comment, rename,
    close/merge/reopen, lifecycle); each gets events and a new ``updated_at``."""
    with fake.lock:
        repo = fake.repo(ref)
        rng = random.Random(seed)
        numbers = sorted(repo.items)
        chosen = rng.sample(numbers, min(max(count, 0), len(numbers)))
        for number in chosen:
            _touch_one(fake, repo, repo.items[number], rng)
        return chosen


def _touch_one(fake: FakeGitHub, repo: FakeRepo, item: Item, rng: random.Random) -> None:
    human = rng.choice(repo.people)
    roll = rng.random()
    if roll < 0.35:
        _touch_relabel(fake, repo, item, rng, human)
    elif roll < 0.55 or (roll < 0.85 and item.merged_at is not None):
        fake.add_comment(repo, item.number, rng.choice(("/retest", "PTAL", "/lgtm")), user=human)
    elif roll < 0.65:
        new = item.title[6:] if item.title.startswith("[WIP] ") else "[WIP] " + item.title
        fake.edit_item(repo, item.number, title=new, actor=item.user)
    elif roll < 0.85:
        _touch_state(fake, repo, item, rng, human)
    elif "lifecycle/stale" in item.labels:
        fake.remove_label(repo, item.number, "lifecycle/stale", actor=human)
    else:
        fake.add_labels(repo, item.number, ["lifecycle/stale"], actor=STALE_BOT)


def _touch_relabel(
    fake: FakeGitHub, repo: FakeRepo, item: Item, rng: random.Random, human: str
) -> None:
    pool = [n for n in repo.labels if n.startswith(("kind/", "sig/"))] or ["kind/bug"]
    mine = [n for n in item.labels if n.startswith(("kind/", "sig/"))]
    if mine and rng.random() < 0.3:
        fake.remove_label(repo, item.number, rng.choice(mine), actor=human)
    actor = MERGE_BOT if rng.random() < 0.5 else human
    fake.add_labels(repo, item.number, [rng.choice(pool)], actor=actor)


def _touch_state(
    fake: FakeGitHub, repo: FakeRepo, item: Item, rng: random.Random, human: str
) -> None:
    if item.state == "closed":
        fake.edit_item(repo, item.number, state="open", actor=human)
        return
    merge = item.is_pr and rng.random() < 0.7
    fake._touch_item(
        repo,
        item,
        lambda now: fake._set_state(repo, item, "closed", "completed", human, now, None, merge),
    )
