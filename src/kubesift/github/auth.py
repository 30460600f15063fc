"""Credentials: a personal token, a token file, or a GitHub App installation.

Tokens are held in memory only; nothing here logs or stores them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import jwt

from kubesift.errors import AuthError, UserError


class Auth(Protocol):
    refreshable: bool

    def headers(self, fetch: Callable[..., Any]) -> dict[str, str]: ...

    def invalidate(self) -> None: ...


@dataclass(repr=False)
class TokenAuth:
    token: str
    refreshable = False

    def headers(self, fetch: Callable[..., Any]) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    def invalidate(self) -> None:
        """A static token cannot be refreshed."""

    def __repr__(self) -> str:
        return "TokenAuth(token=***)"


def app_jwt(app_id: str, private_key: str, now: float | None = None) -> str:
    """A GitHub App JWT: ``iat`` 60 s in the past for clock drift, 9 minutes of validity."""
    now = time.time() if now is None else now
    payload = {"iat": int(now) - 60, "exp": int(now) + 540, "iss": str(app_id)}
    try:
        return jwt.encode(payload, private_key, algorithm="RS256")
    except (ValueError, TypeError) as exc:
        raise UserError(f"the GitHub App private key is not a valid RSA PEM key: {exc}") from exc


@dataclass(repr=False)
class AppAuth:
    """Installation-token auth for a GitHub App, cached until shortly before expiry.

    ``fetch(method, path, headers=...)`` is the client's raw request function; the
    installation is found from ``repo`` when ``installation_id`` is not given.
    """

    refreshable = True
    app_id: str
    private_key: str
    installation_id: int | None = None
    repo: str | None = None
    _token: str | None = field(default=None, init=False)
    _expires: float = field(default=0.0, init=False)

    def headers(self, fetch: Callable[..., Any]) -> dict[str, str]:
        if self._token is None or time.time() > self._expires - 120:
            self._refresh(fetch)
        return {"Authorization": f"token {self._token}"}

    def invalidate(self) -> None:
        self._token = None

    def _refresh(self, fetch: Callable[..., Any]) -> None:
        bearer = {"Authorization": f"Bearer {app_jwt(self.app_id, self.private_key)}"}
        if self.installation_id is None:
            if not self.repo:
                raise UserError("a GitHub App needs --installation-id or a repository")
            found = _json_of(fetch("GET", f"/repos/{self.repo}/installation", headers=bearer))
            self.installation_id = int(found["id"])
        answer = _json_of(
            fetch(
                "POST", f"/app/installations/{self.installation_id}/access_tokens", headers=bearer
            )
        )
        self._token = str(answer["token"])
        self._expires = _expiry(answer.get("expires_at"))

    def __repr__(self) -> str:
        return f"AppAuth(app_id={self.app_id!r}, installation_id={self.installation_id!r})"


def _json_of(response: Any) -> Mapping[str, Any]:
    if response.status_code in (401, 403, 404):
        raise AuthError(
            f"GitHub App authentication failed ({response.status_code}): {_message(response)}"
        )
    data = response.json()
    if not isinstance(data, dict):
        raise AuthError("GitHub App authentication returned an unexpected answer")
    return data


def _message(response: Any) -> str:
    try:
        return str(response.json().get("message", ""))
    except ValueError:
        return response.text[:200]


def _expiry(value: str | None) -> float:
    from kubesift.timeutil import parse_iso

    return parse_iso(value).timestamp() if value else time.time() + 3000


def read_token_file(path: Path) -> str:
    """A token from a file (Prow's ``--github-token-path`` convention): first non-empty line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot read token file {path}: {exc.strerror}") from exc
    token = text.strip().splitlines()[0].strip() if text.strip() else ""
    if not token:
        raise UserError(f"token file {path} is empty")
    return token


def auth_from(
    env: Mapping[str, str],
    *,
    token_file: Path | None = None,
    app_id: str | None = None,
    app_key_file: Path | None = None,
    installation_id: int | None = None,
    repo: str | None = None,
) -> Auth | None:
    """Choose credentials: App (id + key) > token file > ``GITHUB_TOKEN`` > anonymous."""
    app_id = app_id or env.get("KUBESIFT_GITHUB_APP_ID")
    key_path = app_key_file or (
        Path(env["KUBESIFT_GITHUB_APP_KEY_FILE"])
        if env.get("KUBESIFT_GITHUB_APP_KEY_FILE")
        else None
    )
    if app_id and key_path:
        try:
            key = key_path.read_text(encoding="utf-8")
        except OSError as exc:
            raise UserError(f"cannot read GitHub App key {key_path}: {exc.strerror}") from exc
        return AppAuth(app_id, key, installation_id=installation_id, repo=repo)
    if app_id or key_path:
        raise UserError("a GitHub App needs both an app id and a private key file")
    if token_file is not None:
        return TokenAuth(read_token_file(token_file))
    token = env.get("GITHUB_TOKEN") or env.get("KUBESIFT_GITHUB_TOKEN")
    return TokenAuth(token.strip()) if token and token.strip() else None
