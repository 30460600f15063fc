"""Conformance with KServe's own REST client (kserve.InferenceRESTClient, V1 and V2)."""

from __future__ import annotations

import asyncio

import httpx
import numpy as np
import pytest

from tests.serve.conftest import NAME, ServeProcess

kserve = pytest.importorskip("kserve")

BUG = "Fix a panic crash in the kubelet when the node restarts"
FEATURE = "Add support for a new field behind an alpha feature gate"


def client(protocol: str) -> kserve.InferenceRESTClient:
    return kserve.InferenceRESTClient(kserve.RESTConfig(protocol=protocol, timeout=10))


def test_v1_client(served: ServeProcess) -> None:
    async def run() -> None:
        rest = client("v1")
        try:
            assert await rest.is_server_live(served.url) is True
            assert await rest.is_model_ready(served.url, NAME) is True
            result = await rest.infer(served.url, {"instances": [BUG, FEATURE]}, model_name=NAME)
            assert isinstance(result, dict)
            first, second = result["predictions"]
            assert "kind/bug" in first["labels"] and "kind/bug" not in second["labels"]
            legacy = await rest.infer(served.url, {"text": BUG}, model_name=NAME)
            assert 0.5 < legacy["result"] <= 1
            with pytest.raises(httpx.HTTPStatusError) as bad:
                await rest.infer(served.url, {"instances": "x"}, model_name=NAME)
            assert bad.value.response.status_code == 400
            with pytest.raises(httpx.HTTPStatusError) as missing:
                await rest.infer(served.url, {"text": "x"}, model_name="nope")
            assert missing.value.response.status_code == 404
        finally:
            await rest.close()

    asyncio.run(run())


@pytest.mark.parametrize("binary", [False, True])
def test_v2_client(served: ServeProcess, binary: bool) -> None:
    async def run() -> None:
        rest = client("v2")
        try:
            assert await rest.is_server_live(served.url) is True
            assert await rest.is_server_ready(served.url) is True
            assert await rest.is_model_ready(served.url, NAME) is True
            text = kserve.InferInput("text", [2], "BYTES")
            text.set_data_from_numpy(np.array([BUG, FEATURE], dtype=object), binary_data=binary)
            author = kserve.InferInput("author", [2], "BYTES")
            author.set_data_from_numpy(np.array(["dev1", "dev2"], dtype=object), binary_data=binary)
            request = kserve.InferRequest(NAME, [text, author], request_id="req-7")
            response = await rest.infer(served.url, request, model_name=NAME)
            assert isinstance(response, kserve.InferResponse)
            assert response.id == "req-7" and response.model_name == NAME
            outputs = {o.name: o for o in response.outputs}
            scores = outputs["scores"].as_numpy()
            assert scores.shape == (2, 5) and scores.dtype == np.float32
            labels = outputs["scores"].parameters["labels"]
            labels = getattr(labels, "string_param", labels).split(",")
            bug = labels.index("kind/bug")
            assert scores[0, bug] > scores[1, bug]
            chosen = outputs["labels"].data
            assert "kind/bug" in chosen[0].split(",") and "kind/bug" not in chosen[1].split(",")
            assert outputs["probability"].as_numpy()[0] == pytest.approx(scores[0, bug])
        finally:
            await rest.close()

    asyncio.run(run())
