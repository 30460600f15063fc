"""Webhook signatures: HMAC-SHA256 / SHA1 over the raw body, Prow's secret file formats."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import yaml

from kubesift.errors import UserError


@dataclass(frozen=True)
class Secrets:
    """Tokens by scope: ``"*"``, an org, or ``org/repo`` (Prow's YAML format); a legacy
    single-token file is stored under ``"*"``."""

    scopes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def tokens_for(self, full_name: str | None, org: str | None = None) -> tuple[str, ...]:
        """The tokens of the most specific scope that has any (repo > org > ``*``)."""
        owner = org or (full_name.split("/")[0] if full_name else None)
        for key in (full_name, owner, "*"):
            if key and self.scopes.get(key):
                return self.scopes[key]
        return ()


def parse_secrets(text: str) -> Secrets:
    """A secret file's contents: one token, or ``{scope: [{value, created_at}, ...]}``."""
    text = text.strip()
    if not text:
        raise UserError("the webhook secret is empty")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        data = None
    if not isinstance(data, dict):
        return Secrets({"*": (text,)})
    scopes: dict[str, tuple[str, ...]] = {}
    for scope, entries in data.items():
        if not isinstance(entries, list):
            raise UserError(f"secret scope {scope!r} must be a list of {{value: ...}}")
        scopes[str(scope)] = tuple(_value(e, scope) for e in entries)
    return Secrets(scopes)


def _value(entry: object, scope: object) -> str:
    if isinstance(entry, dict) and isinstance(entry.get("value"), str) and entry["value"]:
        return str(entry["value"])
    raise UserError(f"secret scope {scope!r}: every entry needs a non-empty value")


def sign(body: bytes, secret: str, algorithm: str = "sha256") -> str:
    """The header value GitHub sends: ``sha256=<hex>`` (or ``sha1=<hex>``)."""
    digest = hmac.new(secret.encode(), body, getattr(hashlib, algorithm)).hexdigest()
    return f"{algorithm}={digest}"


def signature_of(headers: Mapping[str, str]) -> str | None:
    """The signature header to check: ``X-Hub-Signature-256`` preferred, else SHA1."""
    return headers.get("x-hub-signature-256") or headers.get("x-hub-signature")


def verify(body: bytes, signature: str, tokens: Sequence[str]) -> bool:
    """Whether ``signature`` is any token's HMAC of ``body`` (constant-time compares)."""
    algorithm, sep, given = signature.partition("=")
    if not sep or algorithm not in ("sha256", "sha1") or not given:
        return False
    try:
        expected_bytes = bytes.fromhex(given)
    except ValueError:
        return False
    ok = False
    for token in tokens:
        mac = hmac.new(token.encode(), body, getattr(hashlib, algorithm)).digest()
        ok |= hmac.compare_digest(mac, expected_bytes)
    return ok
