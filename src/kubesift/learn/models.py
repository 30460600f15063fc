"""Label models, registered by name. Each follows scikit-learn's conventions.

``fit(X, Y, known=None)`` takes items (mappings of allowed inputs) and an n × L 0/1
matrix; ``predict_proba(X)`` returns an n × L matrix of scores. ``known`` masks cells
whose target is unknown (a label only kubesift's own bot applied).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.exceptions import DataConversionWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.feature_selection import f_classif
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.utils import Tags
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from kubesift import defaults
from kubesift.errors import UserError
from kubesift.learn.features import Item, ItemFeaturizer, drop_stop_words, item_text

DEFAULT_MODEL = defaults.MODEL

#: The default recipe: unweighted regressions for family labels (their scores rank
#: better across a family, and liblinear converges ~3x faster), balanced ones for the
#: single-label tasks. ``sift-linear-v1`` is the earlier all-balanced recipe.
SIFT_LINEAR: dict[str, Any] = {"class_weight": None, "balanced_columns": 1}


def _workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


#: What forked workers read: inherited copy-on-write, never pickled.
_SHARED: dict[str, Any] = {}


def _fit_shared(j: int) -> tuple[np.ndarray, float]:
    model, M, Y, mask, weights = _SHARED["job"]
    fitted: tuple[np.ndarray, float] = model._fit_label(M, Y, mask, j, weights)
    return fitted


def _map_labels(
    model: PerLabelLogistic,
    M: sp.csr_matrix,
    Y: np.ndarray,
    mask: np.ndarray,
    weights: np.ndarray | None = None,
) -> list[tuple[np.ndarray, float]]:
    """Fit every label's regression, in forked worker processes when there are cores.

    Processes, not threads: liblinear seeds one process-wide C ``rand()``, so threads
    interleaving it would make coefficients differ from run to run.
    """
    labels = range(Y.shape[1])
    workers = min(_workers(), Y.shape[1])
    if workers < 2 or "fork" not in mp.get_all_start_methods():
        return [model._fit_label(M, Y, mask, j, weights) for j in labels]
    _SHARED["job"] = (model, M, Y, mask, weights)
    try:
        with mp.get_context("fork").Pool(workers) as pool:
            return pool.map(_fit_shared, labels, chunksize=1)
    finally:
        _SHARED.pop("job", None)


def _mask(Y: np.ndarray, known: np.ndarray | None) -> np.ndarray:
    return np.ones(Y.shape, dtype=bool) if known is None else np.asarray(known, dtype=bool)


class PerLabelLogistic(ClassifierMixin, BaseEstimator):
    """One logistic regression per target column, on a feature matrix.

    The regression step of :class:`LinearLabelModel`, usable on its own: a plain
    scikit-learn classifier for a 1-D ``y`` (binary, or one-vs-rest for several
    classes), and a multi-label one for an n × L 0/1 ``Y`` (then ``predict_proba``
    is n × L). ``C`` goes to every regression; ``"auto"`` picks it from :data:`C_GRID` by
    inner cross-validation on the training items (``C_`` is the one used). The first
    ``balanced_columns`` columns
    (the single-label tasks, e.g. ``kind/bug``; training sets this) are fit with
    ``class_weight="balanced"``, the others with ``class_weight``. ``known`` masks
    cells whose target is unknown. A column with one class only gets its prior.
    """

    def __init__(
        self,
        C: float | str = 1.0,
        class_weight: str | dict[Any, float] | None = "balanced",
        balanced_columns: int = 0,
    ) -> None:
        self.C = C
        self.class_weight = class_weight
        self.balanced_columns = balanced_columns

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        if tags.classifier_tags is not None:
            tags.classifier_tags.multi_label = True
        return tags

    def fit(self, X: Any, y: Any, known: np.ndarray | None = None) -> PerLabelLogistic:
        M, y = validate_data(self, X, y, accept_sparse="csr", multi_output=True, reset=True)
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1 and not np.isin(y, (0, 1)).all():
            warnings.warn(
                "a column-vector y of classes was passed; use a 1-D y",
                DataConversionWarning,
                stacklevel=2,
            )
            y = y.ravel()
        Y = self._targets(y)
        M, mask, weights = sp.csr_matrix(M), _mask(Y, known), self._weights(y)
        self.C_ = choose_C(self, M, Y, mask, weights) if self.C == "auto" else float(self.C)
        fitted = _map_labels(self, M, Y, mask, weights)
        self.coef_ = np.vstack([c for c, _ in fitted]).astype(np.float32)
        self.intercept_ = np.asarray([i for _, i in fitted], dtype=np.float64)
        self.n_labels_ = Y.shape[1]
        return self

    def _targets(self, y: np.ndarray) -> np.ndarray:
        """The 0/1 columns to fit: Y itself, or ``y``'s classes one-vs-rest."""
        self.multilabel_ = y.ndim == 2
        if self.multilabel_:
            self.classes_ = np.array([0, 1])  # every column is 0/1
            return y.astype(int)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) <= 2:
            return (y == self.classes_[-1]).astype(int).reshape(-1, 1)
        return (y[:, None] == self.classes_[None, :]).astype(int)

    def _weights(self, y: np.ndarray) -> np.ndarray | None:
        """Per-item weights when ``class_weight`` maps ``y``'s classes to weights."""
        if y.ndim == 2 or not isinstance(self.class_weight, dict):
            return None
        return compute_sample_weight(self.class_weight, y)

    def _fit_label(
        self,
        M: sp.csr_matrix,
        Y: np.ndarray,
        mask: np.ndarray,
        j: int,
        weights: np.ndarray | None = None,
    ) -> tuple[np.ndarray, float]:
        rows = mask[:, j]
        y = Y[rows, j]
        if len(np.unique(y)) < 2:
            prior = float(y.mean()) if len(y) else 0.0
            return np.zeros(M.shape[1], dtype=np.float64), _logit(prior)
        # A class -> weight map for a 1-D y is applied as item weights instead.
        own = None if weights is not None else self.class_weight
        clf = LogisticRegression(
            C=getattr(self, "C_", self.C),
            class_weight="balanced" if j < self.balanced_columns else own,
            solver="liblinear",
            dual=True,
            random_state=0,
            max_iter=300,
        ).fit(M[rows], y, sample_weight=None if weights is None else weights[rows])
        return clf.coef_[0], float(clf.intercept_[0])

    def _scores(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "coef_")
        M = validate_data(self, X, accept_sparse="csr", reset=False)
        return np.asarray(M @ self.coef_.T, dtype=np.float64) + self.intercept_

    def decision_function(self, X: Any) -> np.ndarray:
        scores = self._scores(X)
        return scores[:, 0] if not self.multilabel_ and len(self.classes_) == 2 else scores

    def predict_proba(self, X: Any) -> np.ndarray:
        """n × L per-label probabilities, or n × classes for a 1-D target."""
        p = _sigmoid(self._scores(X))
        if self.multilabel_:
            return p
        if len(self.classes_) == 1:
            return np.ones((p.shape[0], 1))
        if len(self.classes_) == 2:
            return np.column_stack([1 - p[:, 0], p[:, 0]])
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, X: Any) -> np.ndarray:
        proba = self.predict_proba(X)
        if self.multilabel_:
            return (proba >= 0.5).astype(int)
        return self.classes_[np.argmax(proba, axis=1)]


