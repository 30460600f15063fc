"""Label models, registered by name. Each follows scikit-learn's conventions.

``fit(X, Y, known=None)`` takes items (mappings of allowed inputs) and an n × L 0/1
matrix; ``predict_proba(X)`` returns an n × L matrix of scores. ``known`` masks cells
whose target is unknown (a label only kubesift's own bot applied).
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.feature_selection import f_classif
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.utils.validation import check_is_fitted

from kubesift.errors import UserError
from kubesift.learn.features import Item, ItemFeaturizer, drop_stop_words, item_text

DEFAULT_MODEL = "sift-linear"

#: The default recipe: unweighted regressions for family labels (their scores rank
#: better across a family, and liblinear converges ~3x faster), balanced ones for the
#: single-label tasks. ``sift-linear-v1`` is the earlier all-balanced recipe.
SIFT_LINEAR: dict[str, Any] = {"class_weight": None, "balanced_columns": 1}


def _workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


#: What forked workers read: inherited copy-on-write, never pickled.
_SHARED: dict[str, Any] = {}


def _fit_shared(j: int) -> tuple[np.ndarray, float]:
    model, M, Y, mask = _SHARED["job"]
    fitted: tuple[np.ndarray, float] = model._fit_label(M, Y, mask, j)
    return fitted


def _map_labels(
    model: LinearLabelModel, M: sp.csr_matrix, Y: np.ndarray, mask: np.ndarray
) -> list[tuple[np.ndarray, float]]:
    """Fit every label's regression, in forked worker processes when there are cores.

    Processes, not threads: liblinear seeds one process-wide C ``rand()``, so threads
    interleaving it would make coefficients differ from run to run.
    """
    labels = range(Y.shape[1])
    workers = min(_workers(), Y.shape[1])
    if workers < 2 or "fork" not in mp.get_all_start_methods():
        return [model._fit_label(M, Y, mask, j) for j in labels]
    _SHARED["job"] = (model, M, Y, mask)
    try:
        with mp.get_context("fork").Pool(workers) as pool:
            return pool.map(_fit_shared, labels, chunksize=1)
    finally:
        _SHARED.pop("job", None)


def _mask(Y: np.ndarray, known: np.ndarray | None) -> np.ndarray:
    return np.ones(Y.shape, dtype=bool) if known is None else np.asarray(known, dtype=bool)


class LinearLabelModel(ClassifierMixin, BaseEstimator):
    """One logistic regression per label over shared :class:`ItemFeaturizer` features.

    ``C`` goes to every per-label regression. The first ``balanced_columns`` labels
    (the single-label tasks, e.g. ``kind/bug``; training sets this) are fit with
    ``class_weight="balanced"``, the others with ``class_weight``. The featurizer
    parameters choose the feature blocks. A label with one class only in training
    gets a constant score (its prior).
    """

    def __init__(
        self,
        C: float = 1.0,
        class_weight: str | None = "balanced",
        use_char: bool = True,
        use_author: bool = True,
        use_docs: bool = True,
        word_ngrams: tuple[int, int] = (1, 2),
        char_ngrams: tuple[int, int] = (2, 5),
        author_weight: float = 1.0,
        docs_weight: float = 0.5,
        balanced_columns: int = 0,
    ) -> None:
        self.C = C
        self.class_weight = class_weight
        self.use_char = use_char
        self.use_author = use_author
        self.use_docs = use_docs
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.author_weight = author_weight
        self.docs_weight = docs_weight
        self.balanced_columns = balanced_columns

    def _featurizer(self) -> ItemFeaturizer:
        return ItemFeaturizer(
            word_ngrams=self.word_ngrams,
            char_ngrams=self.char_ngrams,
            use_char=self.use_char,
            use_author=self.use_author,
            use_docs=self.use_docs,
            author_weight=self.author_weight,
            docs_weight=self.docs_weight,
        )

    def fit(
        self, X: Sequence[Item], Y: np.ndarray, known: np.ndarray | None = None
    ) -> LinearLabelModel:
        """Fit the featurizer on ``X`` (no labels read), then one regression per label."""
        self.featurizer_ = self._featurizer().fit(X)
        return self.fit_matrix(self.featurizer_.transform(X), Y, known)

    def fit_matrix(
        self, M: sp.csr_matrix, Y: np.ndarray, known: np.ndarray | None = None
    ) -> LinearLabelModel:
        """Fit the per-label regressions on an already featurized matrix."""
        Y = np.asarray(Y)
        mask = _mask(Y, known)
        fitted = _map_labels(self, M, Y, mask)
        coefs = [c for c, _ in fitted]
        intercepts = [i for _, i in fitted]
        self.coef_ = np.vstack(coefs).astype(np.float32)
        self.intercept_ = np.asarray(intercepts, dtype=np.float64)
        self.n_labels_ = Y.shape[1]
        return self

    def _fit_label(
        self, M: sp.csr_matrix, Y: np.ndarray, mask: np.ndarray, j: int
    ) -> tuple[np.ndarray, float]:
        rows = mask[:, j]
        y = Y[rows, j]
        if len(np.unique(y)) < 2:
            prior = float(y.mean()) if len(y) else 0.0
            return np.zeros(M.shape[1], dtype=np.float64), _logit(prior)
        clf = LogisticRegression(
            C=self.C,
            class_weight="balanced" if j < self.balanced_columns else self.class_weight,
            solver="liblinear",
            dual=True,
            random_state=0,
            max_iter=300,
        ).fit(M[rows], y)
        return clf.coef_[0], float(clf.intercept_[0])

    def decision_matrix(self, M: sp.csr_matrix) -> np.ndarray:
        return np.asarray(M @ self.coef_.T, dtype=np.float64) + self.intercept_

    def predict_proba(self, X: Sequence[Item]) -> np.ndarray:
        """n × L probabilities."""
        check_is_fitted(self, "coef_")
        return _sigmoid(self.decision_matrix(self.featurizer_.transform(X)))

    def predict(self, X: Sequence[Item]) -> np.ndarray:
        return (self.predict_proba(X) >= 0.5).astype(int)

    def explain(self, item: Item, label_index: int, top: int = 5) -> list[tuple[str, float]]:
        """The word, author and doc features that pushed this label's score most."""
        check_is_fitted(self, "coef_")
        row = self.featurizer_.transform([item]).tocoo()
        weights = row.data * self.coef_[label_index, row.col]
        names = self._names()
        ranked = sorted(zip(row.col, weights, strict=True), key=lambda p: -abs(p[1]))
        picked = [(names[c], float(w)) for c, w in ranked if _explains(str(names[c]))]
        return picked[:top]

    def _names(self) -> np.ndarray:
        if not hasattr(self, "_names_cache"):
            self._names_cache = self.featurizer_.get_feature_names_out()
        return self._names_cache


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
    "sift-linear": lambda: LinearLabelModel(**SIFT_LINEAR),
    "sift-linear-v1": LinearLabelModel,
    "linear": lambda: LinearLabelModel(C=1.0, class_weight=None, use_author=False, use_docs=False),
    "seed-mlp": SeedMLP,
    "majority": MajorityModel,
}


def make_model(name: str, n_tasks: int | None = None, **params: Any) -> Any:
    """A new, unfitted model registered as ``name``, with ``params`` set.

    ``n_tasks``: how many leading target columns are single-label tasks (fit
    balanced by models with ``balanced_columns``, unless ``params`` sets it).
    """
    if name not in MODELS:
        raise UserError(f"unknown model {name!r}; choose from {', '.join(sorted(MODELS))}")
    model = MODELS[name]()
    defaults = model.get_params()
    if (
        n_tasks is not None
        and defaults.get("balanced_columns")
        and "balanced_columns" not in params
    ):
        params = {**params, "balanced_columns": n_tasks}
    return model.set_params(**params) if params else model
