"""``sift-embed``: sift-linear beside a regression on sentence embeddings.

Measured on real issues (NLBSE'24's training half, ``bench/learn_issues.py``): TF-IDF
features find the words a class uses, a sentence encoder finds what an issue *means*
when its words are new; each alone is below the other's best repository, and their
average on the log-odds scale beats both (per repository and pooled). Each half is a
scikit-learn regression per label; the embeddings are of the title and of the title
with the cleaned body (:func:`~kubesift.learn.features.item_text`), 2 × 384 numbers.

The encoder is not saved in the model (90 MB, and it is the same for every model): the
model records its fingerprint and refuses to score with a different one. Without the
``[embed]`` extra, :func:`choose_model` falls back to ``sift-linear`` and says why.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils.validation import check_is_fitted

from kubesift import defaults
from kubesift.learn import encoder as enc
from kubesift.learn.features import Item, item_text
from kubesift.learn.models import SIFT_LINEAR, LinearLabelModel, PerLabelLogistic, _sigmoid

NAME = "sift-embed"
#: ``$KUBESIFT_ENCODER=off`` keeps kubesift on the linear model even where an encoder
#: is installed (the test suite sets it, so that results do not depend on the machine).
OFF = "off"


class EmbeddingLabelModel(ClassifierMixin, BaseEstimator):
    """sift-linear's per-label regressions and per-label regressions on embeddings,
    their scores averaged on the log-odds scale (``embed_weight`` for the second).

    ``C`` goes to the linear half (``"auto"``: chosen by inner cross-validation),
    ``embed_C`` to the embedding half, ``balanced_columns`` to both; ``embed_tokens`` is
    how many word pieces of each text the encoder reads; ``encoder`` a directory (None:
    the installed one); ``embed_backend`` how it computes (None: the fastest installed,
    see :data:`~kubesift.learn.encoder.BACKENDS`). A fitted model is scored with the
    backend it was fit with.
    """

    def __init__(
        self,
        C: float | str = "auto",
        embed_C: float = 1.0,
        embed_weight: float = 0.5,
        embed_tokens: int = enc.MAX_TOKENS,
        balanced_columns: int = 1,
        encoder: str | None = None,
        embed_backend: str | None = None,
    ) -> None:
        self.C = C
        self.embed_C = embed_C
        self.embed_weight = embed_weight
        self.embed_tokens = embed_tokens
        self.balanced_columns = balanced_columns
        self.encoder = encoder
        self.embed_backend = embed_backend

    def _encoder(self) -> enc.Encoder:
        backend = self.embed_backend
        if hasattr(self, "head_"):  # fitted: the arithmetic it was fit with
            backend = getattr(self, "encoder_backend_", "numpy")
        return enc.load_encoder(self.encoder, self.embed_tokens, backend)

    def embed(self, X: Sequence[Item]) -> np.ndarray:
        """n × 768: the title's embedding beside the title-and-body's."""
        encoder = self._encoder()
        fitted = getattr(self, "encoder_fingerprint_", None)
        if fitted is not None and fitted != encoder.fingerprint:
            raise enc.EncoderUnavailable(
                f"this model was fit with encoder {fitted[:12]}, and {encoder.path} is "
                f"{encoder.fingerprint[:12]}; install the same encoder or retrain"
            )
        titles = encoder.encode([str(x.get("title") or "") for x in X])
        texts = encoder.encode([item_text(x) for x in X])
        return np.hstack([titles, texts])

    def ready(self) -> None:
        """Raise :class:`~kubesift.learn.encoder.EncoderUnavailable` unless the encoder this
        model was fit with is installed (the Predictor asks at load)."""
        self.embed([])

    def _halves(self) -> tuple[LinearLabelModel, PerLabelLogistic]:
        linear = LinearLabelModel().set_params(
            **{**SIFT_LINEAR, "C": self.C, "balanced_columns": self.balanced_columns}
        )
        head = PerLabelLogistic(
            C=self.embed_C, class_weight=None, balanced_columns=self.balanced_columns
        )
        return linear, head

    def fit(
        self, X: Sequence[Item], Y: Any, known: np.ndarray | None = None
    ) -> EmbeddingLabelModel:
        for fitted in ("head_", "encoder_fingerprint_", "encoder_backend_"):
            self.__dict__.pop(fitted, None)  # a refit chooses its encoder afresh
        encoder = self._encoder()
        E = self.embed(X)
        linear, head = self._halves()
        self.linear_ = linear.fit(X, Y, known)
        self.encoder_fingerprint_ = encoder.fingerprint
        self.encoder_backend_ = encoder.backend
        self.head_ = head.fit(E, np.asarray(Y), known)
        self.n_labels_ = np.asarray(Y).shape[1]
        return self

    def predict_proba(self, X: Sequence[Item]) -> np.ndarray:
        check_is_fitted(self, "head_")
        return self._combine(self.linear_.predict_proba(X), self.head_.predict_proba(self.embed(X)))

    def _combine(self, linear: np.ndarray, embedded: np.ndarray) -> np.ndarray:
        w = float(self.embed_weight)
        return _sigmoid((1 - w) * _logit(linear) + w * _logit(embedded))

    def predict(self, X: Sequence[Item]) -> np.ndarray:
        return (self.predict_proba(X) >= 0.5).astype(int)

    def out_of_fold(
        self, X: Sequence[Item], Y: np.ndarray, known: np.ndarray, folds: np.ndarray
    ) -> np.ndarray:
        """Scores for every item from halves that did not see its fold. Neither the
        featurizer nor the encoder reads labels, so each is applied once for all folds."""
        linear, head = self._halves()
        lin = linear.out_of_fold(X, Y, known, folds)
        E = self.embed(X)
        emb = np.zeros(Y.shape, dtype=np.float64)
        for f in np.unique(folds):
            test = folds == f
            emb[test] = clone(head).fit(E[~test], Y[~test], known[~test]).predict_proba(E[test])
        return self._combine(lin, emb)

    def explain(self, item: Item, label_index: int, top: int = 5) -> list[tuple[str, float]]:
        """The words that pushed the linear half's score (the embedding half has no words)."""
        return self.linear_.explain(item, label_index, top)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.asarray(np.log(p / (1 - p)))


def unavailable() -> str | None:
    """Why sift-embed cannot run here (None when it can)."""
    if os.environ.get(enc.ENV, "").lower() == OFF:
        return f"${enc.ENV} is {OFF}"
    return enc.missing_reason()


def choose_model(requested: str | None, source: str) -> tuple[str, str | None]:
    """The model to train and a note for the user: sift-embed by default for issues and
    PRs when an encoder is installed, else (and when it was asked for but cannot run)
    :data:`FALLBACK`, saying why; release notes keep sift-linear."""
    if requested not in (None, NAME):
        return str(requested), None
    if requested is None and source != "items":
        return defaults.MODEL, None
    reason = unavailable()
    if reason is None:
        return NAME, None
    return FALLBACK, f"{NAME} cannot run ({reason}); training {FALLBACK} instead"


#: What issues and PRs are labelled with when no encoder is installed: sift-linear with
#: its C chosen by cross-validation (on real issues C = 1 cost 2.7 points of macro-F1).
FALLBACK = "sift-linear-cv"