#: The regularisation ``C="auto"`` chooses from. On real issues (NLBSE'24, per repository)
#: C = 1 cost 2.7 points of macro-F1 against 10; the best C differs by repository.
C_GRID = (1.0, 3.0, 10.0, 30.0)
INNER_FOLDS = 3


def choose_C(
    model: PerLabelLogistic,
    M: sp.csr_matrix,
    Y: np.ndarray,
    mask: np.ndarray,
    weights: np.ndarray | None,
) -> float:
    """The C of :data:`C_GRID` with the lowest log-loss over every known cell, by
    :data:`INNER_FOLDS`-fold cross-validation (folds keep each label pattern's share)."""
    rng = np.random.default_rng(0)
    keys = [tuple(row) for row in Y]
    folds = np.zeros(len(Y), dtype=int)
    for key in set(keys):
        members = rng.permutation([i for i, k in enumerate(keys) if k == key])
        folds[members] = np.arange(len(members)) % INNER_FOLDS
    losses = []
    for C in C_GRID:
        trial = PerLabelLogistic(C, model.class_weight, model.balanced_columns)
        trial.C_ = C
        loss = 0.0
        for f in range(INNER_FOLDS):
            test, train = folds == f, folds != f
            w = None if weights is None else weights[train]
            fitted = _map_labels(trial, M[train], Y[train], mask[train], w)
            scores = M[test] @ np.vstack([c for c, _ in fitted]).T + [i for _, i in fitted]
            p = np.clip(_sigmoid(np.asarray(scores)), 1e-6, 1 - 1e-6)
            cells = mask[test]
            y = Y[test]
            loss -= float(np.sum((y * np.log(p) + (1 - y) * np.log(1 - p))[cells]))
        losses.append(loss)
    return float(C_GRID[int(np.argmin(losses))])


