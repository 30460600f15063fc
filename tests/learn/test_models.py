"""Training, calibration, the registry and the Predictor on a small synthetic store."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.pipeline import Pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks
from sqlalchemy.engine import Engine

from kubesift.errors import UserError
from kubesift.learn import ModelError, Predictor, registry
from kubesift.learn.calibrate import choose_cap, decide, precision_threshold, top_decide
from kubesift.learn.dataset import Dataset, load_dataset
from kubesift.learn.models import (
    C_GRID,
    MODELS,
    LinearLabelModel,
    PerLabelLogistic,
    make_model,
    short_params,
)
from kubesift.learn.service import save_trained
from kubesift.learn.train import TrainSpec, train

FIXTURES = Path(__file__).parent / "fixtures"

SPEC = TrainSpec(
    labels=("kind/bug",),
    families=("sig",),
    split="release:1.29",
    params={"use_char": False},
    compare=("majority",),
    folds=3,
)


@pytest.fixture
def trained(engine: Engine):  # type: ignore[no-untyped-def]
    return train(load_dataset(engine), SPEC)


def test_models_follow_sklearn_conventions() -> None:
    for name in MODELS:
        model = make_model(name)
        assert model.get_params() == make_model(name, **model.get_params()).get_params()
        assert short_params(make_model(name, **short_params(model))) == short_params(model)


@parametrize_with_checks([PerLabelLogistic(), PerLabelLogistic(class_weight=None, C=0.5)])
def test_the_regression_step_passes_sklearn_checks(estimator, check) -> None:  # type: ignore[no-untyped-def]
    check(estimator)


def test_the_linear_model_is_a_pipeline_of_features_and_labels() -> None:
    model = make_model("sift-linear", 1, C=3.0, use_char=False)
    assert isinstance(model, Pipeline)
    assert [name for name, _ in model.steps] == ["features", "labels"]
    # A short name reaches the step that owns it; the full name works too.
    assert model.get_params()["labels__C"] == 3.0
    assert model.get_params()["features__use_char"] is False
    assert model.set_params(labels__C=2.0).get_params()["labels__C"] == 2.0
    with pytest.raises(UserError, match="unknown parameter 'nope'"):
        make_model("sift-linear", nope=1)


def test_a_model_saved_before_the_pipeline_loads_and_scores_the_same() -> None:
    import skops.io as sio

    path = FIXTURES / "linear-v0.skops"  # written by the flat LinearLabelModel (9c303d2)
    expected = json.loads((FIXTURES / "linear-v0.json").read_text())
    types = sio.get_untrusted_types(file=path)
    assert set(types) <= registry.TRUSTED_TYPES
    model = sio.load(path, trusted=types)
    assert isinstance(model, LinearLabelModel)
    assert np.allclose(model.predict_proba(expected["inputs"]), expected["scores"], atol=1e-12)
    params = short_params(model)
    assert {k: params[k] for k in expected["params"]} == {
        k: tuple(v) if isinstance(v, list) else v for k, v in expected["params"].items()
    }
    assert model.explain(expected["inputs"][0], 0)[0][0] in {"w:fix", "w:panic"}


def test_train_learns_and_reports(trained) -> None:  # type: ignore[no-untyped-def]
    bug = trained.metrics["models"]["sift-linear"]["kind/bug"]
    assert bug["at_0.5"]["binary"]["f1"] > 0.9
    assert "majority" in trained.metrics["models"]
    assert set(bug) >= {"at_0.5", "best_f1", "target_precision", "precision_coverage"}
    family = trained.metrics["models"]["sift-linear"]["family:sig"]["target_precision"]["family"]
    assert 0 <= family["micro_precision"] <= 1


def test_thresholds_never_see_the_test_slice(engine: Engine) -> None:
    dataset = load_dataset(engine)
    flipped = Dataset(
        [
            dataclasses.replace(e, positives=frozenset({"kind/cleanup", "sig/testing"}))
            if e.release and int(e.release.split(".")[1]) >= 29
            else e
            for e in dataset.examples
        ]
    )
    a, b = train(dataset, SPEC), train(flipped, SPEC)
    assert a.thresholds == b.thresholds and a.f1_thresholds == b.f1_thresholds
    assert a.f1_caps == b.f1_caps and a.metrics["f1_decode"] == b.metrics["f1_decode"]
    assert a.metrics != b.metrics  # the test slice did change, only the evaluation saw it


def test_unreachable_precision_is_never_predicted() -> None:
    y = np.array([0, 1] * 20)
    scores = np.linspace(0, 1, 40)[::-1] * 0 + 0.5  # uninformative
    assert precision_threshold(y, scores, 0.9) is None
    d = decide(np.array([[0.99, 0.2]]), [None, 0.1])
    assert d.tolist() == [[0, 1]]


def test_family_limit_keeps_the_best_labels() -> None:
    scores = np.array([[0.9, 0.8, 0.7], [0.1, 0.1, 0.1]])
    assert decide(scores, [0.5, 0.5, 0.5], (1, 2)).tolist() == [[1, 1, 0], [1, 0, 0]]
    assert decide(scores, [0.5, 0.5, 0.5], (0, 2)).tolist() == [[1, 1, 0], [0, 0, 0]]


def test_f1_decode_always_gives_the_top_label_and_respects_the_cap() -> None:
    scores = np.array([[0.9, 0.8, 0.7], [0.1, 0.3, 0.2], [0.2, 0.95, 0.9]])
    thresholds = [0.5, 0.5, None]
    assert top_decide(scores, thresholds, 2).tolist() == [[1, 1, 0], [0, 1, 0], [0, 1, 0]]
    assert top_decide(scores, [0.5, 0.5, 0.5], 1).tolist() == [[1, 0, 0], [0, 1, 0], [0, 1, 0]]
    assert top_decide(scores, [0.5, 0.5, 0.5], 3).tolist() == [[1, 1, 1], [0, 1, 0], [0, 1, 1]]


def test_cap_is_chosen_on_the_given_scores() -> None:
    Y = np.array([[1, 1, 0], [1, 1, 0], [0, 1, 0]])
    known = np.ones(Y.shape, dtype=bool)
    oof = np.array([[0.9, 0.6, 0.1], [0.8, 0.7, 0.1], [0.1, 0.9, 0.6]])
    assert choose_cap(Y, known, oof, [0.5, 0.5, 0.5], (1, 2, 3)) == 2
    assert choose_cap(Y, known, oof, [0.5, 0.5, 0.95], (1, 3)) == 3
    assert choose_cap(Y[:, :1], known[:, :1], oof[:, :1], [0.5], (1, 2)) == 1  # tie: smaller


def test_default_model_balances_only_the_tasks(trained) -> None:  # type: ignore[no-untyped-def]
    assert trained.model.get_params()["labels__balanced_columns"] == 1
    assert trained.model.get_params()["labels__class_weight"] is None
    assert short_params(make_model("sift-linear-v1"))["class_weight"] == "balanced"
    assert short_params(make_model("sift-linear", 2))["balanced_columns"] == 2
    assert short_params(make_model("sift-linear-v1", 2))["balanced_columns"] == 0


def test_round_trip_gives_identical_scores(trained, home: Path) -> None:  # type: ignore[no-untyped-def]
    version = save_trained(home / "models", trained)
    items = [{"text": "Fix panic crash in the kubelet"}, {"text": "Add support for new field"}]
    loaded = Predictor.load(home / "models")
    assert np.array_equal(loaded.scores(items), trained.model.predict_proba(items))
    meta = json.loads((version.path / "metadata.json").read_text())
    assert set(meta["files"]) >= {"model.skops", "metrics.json", "card.md", "card.html"}
    assert meta["labels"][0] == "kind/bug" and len(meta["thresholds"]) == len(meta["labels"])
    first = loaded.predict(items)
    assert "kind/bug" in first[0].labels and "kind/bug" not in first[1].labels
    assert first[0].explanation["kind/bug"]


def test_tampered_model_is_rejected(trained, home: Path) -> None:  # type: ignore[no-untyped-def]
    version = save_trained(home / "models", trained)
    path = version.path / "model.skops"
    path.write_bytes(path.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(ModelError, match="sha256"):
        Predictor.load(home / "models")


def test_untrusted_types_are_refused(trained, home: Path) -> None:  # type: ignore[no-untyped-def]
    import skops.io as sio

    version = save_trained(home / "models", trained)
    sio.dump({"x": dataclasses.make_dataclass("Evil", [])()}, version.path / "model.skops")
    meta = json.loads((version.path / "metadata.json").read_text())
    meta["files"]["model.skops"] = registry.sha256_file(version.path / "model.skops")
    (version.path / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="untrusted"):
        Predictor.load(home / "models")


def test_promote_changes_production(trained, home: Path) -> None:  # type: ignore[no-untyped-def]
    first = save_trained(home / "models", trained)
    second = save_trained(home / "models", trained)
    assert registry.production(home / "models").version == second.version
    registry.promote(home / "models", first.name, first.version)
    assert registry.production(home / "models").version == first.version


def test_tune_searches_on_the_training_period_only(engine: Engine, home: Path) -> None:
    from kubesift.learn.tune import tune

    dataset = load_dataset(engine)
    flipped = Dataset(
        [
            dataclasses.replace(e, positives=frozenset({"kind/cleanup"}))
            if e.release and int(e.release.split(".")[1]) >= 29
            else e
            for e in dataset.examples
        ]
    )
    a, b = tune(dataset, SPEC, budget=2), tune(flipped, SPEC, budget=2)
    assert a["trials"] and a["best_params"]
    first_a, first_b = a["trials"][0], b["trials"][0]
    # same seed, same training data: the same first trial and score
    assert (first_a["params"], first_a["score"]) == (first_b["params"], first_b["score"])


def test_auto_C_is_chosen_by_what_the_data_supports() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 40))
    signal = (X[:, :5].sum(axis=1) > 0).astype(int)  # learnable: weak regularisation wins
    noise = rng.integers(0, 2, 300)  # nothing to learn: the strongest regularisation wins
    learnt = PerLabelLogistic(C="auto", class_weight=None).fit(X, np.column_stack([signal]))
    guessed = PerLabelLogistic(C="auto", class_weight=None).fit(X, np.column_stack([noise]))
    assert learnt.C_ >= 10 > 1 == guessed.C_ == min(C_GRID)
    fixed = PerLabelLogistic(C=3.0).fit(X, np.column_stack([signal]))
    assert fixed.C_ == 3.0
