"""Datasets: allowed inputs only, provenance rules, temporal splits."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from sqlalchemy.engine import Engine

from kubesift.errors import UserError
from kubesift.learn.dataset import (
    INPUT_FIELDS,
    load_dataset,
    provenance,
    targets,
    temporal_split,
)
from kubesift.learn.features import ItemFeaturizer
from kubesift.learn.predictor import _clean
from kubesift.store import writes


def test_examples_expose_only_allowed_inputs(engine: Engine) -> None:
    dataset = load_dataset(engine)
    assert len(dataset) == 240
    for item in dataset.inputs():
        assert tuple(item) == INPUT_FIELDS
        assert "kind/" not in str(item) and "sig/" not in str(item)


def test_label_derived_fields_never_reach_features(engine: Engine) -> None:
    dataset = load_dataset(engine)
    relabelled = dataset.subset(range(len(dataset)))
    relabelled.examples = [
        dataclasses.replace(e, positives=frozenset({"kind/other", "sig/other"}))
        for e in dataset.examples
    ]
    featurizer = ItemFeaturizer().fit(dataset.inputs())
    a = featurizer.transform(dataset.inputs())
    b = ItemFeaturizer().fit(relabelled.inputs()).transform(relabelled.inputs())
    assert (a != b).nnz == 0
    # Label-derived keys given to the prediction path are dropped before the model.
    leaky = {"text": "x", "markdown": "x [SIG Node]", "kinds": ["bug"], "sigs": ["node"]}
    assert set(_clean(leaky)) == set(INPUT_FIELDS)


def test_temporal_split_by_release(engine: Engine) -> None:
    train, test = temporal_split(load_dataset(engine), "release:1.28")
    assert train.examples and test.examples
    assert all(e.release and int(e.release.split(".")[1]) < 28 for e in train.examples)
    assert all(e.release and int(e.release.split(".")[1]) >= 28 for e in test.examples)
    assert not {e.id for e in train.examples} & {e.id for e in test.examples}
    _, bounded = temporal_split(load_dataset(engine), "release:1.25..1.26")
    assert {e.release for e in bounded.examples} <= {"1.25.0", "1.26.0"}


@pytest.mark.parametrize("spec", ["random", "release:", "release:x.y", "release:1.99"])
def test_bad_splits_are_user_errors(engine: Engine, spec: str) -> None:
    with pytest.raises(UserError):
        temporal_split(load_dataset(engine), spec)


def test_provenance_rules() -> None:
    events = [
        ("labeled", "kind/bug", "kubesift[bot]", True),
        ("labeled", "sig/node", "k8s-ci-robot", True),
        ("labeled", "kind/feature", "alice", False),
        ("unlabeled", "kind/feature", "alice", False),
    ]
    pos, neg, unk = provenance({"kind/bug", "sig/node"}, events, frozenset({"kubesift[bot]"}))
    assert pos == {"sig/node"}  # Prow's bot applies human /sig commands: kept
    assert unk == {"kind/bug"}  # our own bot's label is never a target
    assert neg == {"kind/feature"}  # a human removed it


def test_provenance_from_store(engine: Engine) -> None:
    """Our bot's ``labeled`` event, read from the store, hides a label the item has from
    training (unknown) and says nothing about an item without that label."""
    before = load_dataset(engine)
    bug = next(e for e in before.examples if "kind/bug" in e.positives)
    bugs = {"kind/bug", "kind/regression"}  # the kind/bug task counts both
    other = next(e for e in before.examples if not bugs & (e.positives | e.unknown))
    with engine.begin() as conn:
        writes.insert_label_events(
            conn,
            1,
            [
                {
                    "github_id": n,
                    "item_number": int(e.id),
                    "event": "labeled",
                    "label": "kind/bug",
                    "actor": "kubesift[bot]",
                    "actor_is_bot": True,
                    "created_at": "2024-01-01T00:00:00Z",
                }
                for n, e in enumerate((bug, other), start=1)
            ],
        )
    dataset = load_dataset(engine)
    t = targets(dataset, ["kind/bug"])
    rows = {e.id: i for i, e in enumerate(dataset.examples)}
    hidden = dataset.examples[rows[bug.id]]
    assert "kind/bug" in hidden.unknown and "kind/bug" not in hidden.positives
    assert not t.known[rows[bug.id], 0]
    kept = dataset.examples[rows[other.id]]
    assert "kind/bug" not in kept.unknown and t.known[rows[other.id], 0]
    assert not t.y[rows[other.id], 0]


def test_bug_task_counts_regressions() -> None:
    from kubesift.learn.dataset import Dataset, Example

    ds = Dataset(
        [
            Example("1", "a", positives=frozenset({"kind/regression"})),
            Example("2", "b", positives=frozenset({"kind/feature"})),
            Example("3", "c"),
        ]
    )
    t = targets(ds, ["kind/bug"], ["kind"])
    bug = t.labels.index("kind/bug")
    assert t.y[:, bug].tolist() == [1, 0, 0]
    # an item with no kind label at all is unlabelled for the family, not a negative
    feature = t.labels.index("kind/feature") if "kind/feature" in t.labels else None
    assert feature is None or not t.known[2, feature]
    assert np.all(t.known[:, bug][:2])


def test_labels_the_bot_added_are_never_targets_even_without_github_events(
    engine: Engine,
) -> None:
    """The bot's decision records say which labels it added; no event walk needed."""
    from kubesift.store.schema import bot_decisions

    before = load_dataset(engine)
    bug = next(e for e in before.examples if "kind/bug" in e.positives)
    with engine.begin() as conn:
        conn.execute(
            bot_decisions.insert().values(
                repo="kubernetes/kubernetes", number=int(bug.id), kind="pr", label="kind/bug",
                score=0.97, action="added", dry_run=False, model="m@1",
                created_at="2024-01-01T00:00:00.000001Z",
            )
        )  # fmt: skip
    after = next(e for e in load_dataset(engine).examples if e.id == bug.id)
    assert "kind/bug" in after.unknown and "kind/bug" not in after.positives
