"""OTLP/HTTP logs (``POST /v1/logs``): what an OpenTelemetry Collector's ``otlphttp``
exporter sends, as kubesift's log signals. Pure: bytes or a decoded payload in, signals
out; the receiver (:mod:`kubesift.alerts.app`) adds auth, the body cap and the store.

Both encodings of ``ExportLogsServiceRequest`` are read (the OTLP specification,
"OTLP/HTTP"): binary protobuf (``application/x-protobuf``, decoded with the
``opentelemetry-proto`` package) and OTLP/JSON (``application/json``: lowerCamelCase
field names, 64-bit integers as decimal strings, enums as numbers), each optionally
gzip-compressed (``Content-Encoding: gzip``, the exporter's default). Protobuf is turned
into the same JSON form first, so one walk reads both.

Mapping to a signal: the body (a string, or a structured body's ``message``/``msg``/``log``)
is the line; the time is ``timeUnixNano``, else ``observedTimeUnixNano``; the level comes
from ``severityNumber`` (17–20 error, 21–24 fatal), else ``severityText``, else the line
itself; namespace, pod, container, node and cluster come from the semantic-convention
attributes (``k8s.namespace.name``, ``k8s.pod.name``, ``k8s.container.name``,
``k8s.node.name``, ``k8s.cluster.name``) of the record or, under them, its resource.
"""

from __future__ import annotations

import zlib
from typing import Any

import orjson

from kubesift.alerts import signals
from kubesift.errors import AlertInputError
from kubesift.timeutil import from_epoch

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
#: Level names for OTLP's severity numbers (1–4 trace … 21–24 fatal).
_LEVELS = ((21, "fatal"), (17, "error"), (13, "warn"), (9, "info"), (5, "debug"), (1, "trace"))
_WHERE = {
    "namespace": "k8s.namespace.name",
    "pod": "k8s.pod.name",
    "container": "k8s.container.name",
    "node": "k8s.node.name",
    "cluster": "k8s.cluster.name",
}
#: 9999-12-31 in nanoseconds: a later time is a unit mistake, not a time.
_MAX_NANOS = 253_402_300_799 * 10**9


class UnsupportedMediaType(AlertInputError):
    """A content type or encoding OTLP/HTTP does not define: 415."""


def decode(body: bytes, content_type: str, content_encoding: str, limit: int) -> Any:
    """The request as OTLP/JSON's form (a dict), from either encoding; ``limit`` caps the
    decompressed size as the receiver caps the body."""
    encoding = content_encoding.strip().lower()
    if encoding == "gzip":
        body = gunzip(body, limit)
    elif encoding not in ("", "identity"):
        raise UnsupportedMediaType(f"Content-Encoding {encoding!r}: only gzip is read")
    kind = content_type.split(";")[0].strip().lower()
    if kind in (PROTOBUF, "application/protobuf"):
        return _from_protobuf(body)
    if kind == JSON:
        return signals.load_json(body, "an OTLP/JSON ExportLogsServiceRequest")
    raise UnsupportedMediaType(
        f"Content-Type {kind or '(none)'!r}: OTLP/HTTP logs are {PROTOBUF} or {JSON}"
    )


class Oversized(AlertInputError):
    """A body that decompresses past the cap: 413."""


def gunzip(body: bytes, limit: int) -> bytes:
    """``body`` decompressed, refused past ``limit`` bytes (a gzip bomb costs ``limit``)."""
    inflater = zlib.decompressobj(wbits=31)
    try:
        out = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise AlertInputError(f"the body is not gzip: {exc}") from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise Oversized(f"the body decompresses to more than {limit:,} bytes")
    if not inflater.eof:
        raise AlertInputError("the gzip body is cut short")
    return out


def _from_protobuf(body: bytes) -> Any:
    from google.protobuf import json_format
    from google.protobuf.message import DecodeError
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2

    try:
        request = logs_service_pb2.ExportLogsServiceRequest.FromString(body)
    except DecodeError as exc:
        raise AlertInputError(f"the body is not an ExportLogsServiceRequest: {exc}") from None
    return json_format.MessageToDict(request, use_integers_for_enums=True)


def response(content_type: str) -> tuple[bytes, str]:
    """An empty ExportLogsServiceResponse (full success) in the request's encoding."""
    if content_type.split(";")[0].strip().lower() == JSON:
        return b"{}", JSON
    return b"", PROTOBUF  # every field at its default: zero bytes


