"""The Kubernetes-like generator: deterministic, realistic, internally consistent."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from kubesift.testing import (
    BOT_LOGINS,
    HISTORY_END,
    HISTORY_START,
    GeneratedRepo,
    find_datasets_dir,
    generate_repo,
)
from kubesift.testing._notes import NOTES_SUBDIR, load_release_notes

NONE_TEXTS = {"NONE", "None", "N/A", ""}


def test_same_seed_same_repo() -> None:
    a, b = generate_repo(1_500, seed=3), generate_repo(1_500, seed=3)
    assert a.items == b.items
    assert a.events == b.events
    assert (a.deleted, a.inaccessible, set(a.transferred)) == (
        b.deleted,
        b.inaccessible,
        set(b.transferred),
    )
    assert generate_repo(1_500, seed=4).items != a.items


def test_numbers_gaps_and_times(generated: GeneratedRepo) -> None:
    numbers = [i.number for i in generated.items]
    assert len(generated.items) == 5_000
    assert numbers == sorted(set(numbers))
    gaps = generated.deleted | generated.inaccessible | set(generated.transferred)
    assert set(numbers) | gaps == set(range(1, generated.max_number + 1))
    assert 0.004 < len(gaps) / generated.max_number < 0.012
    assert generated.deleted and generated.transferred and generated.inaccessible
    created = [i.created_at for i in generated.items]
    assert created == sorted(created)
    assert created[0] >= HISTORY_START and created[-1] <= HISTORY_END
    ids = [i.id for i in generated.items]
    assert ids == sorted(set(ids))


def test_labels_equal_replay_of_events(generated: GeneratedRepo) -> None:
    per_item = generated.events_by_number()
    ids = [e.id for e in generated.events]
    assert ids == sorted(set(ids))
    for item in generated.items:
        current: set[str] = set()
        for event in per_item.get(item.number, []):
            if event.event == "labeled":
                assert event.label not in current
                current.add(event.label or "")
            elif event.event == "unlabeled":
                assert event.label in current
                current.discard(event.label or "")
        assert current == set(item.labels), item.number
        assert list(item.labels) == sorted(item.labels, key=str.lower)


def test_times_are_consistent(generated: GeneratedRepo) -> None:
    per_item = generated.events_by_number()
    for item in generated.items:
        assert item.created_at <= item.updated_at <= HISTORY_END
        for event in per_item.get(item.number, []):
            assert item.created_at <= event.created_at <= item.updated_at
        if item.state == "closed":
            assert item.closed_at is not None and item.created_at <= item.closed_at
            assert item.closed_at <= item.updated_at
            assert item.closed_by is not None
        else:
            assert item.closed_at is None and item.merged_at is None
        if item.merged_at is not None:
            assert item.is_pr and item.merged_at == item.closed_at
    ties = Counter(i.updated_at for i in generated.items)
    assert sum(c for c in ties.values() if c > 1) > 10


def test_shares_look_like_kubernetes(generated: GeneratedRepo) -> None:
    items = generated.items
    prs = [i for i in items if i.is_pr]
    assert 0.55 < len(prs) / len(items) < 0.65
    closed_prs = [i for i in prs if i.state == "closed"]
    assert 0.6 < sum(i.merged_at is not None for i in closed_prs) / len(closed_prs) < 0.8
    old = [i for i in items if i.created_at < HISTORY_END - 400 * 86_400]
    assert sum(i.state == "closed" for i in old) / len(old) > 0.95
    notes = [n for n in generated.release_notes.values() if n not in NONE_TEXTS]
    assert set(generated.release_notes) == {i.number for i in prs}
    assert 0.38 < len(notes) / len(prs) < 0.52
    assert 1.2 < len(generated.events) / len(items) < 2.3
    closed_issues = {i.number for i in items if not i.is_pr and i.state == "closed"}
    closed_events = {e.number for e in generated.events if e.event == "closed"}
    assert 0.9 < len(closed_issues & closed_events) / len(closed_issues) <= 1.0


def test_bodies_follow_the_pr_template(generated: GeneratedRepo) -> None:
    prs = [i for i in generated.items if i.is_pr]
    for item in prs[:300]:
        body = item.body or ""
        assert "#### What type of PR is this?" in body
        assert "```release-note" in body and "```docs" in body
        note = generated.release_notes[item.number]
        assert note.replace("\n", "\r\n") in body or note in body
    assert any("\r\n" in (i.body or "") for i in generated.items)
    assert any("\r\n" not in (i.body or "") for i in generated.items)


def test_users_bots_and_label_actors(generated: GeneratedRepo) -> None:
    users = generated.users
    assert set(BOT_LOGINS) <= set(users)
    assert users["k8s-ci-robot"].type == "User"
    assert users["dependabot[bot]"].type == "Bot"
    authors = Counter(i.user for i in generated.items)
    counts = sorted(authors.values())
    assert len(counts) > 300
    assert counts[-1] >= 10 * counts[len(counts) // 2]  # Zipf-like: a few very active people
    kind_actors = {
        e.actor in BOT_LOGINS
        for e in generated.events
        if e.event == "labeled" and (e.label or "").startswith("kind/")
    }
    assert kind_actors == {True, False}
    human_removed = {
        e.number for e in generated.events if e.event == "unlabeled" and e.actor not in BOT_LOGINS
    }
    assert 0.02 < len(human_removed) / len(generated.items) < 0.09
    for label in generated.labels.values():
        assert label.default is False and label.id and label.node_id and label.color
    groups = {name.split("/")[0] for i in generated.items for name in i.labels}
    assert {"kind", "sig", "area", "size", "release-note", "lifecycle"} <= groups


def test_synthesised_notes_without_dataset() -> None:
    repo = generate_repo(600, seed=1, use_release_notes=False)
    notes = [n for n in repo.release_notes.values() if n not in NONE_TEXTS]
    assert notes and all(isinstance(n, str) for n in notes)


def test_notes_come_from_the_dataset_when_present() -> None:
    base = find_datasets_dir()
    if base is None or not (base / NOTES_SUBDIR).is_dir():
        pytest.skip("shared release-note dataset not found")
    kinds_by_text: dict[str, set[str]] = {}
    for note in load_release_notes(base / NOTES_SUBDIR):
        kinds_by_text.setdefault(note.text, set()).update(f"kind/{k}" for k in note.kinds[:1])
    repo = generate_repo(800, seed=5)
    used = [(num, t) for num, t in repo.release_notes.items() if t in kinds_by_text]
    assert len(used) > 100
    items = repo.by_number()
    removed = {e.number for e in repo.events if e.event == "unlabeled"}
    for number, text in used:
        if kinds_by_text[text] and number not in removed:
            assert kinds_by_text[text] & set(items[number].labels), number


@pytest.mark.slow
def test_generates_91k_items_quickly() -> None:
    started = time.perf_counter()
    repo = generate_repo(91_000)
    took = time.perf_counter() - started
    assert len(repo.items) == 91_000
    assert 160_000 <= len(repo.events) <= 200_000  # label events + closed events
    assert took < 15, took
