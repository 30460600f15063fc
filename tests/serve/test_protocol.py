"""The pure request parsing and response shaping (no HTTP)."""

from __future__ import annotations

import pytest

from kubesift.learn import Prediction
from kubesift.serve.metrics import endpoint
from kubesift.serve.protocol import (
    RequestError,
    Tensor,
    parse_v1,
    parse_v2,
    primary_label,
    v1_response,
    v2_outputs,
)

LABELS = ["kind/bug", "sig/node"]
PREDS = [Prediction({"kind/bug": 0.9, "sig/node": 0.2}, ["kind/bug"])]


def test_parse_v1_shapes() -> None:
    legacy = parse_v1(b'{"text": "Fix it", "author": "a"}')
    assert legacy.legacy and legacy.items[0]["text"] == "Fix it"
    assert legacy.items[0]["author"] == "a"
    batch = parse_v1({"instances": ["a b", {"text": "c", "author": None, "extra": 1}]})
    assert not batch.legacy and [i["text"] for i in batch.items] == ["a b", "c"]
    assert "extra" not in batch.items[1]
    assert v1_response(legacy, LABELS, PREDS) == {"result": 0.9}
    assert v1_response(batch, LABELS, PREDS) == {
        "predictions": [{"labels": ["kind/bug"], "scores": {"kind/bug": 0.9, "sig/node": 0.2}}]
    }


@pytest.mark.parametrize(
    "body",
    [b"{", b"[]", b'"x"', b"{}", b'{"instances": {}}', b'{"text": ""}', b'{"text": ["a"]}'],
)
def test_parse_v1_refuses(body: bytes) -> None:
    with pytest.raises(RequestError):
        parse_v1(body)


def test_parse_v1_caps_instances() -> None:
    with pytest.raises(RequestError, match="at most 2"):
        parse_v1({"instances": ["a", "b", "c"]}, max_instances=2)


def test_parse_v2() -> None:
    items = parse_v2(
        [
            Tensor("text", "BYTES", [1, 2], [["a", b"b"]]),
            Tensor("author", "BYTES", [2], ["x", ""]),
        ]
    )
    assert items == [{"text": "a", "author": "x"}, {"text": "b", "author": None}]
    for bad in (
        [Tensor("text", "BYTES", [2], ["a"])],
        [Tensor("text", "BYTES", [1], [b"\xff"])],
        [Tensor("text", "BYTES", [-1], [])],
        [Tensor("text", "BYTES", [1], ["a"]), Tensor("author", "BYTES", [2], ["a", "b"])],
        [Tensor("text", "INT32", [1], [1])],
    ):
        with pytest.raises(RequestError):
            parse_v2(bad)


def test_v2_outputs_and_primary_label() -> None:
    scores, labels, probability = v2_outputs(LABELS, PREDS)
    assert scores["shape"] == [1, 2] and scores["data"] == [0.9, 0.2]
    assert labels["data"] == ["kind/bug"] and probability["data"] == [0.9]
    assert primary_label(["sig/node", "sig/apps"]) == "sig/node"


def test_model_spec_and_endpoint_labels() -> None:
    pytest.importorskip("kserve")
    from kubesift.serve.model import ModelSpec

    assert ModelSpec.parse(None) == ModelSpec()
    assert ModelSpec.parse("m@v1") == ModelSpec("m", "v1") and ModelSpec("m", "v1").pinned
    assert ModelSpec.parse("m") == ModelSpec("m", None)
    assert endpoint("/v1/models/x:predict") == "v1_predict"
    assert endpoint("/v2/models/x/infer") == "v2_infer"
    assert endpoint("/v2/health/ready") == "v2_health"
    assert endpoint("/anything") == "other"
