"""The production / canary pointer: one follower, used by the bot and the model server."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubesift.bot.model import LocalModel
from kubesift.learn import registry
from kubesift.learn.pointer import ModelFollower, ModelSpec, in_canary
from kubesift.learn.service import save_trained
from kubesift.learn.train import Trained
from tests.serve.conftest import train_small

ITEM = {"text": "Fix a panic in the kubelet", "kind": "pr"}


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    return train_small(tmp_path_factory.mktemp("pointer"))


def _server_model(models: Path) -> object:
    from kubesift.serve.server import import_sdk

    import_sdk()
    from kubesift.serve.model import SiftModel

    return SiftModel("kubernetes-analysis", models)


def test_bot_and_server_follow_the_same_pointers(tmp_path: Path, trained: Trained) -> None:
    pytest.importorskip("kserve", reason="the KServe SDK (the serve extra) is not installed")
    models = tmp_path / "models"
    v1 = save_trained(models, trained)
    registry.promote(models, v1.name, v1.version)
    bot = LocalModel(models, check_every=0.0)
    server = _server_model(models)
    assert isinstance(bot.follower, ModelFollower)
    assert isinstance(server.follower, ModelFollower)  # type: ignore[attr-defined]
    assert server.load()  # type: ignore[attr-defined]

    def served() -> str:
        server.load()  # type: ignore[attr-defined]
        return str(server.current.ref)  # type: ignore[attr-defined]

    assert bot.score(ITEM, key="o/r#1").model == served() == registry.ref(v1)

    # A newer version that is not promoted serves nowhere (production is pinned).
    v2 = save_trained(models, trained)
    assert bot.score(ITEM, key="o/r#1").model == served() == registry.ref(v1)

    # A canary: the bot routes its share of items by key; the server keeps production.
    registry.start_canary(models, v2, 0.5, "2026-01-01T00:00:00.000000Z")
    keys = [f"o/r#{n}" for n in range(1, 41)]
    routed = {k: bot.score(ITEM, key=k).model for k in keys}
    assert {k for k, m in routed.items() if m == registry.ref(v2)} == {
        k for k in keys if in_canary(k, 0.5)
    }
    assert 0 < sum(m == registry.ref(v2) for m in routed.values()) < len(keys)
    assert bot.score(ITEM, key=None).model == registry.ref(v1)  # no key: production
    assert served() == registry.ref(v1)

    # Promotion reaches both without a restart.
    registry.promote(models, v2.name, v2.version)
    registry.end_canary(models)
    assert {bot.score(ITEM, key=k).model for k in keys} == {registry.ref(v2)}
    assert served() == registry.ref(v2)

    # A pointer to a version that is gone: both keep the version that works.
    (models / registry.PRODUCTION).write_text('{"name": "sift-linear", "version": "gone"}\n')
    assert bot.score(ITEM, key="o/r#1").model == served() == registry.ref(v2)
    assert "gone" in bot.follower.last_error


def test_spec_resolution(tmp_path: Path, trained: Trained) -> None:
    models = tmp_path / "models"
    v1 = save_trained(models, trained)
    v2 = save_trained(models, trained)
    assert ModelSpec.parse(None) == ModelSpec() and ModelSpec().follows_canary
    assert ModelSpec.parse("sift-linear@x") == ModelSpec("sift-linear", "x")
    # No pointer: production is the newest version; a pinned spec stays where it is.
    follower = ModelFollower(models, check_every=0.0)
    assert follower.pick("k").ref == registry.ref(v2)
    pinned = ModelFollower(models, ModelSpec(v1.name, v1.version), check_every=0.0)
    registry.start_canary(models, v2, 1.0, "2026-01-01T00:00:00.000000Z")
    assert pinned.pick("k").ref == registry.ref(v1)  # a pinned follower takes no canary
    with pytest.raises(Exception, match="no saved model"):
        ModelFollower(models, ModelSpec("nope"), check_every=0.0).current()


def test_every_prediction_reads_at_most_the_capped_text(trained: Trained) -> None:
    """The server and the bot both predict through Predictor: a 30 MB text scores like
    its first MAX_TEXT_CHARS characters (before the cap: minutes and gigabytes)."""
    from kubesift.learn import Predictor
    from kubesift.learn.features import MAX_TEXT_CHARS

    predictor = Predictor(
        trained.model, {"labels": list(trained.labels), "thresholds": trained.thresholds}
    )
    huge = ("kubelet panics when the pod is deleted " * 800_000)[:30_000_000]
    [full] = predictor.predict([{"text": huge}], explain=0)
    [prefix] = predictor.predict([{"text": huge[:MAX_TEXT_CHARS]}], explain=0)
    assert full.scores == prefix.scores
