"""The TOML files of CI rules (symptoms, renames, allowances): a list of ``[[KEY]]`` tables
and nothing else. One reader, one set of errors."""

from __future__ import annotations

import tomllib
from typing import Any

from kubesift.errors import UserError


def tables(text: str, key: str, name: str) -> list[Any]:
    """The ``[[key]]`` tables of the TOML ``text`` (from the file called ``name``)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{name}: not TOML ({exc})") from None
    extra = sorted(set(doc) - {key})
    if extra:
        raise UserError(f"{name}: unknown table {extra[0]!r}; the file holds [[{key}]] tables")
    found = doc.get(key, [])
    if not isinstance(found, list):
        raise UserError(f"{name}: {key} must be [[{key}]] tables")
    return found
