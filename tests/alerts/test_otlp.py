"""OTLP/HTTP logs: what a Collector's otlphttp exporter posts to ``/v1/logs``, in protobuf
(gzip, its default) and in OTLP/JSON, stored as signals by a real receiver process with
the receivers' auth, body cap and idempotency."""

from __future__ import annotations

import copy
import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2

from kubesift.alerts import otlp
from kubesift.errors import AlertInputError
from tests.alerts.helpers import TOKEN, PageSink, Receiver, receiving
from tests.conftest import run_cli

POD = "api-7d9f8c6b5-x2k9q"


def _attr(key: str, value: str) -> dict[str, Any]:
    return {"key": key, "value": {"stringValue": value}}


def request() -> dict[str, Any]:
    """An ExportLogsServiceRequest in OTLP/JSON as the Collector writes it: a filelog
    receiver's container lines, the k8sattributes processor's resource attributes."""
    resource = {"attributes": [
        _attr("k8s.namespace.name", "shop"), _attr("k8s.pod.name", POD),
        _attr("k8s.container.name", "api"), _attr("k8s.node.name", "node-3"),
        _attr("k8s.cluster.name", "prod-eu"), _attr("service.name", "api"),
    ]}  # fmt: skip
    records = [
        # A leveled error: severity 17 (ERROR), nanoseconds as a decimal string.
        {"timeUnixNano": "1796722200000000000", "observedTimeUnixNano": "1796722200100000000",
         "severityNumber": 17, "severityText": "ERROR",
         "body": {"stringValue": "refused: 10.0.0.5:5432 connection reset\n"},
         "attributes": [_attr("log.iostream", "stderr")],
         "traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174"},
        # INFO: context, not a signal.
        {"timeUnixNano": "1796722201000000000", "severityNumber": 9,
         "body": {"stringValue": "GET /healthz 200"}},
        # No severity: the line's own klog prefix says error; only the observed time.
        {"observedTimeUnixNano": "1796722202000000000",
         "body": {"stringValue": "E1207 10:30:02.000000 1 reflector.go:138] watch failed"}},
        # A structured body: its message is the line; the record names another container.
        {"timeUnixNano": "1796722203000000000", "severityNumber": 21, "severityText": "FATAL",
         "body": {"kvlistValue": {"values": [
             _attr("msg", "out of memory"), {"key": "bytes", "value": {"intValue": "1024"}}]}},
         "attributes": [_attr("k8s.container.name", "sidecar")]},
    ]  # fmt: skip
    return {
        "resourceLogs": [
            {"resource": resource, "scopeLogs": [{"scope": {"name": "filelog"},
                                                  "logRecords": records}]}
        ]
    }  # fmt: skip


def as_protobuf(payload: dict[str, Any]) -> bytes:
    """The same request serialised with the protocol's own generated message, as the
    exporter sends it (trace ids are bytes there, so they are left out of the JSON)."""
    clean = copy.deepcopy(payload)
    for rl in clean["resourceLogs"]:
        for sl in rl["scopeLogs"]:
            for rec in sl["logRecords"]:
                rec.pop("traceId", None)
                rec.pop("spanId", None)
    message = json_format.ParseDict(clean, logs_service_pb2.ExportLogsServiceRequest())
    return bytes(message.SerializeToString())


def test_errors_are_signals_with_their_place_and_time() -> None:
    found = otlp.from_otlp(request())
    assert [(s.text, s.at, s.labels["container"]) for s in found] == [
        ("refused: 10.0.0.5:5432 connection reset", "2026-12-08T09:30:00Z", "api"),
        ("E1207 10:30:02.000000 1 reflector.go:138] watch failed", "2026-12-08T09:30:02Z",
         "api"),
        ("out of memory", "2026-12-08T09:30:03Z", "sidecar"),
    ]  # fmt: skip
    first = found[0]
    assert (first.namespace, first.pod, first.node, first.cluster, first.workload) == (
        "shop",
        POD,
        "node-3",
        "prod-eu",
        "api",
    )
    assert first.source == "log" and first.key == f"shop/{POD}/api"


def test_protobuf_and_json_give_the_same_signals() -> None:
    payload = request()
    from_json = otlp.from_otlp(otlp.decode(json.dumps(payload).encode(), otlp.JSON, "", 1 << 20))
    proto = as_protobuf(payload)
    from_proto = otlp.from_otlp(otlp.decode(gzip.compress(proto), otlp.PROTOBUF, "gzip", 1 << 20))
    assert from_proto == from_json and len(from_json) == 3


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r["resourceLogs"][0].update(scopeLogs={}),
         r"resourceLogs\[0\]\.scopeLogs is not a list"),
        (lambda r: _rec(r, 0).update(severityNumber=99),
         r"logRecords\[0\]\.severityNumber is not 0–24"),
        (lambda r: _rec(r, 2).pop("observedTimeUnixNano"), r"logRecords\[2\] has neither"),
        (lambda r: _rec(r, 0).update(timeUnixNano="soon"), r"timeUnixNano is not nanoseconds"),
        (lambda r: _rec(r, 0).update(attributes=[{"value": {}}]), r"attributes\[0\] has no 'key'"),
    ],
)  # fmt: skip
def test_a_malformed_part_is_named(change: Any, message: str) -> None:
    payload = request()
    change(payload)
    with pytest.raises(AlertInputError, match=message):
        otlp.from_otlp(payload)


