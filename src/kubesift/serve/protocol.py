"""Pure request parsing and response shaping for the model server (no HTTP, no kserve).

V1 (TF-Serving style) accepts ``{"instances": [text | {"text", "author", ...}, ...]}`` and
the original kubernetes-analysis contract ``{"text": "..."}``; V2 (Open Inference
Protocol) accepts a ``BYTES`` input named ``text`` and an optional ``author``. Every
problem raises :class:`RequestError`, which the server answers with 400 ``{"error"}``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from kubesift import defaults

#: The item fields a model reads: the one list in kubesift.defaults.
ITEM_FIELDS = defaults.INPUT_FIELDS
#: The label the original contract's ``{"result": p}`` reports when a model has it.
PRIMARY_LABEL = "kind/bug"
#: Most texts in one request; larger batches should be split by the client.
MAX_INSTANCES = 1024


class RequestError(ValueError):
    """The request cannot be served as given (answered 400)."""


@dataclass(frozen=True)
class V1Request:
    """Items to predict and which response shape the client speaks."""

    items: list[dict[str, Any]]
    legacy: bool  # the original {"text"} -> {"result"} contract


def decode_json(body: Any) -> Any:
    """A JSON body as Python data (bytes must be UTF-8 JSON; decoded data passes)."""
    if not isinstance(body, bytes | bytearray | memoryview | str):
        return body
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RequestError(f"Unrecognized request format: {exc}") from exc


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise RequestError(f"{where}: text must be a string, not {_type(value)}")
    if not value.strip():
        raise RequestError(f"{where}: text is empty")
    return value


def _type(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _item(value: Any, where: str) -> dict[str, Any]:
    if isinstance(value, str):
        return {"text": _text(value, where)}
    if not isinstance(value, Mapping):
        raise RequestError(f"{where}: expected a string or an object with text, not {_type(value)}")
    if "text" not in value:
        raise RequestError(f"{where}: missing text")
    item: dict[str, Any] = {"text": _text(value["text"], where)}
    for key in ITEM_FIELDS[1:]:
        field = value.get(key)
        if field is not None and not isinstance(field, str):
            raise RequestError(f"{where}: {key} must be a string or null, not {_type(field)}")
        item[key] = field
    return item


def parse_v1(body: Any, max_instances: int = MAX_INSTANCES) -> V1Request:
    """``{"instances": [...]}`` (or ``inputs``) or the original ``{"text": ...}``."""
    payload = decode_json(body)
    if not isinstance(payload, Mapping):
        raise RequestError(
            'expected a JSON object {"instances": [...]} or {"text": ...}, '
            f"not {_type(payload)}"
        )
    key = "instances" if "instances" in payload else "inputs" if "inputs" in payload else None
    if key is not None:
        instances = payload[key]
        if not isinstance(instances, list):
            raise RequestError(f'Expected "{key}" to be a list')
        if len(instances) > max_instances:
            raise RequestError(f"at most {max_instances} {key} per request, got {len(instances)}")
        return V1Request([_item(v, f"{key}[{i}]") for i, v in enumerate(instances)], False)
    if "text" in payload:
        item = _item(payload, "text")
        return V1Request([item], True)
    raise RequestError('expected {"instances": [...]} or {"text": "..."}')


def primary_label(labels: Sequence[str]) -> str:
    """The label whose probability the original contract returns."""
    return PRIMARY_LABEL if PRIMARY_LABEL in labels else labels[0]


def v1_response(
    request: V1Request, labels: Sequence[str], predictions: Sequence[Any]
) -> dict[str, Any]:
    """``{"result": p}`` for the original contract, else ``{"predictions": [...]}``."""
    if request.legacy:
        return {"result": float(predictions[0].scores[primary_label(labels)])}
    return {"predictions": [{"labels": p.labels, "scores": p.scores} for p in predictions]}


@dataclass(frozen=True)
class Tensor:
    """One V2 input as received."""

    name: str
    datatype: str
    shape: Sequence[Any]
    data: Any


def _strings(tensor: Tensor) -> list[str]:
    if tensor.datatype != "BYTES":
        raise RequestError(f"input {tensor.name}: datatype must be BYTES, not {tensor.datatype}")
    shape = list(tensor.shape)
    if not shape or not all(isinstance(d, int) and not isinstance(d, bool) for d in shape):
        raise RequestError(f"input {tensor.name}: shape must be a list of integers")
    if any(d < 0 for d in shape):
        raise RequestError(f"input {tensor.name}: shape must not have negative dimensions")
    data = tensor.data
    if hasattr(data, "tolist"):
        data = data.tolist()
    data = list(_flatten(data)) if isinstance(data, list) else data
    if not isinstance(data, list):
        raise RequestError(f"input {tensor.name}: data must be a list")
    if len(data) != math.prod(shape):
        raise RequestError(
            f"input {tensor.name}: shape {shape} holds {math.prod(shape)} elements, "
            f"data has {len(data)}"
        )
    out = []
    for i, value in enumerate(data):
        if isinstance(value, bytes):
            try:
                value = value.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise RequestError(f"input {tensor.name}[{i}]: not UTF-8") from exc
        if not isinstance(value, str):
            raise RequestError(f"input {tensor.name}[{i}]: must be a string, not {_type(value)}")
        out.append(value)
    return out


def _flatten(data: list[Any]) -> Any:
    for value in data:
        if isinstance(value, list):
            yield from _flatten(value)
        else:
            yield value


def parse_v2(inputs: Sequence[Tensor], max_instances: int = MAX_INSTANCES) -> list[dict[str, Any]]:
    """Items from V2 inputs: ``text`` (BYTES, required) and ``author`` (BYTES, optional)."""
    by_name = {t.name: t for t in inputs}
    unknown = sorted(set(by_name) - {"text", "author"})
    if unknown:
        raise RequestError(f"unknown inputs {unknown}; expected text and optionally author")
    if "text" not in by_name:
        raise RequestError("missing the BYTES input named text")
    texts = _strings(by_name["text"])
    if len(texts) > max_instances:
        raise RequestError(f"at most {max_instances} texts per request, got {len(texts)}")
    items: list[dict[str, Any]] = [{"text": _text(t, f"text[{i}]")} for i, t in enumerate(texts)]
    if "author" in by_name:
        authors = _strings(by_name["author"])
        if len(authors) != len(texts):
            raise RequestError(f"author has {len(authors)} elements, text has {len(texts)}")
        for item, author in zip(items, authors, strict=True):
            item["author"] = author or None
    return items


def v2_outputs(labels: Sequence[str], predictions: Sequence[Any]) -> list[dict[str, Any]]:
    """``scores`` FP32 [N, L] (columns in ``parameters.labels`` order), ``labels`` BYTES [N]
    (the labels above threshold, comma-separated) and ``probability`` FP32 [N] (the
    primary label's score, as in the original contract)."""
    n, primary = len(predictions), primary_label(labels)
    return [
        {
            "name": "scores",
            "datatype": "FP32",
            "shape": [n, len(labels)],
            "data": [p.scores[label] for p in predictions for label in labels],
            "parameters": {"labels": ",".join(labels)},
        },
        {
            "name": "labels",
            "datatype": "BYTES",
            "shape": [n],
            "data": [",".join(p.labels) for p in predictions],
        },
        {
            "name": "probability",
            "datatype": "FP32",
            "shape": [n],
            "data": [p.scores[primary] for p in predictions],
            "parameters": {"label": primary},
        },
    ]


OUTPUT_NAMES = ("scores", "labels", "probability")


def v2_metadata(labels: Sequence[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Model metadata: the input and output tensors."""
    inputs = [
        {"name": "text", "datatype": "BYTES", "shape": [-1]},
        {"name": "author", "datatype": "BYTES", "shape": [-1]},
    ]
    outputs = [
        {"name": "scores", "datatype": "FP32", "shape": [-1, len(labels)]},
        {"name": "labels", "datatype": "BYTES", "shape": [-1]},
        {"name": "probability", "datatype": "FP32", "shape": [-1]},
    ]
    return inputs, outputs