def from_otlp(payload: Any, min_level: str = "error") -> list[signals.Signal]:
    """The log lines at ``min_level`` or above of an ExportLogsServiceRequest (OTLP/JSON
    form) as signals;
    a malformed part is named (``resourceLogs[0].scopeLogs[1].logRecords[4]``) and
    nothing of the request is kept."""
    request = _obj(payload, "the request")
    found: list[signals.Signal] = []
    for r, resource_logs in enumerate(_list(request.get("resourceLogs"), "resourceLogs")):
        where = f"resourceLogs[{r}]"
        rl = _obj(resource_logs, where)
        resource = _obj(rl.get("resource") or {}, f"{where}.resource")
        shared = attributes(resource.get("attributes"), f"{where}.resource.attributes")
        for s, scope_logs in enumerate(_list(rl.get("scopeLogs"), f"{where}.scopeLogs")):
            at_scope = f"{where}.scopeLogs[{s}]"
            records = _obj(scope_logs, at_scope).get("logRecords")
            for n, record in enumerate(_list(records, f"{at_scope}.logRecords")):
                here = f"{at_scope}.logRecords[{n}]"
                signal = _record(_obj(record, here), shared, here, min_level)
                if signal is not None:
                    found.append(signal)
    return found


def _record(
    record: dict[str, Any], shared: dict[str, str], where: str, min_level: str
) -> signals.Signal | None:
    attrs = {**shared, **attributes(record.get("attributes"), f"{where}.attributes")}
    at = _time(record.get("timeUnixNano"), f"{where}.timeUnixNano") or _time(
        record.get("observedTimeUnixNano"), f"{where}.observedTimeUnixNano"
    )
    if not at:
        raise AlertInputError(f"{where} has neither timeUnixNano nor observedTimeUnixNano")
    line = body_text(record.get("body"), f"{where}.body")
    place = {field: attrs.get(key, "") for field, key in _WHERE.items()}
    return signals.log_signal(
        line.rstrip("\n"), at, level=level(record, where), min_level=min_level, **place
    )


def level(record: dict[str, Any], where: str) -> str:
    """The record's level name: from its severity number, else its severity text."""
    number = record.get("severityNumber", 0)
    if isinstance(number, str) and number.startswith("SEVERITY_NUMBER_"):
        number = _NAMED.get(number, 0)  # a JSON sender may write the enum's name
    if not isinstance(number, int) or isinstance(number, bool) or not 0 <= number <= 24:
        raise AlertInputError(f"{where}.severityNumber is not 0–24: {number!r}")
    for floor, name in _LEVELS:
        if number >= floor:
            return name
    text = record.get("severityText") or ""
    if not isinstance(text, str):
        raise AlertInputError(f"{where}.severityText is not a string")
    return text


_NAMED = {
    f"SEVERITY_NUMBER_{name.upper()}{suffix}": floor + i
    for floor, name in _LEVELS
    for i, suffix in enumerate(("", "2", "3", "4"))
}


def _time(value: Any, where: str) -> str:
    """A ``*UnixNano`` field (a decimal string in JSON, or a number) as ISO 8601; '' when
    absent or zero (OTLP's "unknown")."""
    if value in (None, "", 0, "0"):
        return ""
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= _MAX_NANOS:
        raise AlertInputError(f"{where} is not nanoseconds since 1970: {value!r}")
    return from_epoch(value / 1e9)


def attributes(value: Any, where: str) -> dict[str, str]:
    """``[{key, value: AnyValue}]`` as strings by key."""
    return {k: _text(v) for k, v in _pairs(value, where, 0).items()}


def body_text(value: Any, where: str) -> str:
    """A record's body as its line: a string as it is; a structured body's message field,
    else the whole of it as compact JSON."""
    if value is None:
        return ""
    found = _value(value, where, 0)
    if isinstance(found, dict):
        for key in ("message", "msg", "log"):
            if isinstance(found.get(key), str) and found[key]:
                return str(found[key])
    return _text(found)


#: AnyValues nest (arrays of maps of arrays...): deeper than this is not a log record.
MAX_DEPTH = 16


def _pairs(value: Any, where: str, depth: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for n, item in enumerate(_list(value, where)):
        kv = _obj(item, f"{where}[{n}]")
        key = kv.get("key")
        if not isinstance(key, str):
            raise AlertInputError(f"{where}[{n}] has no 'key' string")
        out[key] = _value(kv.get("value"), f"{where}[{n}].value", depth + 1)
    return out


def _value(value: Any, where: str, depth: int) -> Any:
    """An AnyValue as plain data (strings, numbers, lists, dicts); None for OTLP's null.
    Nested values are kept as data and written out once, never escaped level by level."""
    if depth > MAX_DEPTH:
        raise AlertInputError(f"{where} nests deeper than {MAX_DEPTH} levels")
    if value is None:
        return None
    v = _obj(value, where)
    for key in ("stringValue", "intValue", "doubleValue", "bytesValue", "boolValue"):
        if key in v:
            return v[key] if key in ("stringValue", "boolValue") else str(v[key])
    if "arrayValue" in v:
        items = _list(_obj(v["arrayValue"], where).get("values"), f"{where}.arrayValue.values")
        return [_value(x, f"{where}.arrayValue[{i}]", depth + 1) for i, x in enumerate(items)]
    if "kvlistValue" in v:
        fields = _obj(v["kvlistValue"], where).get("values")
        return _pairs(fields, f"{where}.kvlistValue.values", depth + 1)
    return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def _obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise AlertInputError(f"{where} is not an object")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise AlertInputError(f"{where} is not a list")
    return value