class LinearLabelModel(Pipeline):
    """Shared :class:`ItemFeaturizer` features, then :class:`PerLabelLogistic`.

    A scikit-learn :class:`~sklearn.pipeline.Pipeline` with the steps ``features`` and
    ``labels``. Each step's own parameters may also be set by their short names
    (``C``, ``use_char``, ``author_weight``…), which is how ``train --param``, tuning
    and ``metadata.json`` name them; :meth:`short_params` reads them back.
    """

    def __init__(
        self,
        steps: list[tuple[str, Any]] | None = None,
        *,
        transform_input: list[str] | None = None,
        memory: Any = None,
        verbose: bool = False,
    ) -> None:
        super().__init__(
            steps if steps is not None else _linear_steps(),
            transform_input=transform_input,
            memory=memory,
            verbose=verbose,
        )

    def set_params(self, **params: Any) -> LinearLabelModel:
        """Set parameters by full (``labels__C``) or short (``C``) name."""
        super().set_params(**{self._full_name(k): v for k, v in params.items()})
        return self

    def _full_name(self, name: str) -> str:
        if "__" in name or name in self.get_params(deep=True):
            return name
        owners = [s for s, est in self.steps if name in est.get_params(deep=False)]
        if len(owners) != 1:
            raise UserError(f"unknown parameter {name!r} for {type(self).__name__}")
        return f"{owners[0]}__{name}"

    def short_params(self) -> dict[str, Any]:
        """Every step's parameters by short name: what metadata.json records."""
        out: dict[str, Any] = {}
        for _name, est in self.steps:
            out.update(est.get_params(deep=False))
        return out

    def fit(self, X: Sequence[Item], Y: Any, known: np.ndarray | None = None) -> LinearLabelModel:
        """Fit the featurizer on ``X`` (no labels read), then one regression per label."""
        super().fit(X, Y, labels__known=known)
        return self

    def predict(self, X: Sequence[Item], **params: Any) -> np.ndarray:
        return (self.predict_proba(X) >= 0.5).astype(int)

    def out_of_fold(
        self, X: Sequence[Item], Y: np.ndarray, known: np.ndarray, folds: np.ndarray
    ) -> np.ndarray:
        """Scores for every item from regressions that did not see its fold. The
        featurizer reads no labels, so one fit on every item serves all folds."""
        oof = np.zeros(Y.shape, dtype=np.float64)
        M = clone(self.named_steps["features"]).fit_transform(X)
        for f in np.unique(folds):
            test = folds == f
            fitted = clone(self.named_steps["labels"]).fit(M[~test], Y[~test], known[~test])
            oof[test] = fitted.predict_proba(M[test])
        return oof

    def explain(self, item: Item, label_index: int, top: int = 5) -> list[tuple[str, float]]:
        """The word, author and doc features that pushed this label's score most."""
        labels = self.named_steps["labels"]
        check_is_fitted(labels, "coef_")
        row = self.named_steps["features"].transform([item]).tocoo()
        weights = row.data * labels.coef_[label_index, row.col]
        names = self.named_steps["features"].get_feature_names_out()
        ranked = sorted(zip(row.col, weights, strict=True), key=lambda p: -abs(p[1]))
        picked = [(names[c], float(w)) for c, w in ranked if _explains(str(names[c]))]
        return picked[:top]

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Files saved before the model was a Pipeline hold flat parameters and the
        # fitted featurizer and coefficients side by side; load them as its steps.
        if "steps" not in state:
            state = _pipeline_state(state)
        super().__setstate__(state)


def _linear_steps() -> list[tuple[str, Any]]:
    return [("features", ItemFeaturizer()), ("labels", PerLabelLogistic())]


_LABEL_PARAMS = ("C", "class_weight", "balanced_columns")


def _pipeline_state(old: dict[str, Any]) -> dict[str, Any]:
    labels = PerLabelLogistic(**{k: old[k] for k in _LABEL_PARAMS if k in old})
    steps: list[tuple[str, Any]] = [("features", old.get("featurizer_", ItemFeaturizer()))]
    if "coef_" in old:
        labels.coef_ = old["coef_"]
        labels.intercept_ = old["intercept_"]
        labels.n_labels_ = old["n_labels_"]
        labels.multilabel_ = True
        labels.classes_ = np.array([0, 1])
        labels.n_features_in_ = old["coef_"].shape[1]
    steps.append(("labels", labels))
    version = {"_sklearn_version": old["_sklearn_version"]} if "_sklearn_version" in old else {}
    return {"steps": steps, "transform_input": None, "memory": None, "verbose": False, **version}


def _explains(name: str) -> bool:
    return not name.startswith(("c:", "d:kind_", "d:no_docs", "d:has_docs"))


