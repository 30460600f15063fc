"""Every endpoint and error case of the conformance checklist, over real HTTP."""

from __future__ import annotations

import httpx
import pytest

from tests.serve.conftest import NAME, ServeProcess

pytest.importorskip("kserve", reason="kubesift serve needs the serve extra")

PREDICT = f"/v1/models/{NAME}:predict"
INFER = f"/v2/models/{NAME}/infer"
BUG = "Fix a panic crash in the kubelet when the node restarts"
FEATURE = "Add support for a new field behind an alpha feature gate"


def post(served: ServeProcess, path: str, body: bytes, **headers: str) -> httpx.Response:
    return httpx.post(served.url + path, content=body, headers=headers, timeout=10)


def test_health_and_metadata(served: ServeProcess) -> None:
    base = served.url
    assert httpx.get(base + "/").json() == {"status": "alive"}
    assert httpx.get(base + "/v2/health/live").json() == {"live": True}
    assert httpx.get(base + "/v2/health/ready").json() == {"ready": True}
    assert httpx.get(base + "/v1/models").json() == {"models": [NAME]}
    assert httpx.get(f"{base}/v1/models/{NAME}").json() == {"name": NAME, "ready": True}
    assert httpx.get(f"{base}/v2/models/{NAME}/ready").json() == {"name": NAME, "ready": True}
    server = httpx.get(base + "/v2").json()
    assert set(server) >= {"name", "version", "extensions"}
    meta = httpx.get(f"{base}/v2/models/{NAME}").json()
    assert meta["name"] == NAME
    assert {"name": "text", "datatype": "BYTES", "shape": [-1]} in meta["inputs"]
    outputs = {o["name"]: o for o in meta["outputs"]}
    assert outputs["scores"]["datatype"] == "FP32" and outputs["scores"]["shape"] == [-1, 5]
    assert outputs["probability"] == {"name": "probability", "datatype": "FP32", "shape": [-1]}


def test_original_contract_without_content_type(served: ServeProcess) -> None:
    # The old Prow plugin: Go http.NewRequest, no Content-Type, {"text": note}.
    request = httpx.Request("POST", served.url + PREDICT, content=b'{"text": "%s"}' % BUG.encode())
    assert "content-type" not in request.headers
    with httpx.Client() as client:
        response = client.send(request)
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["result"] and isinstance(body["result"], float)
    assert 0.5 < body["result"] <= 1
    low = post(
        served,
        PREDICT,
        b'{"text": "%s"}' % FEATURE.encode(),
        **{"Content-Type": "application/json"},
    )
    assert low.status_code == 200 and low.json()["result"] < body["result"]
    # Host is ignored (Istio host-based routing sends the service's host).
    routed = post(
        served, PREDICT, b'{"text": "x y"}', Host="kubernetes-analysis.kfserving.example.com"
    )
    assert routed.status_code == 200
    # Any other content type is parsed as JSON too.
    plain = post(served, PREDICT, b'{"text": "x y"}', **{"Content-Type": "text/plain"})
    assert plain.status_code == 200 and "result" in plain.json()


def test_v1_instances(served: ServeProcess) -> None:
    body = b'{"instances": ["%s", {"text": "%s", "author": "dev1"}]}' % (
        BUG.encode(),
        FEATURE.encode(),
    )
    response = post(served, PREDICT, body)
    assert response.status_code == 200
    first, second = response.json()["predictions"]
    assert "kind/bug" in first["labels"] and "kind/bug" not in second["labels"]
    assert set(first["scores"]) == {
        "kind/bug",
        "sig/apps",
        "sig/network",
        "sig/node",
        "sig/storage",
    }
    assert all(0 <= s <= 1 for s in first["scores"].values())
    assert post(served, PREDICT, b'{"instances": []}').json() == {"predictions": []}
    assert post(served, PREDICT, b'{"inputs": ["fix a crash"]}').status_code == 200


def test_v2_infer(served: ServeProcess) -> None:
    body = {
        "id": "42",
        "inputs": [
            {"name": "text", "shape": [2], "datatype": "BYTES", "data": [BUG, FEATURE]},
            {"name": "author", "shape": [2], "datatype": "BYTES", "data": ["dev1", ""]},
        ],
    }
    response = httpx.post(served.url + INFER, json=body)
    assert response.status_code == 200, response.text
    out = response.json()
    assert out["id"] == "42" and out["model_name"] == NAME and out["model_version"]
    outputs = {o["name"]: o for o in out["outputs"]}
    scores = outputs["scores"]
    assert scores["datatype"] == "FP32" and scores["shape"] == [2, 5] and len(scores["data"]) == 10
    labels = scores["parameters"]["labels"].split(",")
    assert labels[0] == "kind/bug" and len(labels) == 5
    assert outputs["labels"]["datatype"] == "BYTES" and outputs["labels"]["shape"] == [2]
    assert "kind/bug" in outputs["labels"]["data"][0].split(",")
    assert outputs["probability"]["shape"] == [2]
    assert outputs["probability"]["data"][0] == pytest.approx(scores["data"][0])
    # No id: one is generated; no Content-Type works; requested outputs only.
    request = httpx.Request(
        "POST",
        served.url + INFER,
        content=b'{"inputs": [{"name": "text", "shape": [1], "datatype": "BYTES", '
        b'"data": ["fix"]}], "outputs": [{"name": "probability"}]}',
    )
    with httpx.Client() as client:
        bare = client.send(request)
    assert bare.status_code == 200, bare.text
    assert bare.json()["id"] and [o["name"] for o in bare.json()["outputs"]] == ["probability"]


