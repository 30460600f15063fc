"""Offline checks of Kubernetes objects against the API clients' generated OpenAPI models."""

from __future__ import annotations

from typing import Any

import pytest


def _model_class(name: str) -> Any:
    models = pytest.importorskip("kubernetes.client.models")
    if name.startswith("V1beta1"):
        kserve = pytest.importorskip("kserve")
        if hasattr(kserve, name):
            return getattr(kserve, name)
    if hasattr(models, name):
        return getattr(models, name)
    raise AssertionError(f"no generated model {name}")


def check_schema(value: Any, type_name: str, where: str = "") -> None:
    """Every key is a field of the generated OpenAPI model, recursively, with its type."""
    if type_name.startswith(("list[", "List[")):
        assert isinstance(value, list), where
        for i, v in enumerate(value):
            check_schema(v, type_name[5:-1], f"{where}[{i}]")
    elif type_name.startswith(("dict(", "Dict[")):
        assert isinstance(value, dict), where
        inner = type_name[5:-1].split(", ", 1)[1]
        for k, v in value.items():
            check_schema(v, inner, f"{where}.{k}")
    elif type_name == "str":
        assert isinstance(value, str), f"{where}: expected a string, got {value!r}"
    elif type_name == "int":
        assert isinstance(value, int) and not isinstance(value, bool), f"{where}: {value!r}"
    elif type_name == "bool":
        assert isinstance(value, bool), f"{where}: expected a boolean, got {value!r}"
    elif type_name in ("object", "float", "datetime"):
        pass
    else:
        cls = _model_class(type_name)
        assert isinstance(value, dict), f"{where}: expected an object"
        by_json = {json_key: attr for attr, json_key in cls.attribute_map.items()}
        for key, v in value.items():
            assert key in by_json, f"{where}.{key}: not a field of {type_name}"
            check_schema(v, cls.openapi_types[by_json[key]], f"{where}.{key}")
