"""Turning allowed inputs into sparse features: word and char n-grams, author, doc links."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfTransformer, TfidfVectorizer
from sklearn.utils.validation import check_is_fitted

from kubesift.learn.itemtext import clean_body

Item = Mapping[str, Any]

_URL = re.compile(r"https?://\S+")

#: The most of a title and of a text that features read. Longer input (a 20 MB issue
#: body) adds nothing a label model can use and costs seconds and gigabytes to featurize;
#: every caller (training, ``kubesift predict``, the server, the bot) is held to it here.
MAX_TITLE_CHARS = 1_000
MAX_TEXT_CHARS = 20_000


def clip_item(item: Item) -> dict[str, Any]:
    """``item`` with its title and text cut to what features read."""
    out = dict(item)
    for key, limit in (("title", MAX_TITLE_CHARS), ("text", MAX_TEXT_CHARS)):
        value = out.get(key)
        if isinstance(value, str) and len(value) > limit:
            out[key] = value[:limit]
    return out


def item_text(item: Item) -> str:
    """The text a model reads: the title (if any) and the text, each cut to its limit, with
    an issue's or PR's template and slash commands cleaned (:func:`clean_body`)."""
    title = str(item.get("title") or "")[:MAX_TITLE_CHARS]
    text = clean_body(str(item.get("text") or "")[:MAX_TEXT_CHARS])
    return f"{title}\n{text}" if title else text


def author_token(item: Item) -> str:
    author = item.get("author") or ""
    return f"author_{str(author).lower()}" if author else "author_unknown"


def doc_tokens(item: Item) -> str:
    """Words from documentation links (``keps sig-node …``) plus the kind of item."""
    docs = str(item.get("documentation") or "")
    words = re.findall(r"[a-z0-9][a-z0-9-]+", docs.lower())
    marker = "has_docs" if docs else "no_docs"
    return " ".join([f"kind_{item.get('kind') or 'pr'}", marker, *words])


def drop_stop_words(vectorizer: TfidfVectorizer) -> None:
    """Forget the terms cut by min_df/max_features: not needed to transform, and large."""
    if hasattr(vectorizer, "stop_words_"):
        delattr(vectorizer, "stop_words_")


class ItemFeaturizer(TransformerMixin, BaseEstimator):
    """Word n-grams, char n-grams, the author and documentation-link words, as one matrix.

    The blocks are TF-IDF weighted and scaled by ``*_weight``; ``use_author`` and
    ``use_docs`` switch their blocks off. Input: a sequence of items (mappings with
    ``text``, and optionally ``title``, ``author``, ``kind``, ``documentation``).
    """

    def __init__(
        self,
        word_ngrams: tuple[int, int] = (1, 2),
        word_min_df: int = 2,
        char_ngrams: tuple[int, int] = (2, 5),
        char_min_df: int = 3,
        char_max_features: int | None = 60000,
        use_char: bool = True,
        use_author: bool = True,
        use_docs: bool = True,
        author_weight: float = 1.0,
        docs_weight: float = 0.5,
    ) -> None:
        self.word_ngrams = word_ngrams
        self.word_min_df = word_min_df
        self.char_ngrams = char_ngrams
        self.char_min_df = char_min_df
        self.char_max_features = char_max_features
        self.use_char = use_char
        self.use_author = use_author
        self.use_docs = use_docs
        self.author_weight = author_weight
        self.docs_weight = docs_weight

    def _blocks(self) -> list[tuple[str, TfidfVectorizer, float]]:
        blocks = [
            (
                "w",
                TfidfVectorizer(
                    ngram_range=tuple(self.word_ngrams),
                    min_df=self.word_min_df,
                    sublinear_tf=True,
                    strip_accents="unicode",
                    dtype=np.float32,
                ),
                1.0,
            )
        ]
        if self.use_char:
            blocks.append(
                (
                    "c",
                    TfidfVectorizer(
                        analyzer="char_wb",
                        ngram_range=tuple(self.char_ngrams),
                        min_df=self.char_min_df,
                        max_features=self.char_max_features,
                        sublinear_tf=True,
                        dtype=np.float32,
                    ),
                    1.0,
                )
            )
        if self.use_author:
            blocks.append(
                (
                    "a",
                    TfidfVectorizer(
                        token_pattern=r"\S+", min_df=2, use_idf=False, norm=None, dtype=np.float32
                    ),
                    self.author_weight,
                )
            )
        if self.use_docs:
            blocks.append(
                (
                    "d",
                    TfidfVectorizer(token_pattern=r"\S+", min_df=2, dtype=np.float32),
                    self.docs_weight,
                )
            )
        return blocks

    @staticmethod
    def _column(prefix: str, X: Sequence[Item]) -> list[str]:
        if prefix in ("w", "c"):
            return [item_text(x) for x in X]
        if prefix == "a":
            return [author_token(x) for x in X]
        return [doc_tokens(x) for x in X]

    def fit(self, X: Sequence[Item], y: object = None) -> ItemFeaturizer:
        """Learn the vocabularies and IDF weights (no labels are read)."""
        self.vectorizers_ = []
        self.weights_ = []
        self.prefixes_ = []
        for prefix, vectorizer, weight in self._blocks():
            vectorizer.fit(self._column(prefix, X))
            drop_stop_words(vectorizer)
            self.vectorizers_.append(vectorizer)
            self.weights_.append(float(weight))
            self.prefixes_.append(prefix)
        return self

    def transform(self, X: Sequence[Item]) -> sp.csr_matrix:
        """Items → CSR matrix (float32), blocks side by side."""
        check_is_fitted(self, "vectorizers_")
        parts = [
            vec.transform(self._column(prefix, X)) * weight
            for prefix, vec, weight in zip(
                self.prefixes_, self.vectorizers_, self.weights_, strict=True
            )
        ]
        return sp.hstack(parts, format="csr", dtype=np.float32)

    def __getstate__(self) -> dict[str, Any]:
        """Vectorizers as (terms, idf) arrays: compact, and quick to load with skops."""
        state = dict(self.__dict__)
        if "vectorizers_" in state:
            state["vectorizers_"] = [_vectorizer_state(v) for v in state["vectorizers_"]]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if "vectorizers_" in state:
            blocks = {prefix: vec for prefix, vec, _weight in self._blocks()}
            self.vectorizers_ = [
                _restore_vectorizer(blocks[prefix], saved)
                for prefix, saved in zip(self.prefixes_, state["vectorizers_"], strict=True)
            ]

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        """Names like ``w:fix panic``, ``c:pani``, ``a:author_alice``, ``d:kep``."""
        check_is_fitted(self, "vectorizers_")
        names: list[str] = []
        for prefix, vec in zip(self.prefixes_, self.vectorizers_, strict=True):
            names += [f"{prefix}:{n}" for n in vec.get_feature_names_out()]
        return np.asarray(names, dtype=object)


def _vectorizer_state(vec: TfidfVectorizer) -> dict[str, Any]:
    terms = np.empty(len(vec.vocabulary_), dtype=object)
    for term, index in vec.vocabulary_.items():
        terms[index] = term
    idf = vec.idf_ if vec.use_idf else None
    return {"terms": np.asarray(terms.tolist(), dtype=str), "idf": idf}


def _restore_vectorizer(vec: TfidfVectorizer, saved: dict[str, Any]) -> TfidfVectorizer:
    terms = [str(t) for t in saved["terms"]]
    vec.vocabulary_ = {t: i for i, t in enumerate(terms)}
    vec.fixed_vocabulary_ = False
    vec._tfidf = TfidfTransformer(
        norm=vec.norm, use_idf=vec.use_idf, smooth_idf=vec.smooth_idf, sublinear_tf=vec.sublinear_tf
    ).fit(sp.csr_matrix((1, len(terms)), dtype=np.float64))
    if saved["idf"] is not None:
        vec.idf_ = np.asarray(saved["idf"], dtype=np.float64)
    return vec