class SeedMLP(ClassifierMixin, BaseEstimator):
    """The original kubernetes-analysis recipe: TF-IDF word 1–2-grams (min_df 2),
    SelectKBest(f_classif, k) and an MLP with two hidden layers of 64 units, early
    stopping. For several labels, a feature's score is its best F over the labels.
    """

    def __init__(
        self, k: int = 20000, hidden: tuple[int, ...] = (64, 64), random_state: int = 0
    ) -> None:
        self.k = k
        self.hidden = hidden
        self.random_state = random_state

    def fit(self, X: Sequence[Item], Y: np.ndarray, known: np.ndarray | None = None) -> SeedMLP:
        Y = np.asarray(Y)
        self.vectorizer_ = TfidfVectorizer(
            ngram_range=(1, 2), min_df=2, strip_accents="unicode", dtype=np.float32
        )
        M = self.vectorizer_.fit_transform([item_text(x) for x in X])
        drop_stop_words(self.vectorizer_)
        scores = np.zeros(M.shape[1])
        for j in range(Y.shape[1]):
            if len(np.unique(Y[:, j])) > 1:
                f, _ = f_classif(M, Y[:, j])
                scores = np.maximum(scores, np.nan_to_num(f))
        keep = np.argsort(-scores)[: min(self.k, M.shape[1])]
        self.support_ = np.sort(keep).astype(np.int64)
        self.mlp_ = MLPClassifier(
            hidden_layer_sizes=tuple(self.hidden),
            batch_size=128,
            learning_rate_init=1e-3,
            early_stopping=True,
            n_iter_no_change=2,
            max_iter=200,
            random_state=self.random_state,
        )
        target = Y[:, 0] if Y.shape[1] == 1 else Y
        self.mlp_.fit(M[:, self.support_], target)
        self.n_labels_ = Y.shape[1]
        return self

    def predict_proba(self, X: Sequence[Item]) -> np.ndarray:
        check_is_fitted(self, "mlp_")
        M = self.vectorizer_.transform([item_text(x) for x in X])[:, self.support_]
        proba = self.mlp_.predict_proba(M)
        return proba[:, 1:2] if self.n_labels_ == 1 else proba

    def predict(self, X: Sequence[Item]) -> np.ndarray:
        return (self.predict_proba(X) >= 0.5).astype(int)


class MajorityModel(ClassifierMixin, BaseEstimator):
    """Every item gets each label's training frequency: the majority-class baseline."""

    def fit(self, X: Sequence[Item], Y: np.ndarray, known: np.ndarray | None = None) -> Any:
        Y = np.asarray(Y, dtype=float)
        mask = _mask(Y, known)
        self.prior_ = np.array([Y[mask[:, j], j].mean() for j in range(Y.shape[1])])
        return self

    def predict_proba(self, X: Sequence[Item]) -> np.ndarray:
        check_is_fitted(self, "prior_")
        return np.tile(self.prior_, (len(X), 1))

    def predict(self, X: Sequence[Item]) -> np.ndarray:
        return (self.predict_proba(X) >= 0.5).astype(int)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return float(np.log(p / (1 - p)))


MODELS: dict[str, Callable[[], Any]] = {
    "sift-linear": lambda: LinearLabelModel().set_params(**SIFT_LINEAR),
    "sift-linear-cv": lambda: LinearLabelModel().set_params(**SIFT_LINEAR, C="auto"),
    "sift-linear-v1": LinearLabelModel,
    "linear": lambda: LinearLabelModel().set_params(
        C=1.0, class_weight=None, use_author=False, use_docs=False
    ),
    "sift-embed": lambda: _embedding_model(),
    "seed-mlp": SeedMLP,
    "majority": MajorityModel,
}


def _embedding_model() -> Any:
    from kubesift.learn.embedded import EmbeddingLabelModel

    return EmbeddingLabelModel()


def make_model(name: str, n_tasks: int | None = None, **params: Any) -> Any:
    """A new, unfitted model registered as ``name``, with ``params`` set.

    ``n_tasks``: how many leading target columns are single-label tasks (fit
    balanced by models with ``balanced_columns``, unless ``params`` sets it).
    """
    if name not in MODELS:
        raise UserError(f"unknown model {name!r}; choose from {', '.join(sorted(MODELS))}")
    model = MODELS[name]()
    defaults = short_params(model)
    if (
        n_tasks is not None
        and defaults.get("balanced_columns")
        and "balanced_columns" not in params
    ):
        params = {**params, "balanced_columns": n_tasks}
    return model.set_params(**params) if params else model


def short_params(model: Any) -> dict[str, Any]:
    """A model's parameters as users name them (``C``, not ``labels__C``)."""
    if isinstance(model, LinearLabelModel):
        return model.short_params()
    params: dict[str, Any] = model.get_params()
    return params
