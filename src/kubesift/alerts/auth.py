"""Who may post: Alertmanager's ``http_config`` (bearer token or basic auth) and Slack's
request signature. Pure: headers and secrets in, yes or no out. Secrets are compared in
constant time and never echoed."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from kubesift.errors import ConfigError

#: Slack refuses to replay a request older than five minutes; so do we.
SLACK_MAX_AGE = 300


@dataclass(frozen=True)
class Auth:
    token: str = ""  # empty: no authentication (refused unless explicitly allowed)
    username: str = ""  # basic auth: this user (any user when empty) with the token
    slack_secret: str = ""

    def allows(self, headers: Mapping[str, str]) -> bool:
        if not self.token:
            return True
        header = headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer":
            return hmac.compare_digest(value.strip().encode(), self.token.encode())
        if scheme.lower() == "basic":
            try:
                user, _, password = base64.b64decode(value.strip()).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return False
            same = hmac.compare_digest(password.encode(), self.token.encode())
            return same and (not self.username or user == self.username)
        return False


def load_auth(env: Mapping[str, str], token_file: Path | None = None) -> Auth:
    """The token from ``token_file``, ``KUBESIFT_ALERTS_TOKEN_FILE`` or
    ``KUBESIFT_ALERTS_TOKEN``; the Slack signing secret from
    ``KUBESIFT_SLACK_SIGNING_SECRET``."""
    path = token_file or (Path(env["KUBESIFT_ALERTS_TOKEN_FILE"])
                          if env.get("KUBESIFT_ALERTS_TOKEN_FILE") else None)  # fmt: skip
    token = env.get("KUBESIFT_ALERTS_TOKEN", "")
    if path is not None:
        try:
            token = path.read_text().strip()
        except OSError as exc:
            raise ConfigError(f"cannot read the token file {path}: {exc.strerror}") from exc
        if not token:
            raise ConfigError(f"the token file {path} is empty")
    return Auth(
        token=token,
        username=env.get("KUBESIFT_ALERTS_USER", ""),
        slack_secret=env.get("KUBESIFT_SLACK_SIGNING_SECRET", ""),
    )


def slack_signature(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def slack_verified(secret: str, headers: Mapping[str, str], body: bytes, now: float) -> str:
    """'' when the request is Slack's, else why not."""
    if not secret:
        return "no Slack signing secret is configured (KUBESIFT_SLACK_SIGNING_SECRET)"
    stamp = headers.get("x-slack-request-timestamp", "")
    given = headers.get("x-slack-signature", "")
    if not stamp.isdigit() or not given:
        return "missing X-Slack-Signature or X-Slack-Request-Timestamp"
    if abs(now - int(stamp)) > SLACK_MAX_AGE:
        return "the request is more than five minutes old"
    if not hmac.compare_digest(given.encode(), slack_signature(secret, stamp, body).encode()):
        return "the Slack signature does not match"
    return ""