def _rec(payload: dict[str, Any], n: int) -> dict[str, Any]:
    record: dict[str, Any] = payload["resourceLogs"][0]["scopeLogs"][0]["logRecords"][n]
    return record


def test_decoding_refuses_bombs_other_media_and_garbage() -> None:
    bomb = gzip.compress(b"\0" * (2 << 20))
    with pytest.raises(otlp.Oversized):
        otlp.decode(bomb, otlp.PROTOBUF, "gzip", 1 << 20)
    with pytest.raises(otlp.UnsupportedMediaType, match="only gzip"):
        otlp.decode(b"x", otlp.PROTOBUF, "br", 1 << 20)
    with pytest.raises(otlp.UnsupportedMediaType, match="text/plain"):
        otlp.decode(b"x", "text/plain", "", 1 << 20)
    with pytest.raises(AlertInputError, match="not an ExportLogsServiceRequest"):
        otlp.decode(b"\xff\xff\xff", otlp.PROTOBUF, "", 1 << 20)
    with pytest.raises(AlertInputError, match="cut short"):
        otlp.decode(gzip.compress(b"{}" * 100)[:-12], otlp.JSON, "gzip", 1 << 20)


@pytest.fixture
def receiver(home: Path, sink: PageSink) -> Iterator[Receiver]:
    with receiving(sink.url) as r:
        yield r


def _post(
    r: Receiver, body: bytes, ctype: str, token: str = TOKEN, **headers: str
) -> httpx.Response:
    auth = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(f"{r.url}/v1/logs", content=body, timeout=10,
                      headers={"Content-Type": ctype, **auth, **headers})  # fmt: skip


def _stored() -> list[dict[str, Any]]:
    done = run_cli("alerts", "list", "--json")
    assert done.returncode == 0, done.stderr
    return [s for s in json.loads(done.stdout)["signals"] if s["source"] == "log"]


def test_a_collector_s_posts_are_stored_once_with_auth_and_a_cap(receiver: Receiver) -> None:
    payload = request()
    proto = gzip.compress(as_protobuf(payload))
    assert (
        _post(receiver, proto, otlp.PROTOBUF, token="", **{"Content-Encoding": "gzip"}).status_code
        == 401
    )
    bomb = gzip.compress(b"\0" * (17 << 20))  # past the 16 MiB cap once inflated
    refused = _post(receiver, bomb, otlp.PROTOBUF, **{"Content-Encoding": "gzip"})
    assert refused.status_code == 413 and "decompresses" in refused.json()["error"]
    assert _post(receiver, b"{}", "text/plain").status_code == 415
    assert _post(receiver, b"\xff\xff", otlp.PROTOBUF).status_code == 400
    assert _stored() == []  # nothing of a refused request is kept

    done = _post(receiver, proto, otlp.PROTOBUF, **{"Content-Encoding": "gzip"})
    assert done.status_code == 200 and done.headers["content-type"] == otlp.PROTOBUF
    logs_service_pb2.ExportLogsServiceResponse.FromString(done.content)  # what it parses
    assert sorted(s["text"] for s in _stored()) == [
        "E1207 10:30:02.000000 1 reflector.go:138] watch failed",
        "out of memory",
        "refused: 10.0.0.5:5432 connection reset",
    ]
    # The exporter retries a batch whose answer it lost: the same records in JSON now.
    again = _post(receiver, json.dumps(payload).encode(), otlp.JSON)
    assert again.status_code == 200 and again.json() == {}
    assert len(_stored()) == 3
    deep = request()
    _rec(deep, 0)["body"] = _nested(100)
    nested = _post(receiver, json.dumps(deep).encode(), otlp.JSON)
    assert nested.status_code == 400 and "nests deeper than 16" in nested.json()["error"]
    metrics = httpx.get(f"{receiver.url}/metrics").text  # and it still answers
    assert 'kubesift_alerts_signals_total{source="otlp-log"} 3.0' in metrics
    assert 'kubesift_alerts_duplicates_total{source="otlp-log"} 3.0' in metrics


def test_the_collector_config_in_deploy_posts_where_the_receiver_listens() -> None:
    yaml = pytest.importorskip("yaml")
    path = Path(__file__).resolve().parents[2] / "deploy/components/alerts"
    config = yaml.safe_load(
        yaml.safe_load((path / "otel-collector-configmap.yaml").read_text())["data"]["config.yaml"]
    )
    exporter = config["exporters"]["otlphttp/kubesift"]
    assert exporter["encoding"] == "proto" and exporter["compression"] == "gzip"
    # The path the receiver test above posts to.
    assert exporter["logs_endpoint"].split(".svc", 1)[1] == "/v1/logs"
    pipeline = config["service"]["pipelines"]["logs"]
    for kind in ("receivers", "processors", "exporters"):
        assert set(pipeline[kind]) <= set(config[kind]), kind
    assert "otel-collector-configmap.yaml" in (path / "kustomization.yaml").read_text()


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"stringValue": 'say "hi"'}
    for _ in range(depth):
        value = {"arrayValue": {"values": [value]}}
    return value


def test_nested_values_are_written_once_and_depth_is_bounded() -> None:
    payload = request()
    _rec(payload, 0)["body"] = _nested(3)
    [first, *_] = otlp.from_otlp(payload)
    assert first.text == '[[["say \\"hi\\""]]]'  # escaped once, not once per level
    # Escaping per level doubled the text each time: 100 levels took all memory.
    _rec(payload, 0)["body"] = _nested(100)
    with pytest.raises(AlertInputError, match="nests deeper than 16 levels"):
        otlp.from_otlp(payload)