@pytest.mark.parametrize(
    ("path", "body", "status", "message"),
    [
        (PREDICT, b'{"text": ', 400, "Unrecognized request format"),
        (PREDICT, b'{"text": "\xff\xfe"}', 400, "Unrecognized request format"),
        (PREDICT, b'{"instances": "Fix a bug"}', 400, 'Expected "instances" to be a list'),
        (PREDICT, b'{"instances": [5]}', 400, "instances[0]"),
        (PREDICT, b'{"instances": [{"author": "x"}]}', 400, "missing text"),
        (PREDICT, b'{"instances": [{"text": "x", "author": 3}]}', 400, "author must be"),
        (PREDICT, b'{"text": 5}', 400, "must be a string"),
        (PREDICT, b'{"text": null}', 400, "must be a string"),
        (PREDICT, b'{"text": "   "}', 400, "empty"),
        (PREDICT, b'{"text": ""}', 400, "empty"),
        (PREDICT, b'{"note": "x"}', 400, "expected"),
        (PREDICT, b'["x"]', 400, "expected a JSON object"),
        (PREDICT, b"", 400, "Unrecognized request format"),
        ("/v1/models/nope:predict", b'{"text": "x"}', 404, "nope does not exist"),
        (f"/v1/models/{NAME}:explain", b'{"text": "x"}', 501, ""),
        ("/v2/models/nope/infer", b'{"inputs": []}', 404, "nope does not exist"),
        (INFER, b'{"inputs": ', 400, "invalid request"),
        (INFER, b'{"foo": 1}', 400, "invalid request"),
        (INFER, b'{"inputs": []}', 400, "missing the BYTES input named text"),
        (
            INFER,
            b'{"inputs": [{"name": "text", "shape": [2], "datatype": "BYTES", "data": ["a"]}]}',
            400,
            "shape [2] holds 2 elements, data has 1",
        ),
        (
            INFER,
            b'{"inputs": [{"name": "text", "shape": [1], "datatype": "FP32", "data": [1.0]}]}',
            400,
            "datatype must be BYTES",
        ),
        (
            INFER,
            b'{"inputs": [{"name": "text", "shape": [1], "datatype": "BYTES", "data": [""]}]}',
            400,
            "empty",
        ),
        (
            INFER,
            b'{"inputs": [{"name": "txt", "shape": [1], "datatype": "BYTES", "data": ["a"]}]}',
            400,
            "unknown inputs",
        ),
        (
            INFER,
            b'{"inputs": [{"name": "text", "shape": [1], "datatype": "BYTES", "data": ["a"]}], '
            b'"outputs": [{"name": "nope"}]}',
            400,
            "unknown outputs",
        ),
    ],
)
def test_bad_requests(
    served: ServeProcess, path: str, body: bytes, status: int, message: str
) -> None:
    response = post(served, path, body)
    assert response.status_code == status, response.text
    error = response.json()
    assert list(error) == ["error"] and message in error["error"]


def test_http_errors_are_json(served: ServeProcess) -> None:
    missing = httpx.get(served.url + "/nope")
    assert missing.status_code == 404 and missing.json() == {"error": "Not Found"}
    wrong = httpx.delete(served.url + PREDICT)
    assert wrong.status_code == 405 and wrong.json() == {"error": "Method Not Allowed"}
    # (GET on :predict matches the SDK's GET /v1/models/{name} route: 404, not 405.)
    assert httpx.get(served.url + PREDICT).status_code == 404
    unknown = httpx.get(served.url + "/v1/models/nope")
    assert unknown.status_code == 404 and "error" in unknown.json()
    assert httpx.get(served.url + "/v2/models/nope/ready").status_code == 404


def test_body_cap(served: ServeProcess) -> None:
    big = b'{"text": "' + b"a" * 70_000 + b'"}'
    response = post(served, PREDICT, big)
    assert response.status_code == 413 and "over 65536 bytes" in response.json()["error"]

    def chunks():  # no Content-Length: the cap applies while reading
        for _ in range(10):
            yield b"a" * 10_000

    streamed = httpx.post(served.url + PREDICT, content=chunks())
    assert streamed.status_code == 413
    assert post(served, PREDICT, b'{"text": "' + b"a " * 1000 + b'"}').status_code == 200


def test_metrics(served: ServeProcess) -> None:
    post(served, PREDICT, b'{"text": "fix"}')
    post(served, PREDICT, b'{"text": 1}')
    text = httpx.get(served.url + "/metrics").text
    assert 'kubesift_serve_requests_total{code="200",endpoint="v1_predict"}' in text
    assert 'kubesift_serve_requests_total{code="400",endpoint="v1_predict"}' in text
    assert 'kubesift_serve_request_duration_seconds_bucket{endpoint="v1_predict"' in text
    assert f'kubesift_serve_model_info{{model="sift-linear",served_name="{NAME}"' in text
    assert "kubesift_serve_batch_items_bucket" in text
    assert "request_predict_seconds" in text  # the SDK's own per-stage histograms
