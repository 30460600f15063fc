"""Credentials of the fake: personal tokens, GitHub Apps (JWT), installation tokens, quotas."""

from __future__ import annotations

import secrets
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt

DOCS_REST = "https://docs.github.com/rest"
JWT_SKEW = 60
JWT_MAX_LIFETIME = 600
INSTALLATION_TOKEN_TTL = 3600
DEFAULT_PERMISSIONS = {"issues": "write", "metadata": "read", "pull_requests": "write"}


class AuthFailure(Exception):
    """A request's credentials were rejected (401) or may not do this (403)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Bucket:
    """A primary rate-limit window: ``limit`` requests per ``window`` seconds."""

    limit: int
    window: float
    used: int = 0
    reset_at: float = 0.0

    def refresh(self, now: float) -> None:
        """Start a new window when the current one has passed."""
        if now >= self.reset_at:
            self.used = 0
            self.reset_at = now + self.window

    @property
    def remaining(self) -> int:
        """Requests left in this window."""
        return max(self.limit - self.used, 0)


@dataclass(frozen=True)
class Identity:
    """Who a request acts as; ``bucket`` keys its quota, ``credential`` varies its ETags."""

    kind: str
    login: str | None
    bucket: str
    credential: str
    user_id: int = 0
    app_id: int | None = None
    installation_id: int | None = None


@dataclass
class Installation:
    """An installation of a fake GitHub App on an account."""

    id: int
    app_id: int
    account: str
    repositories: tuple[str, ...] | None = None
    permissions: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_PERMISSIONS))
    created_at: int = 0

    def covers(self, full_name: str) -> bool:
        """Whether the installation can see ``owner/name``."""
        if self.repositories is None:
            return full_name.split("/")[0].lower() == self.account.lower()
        return full_name.lower() in {r.lower() for r in self.repositories}


@dataclass
class FakeApp:
    """A GitHub App: the fake holds its public key; tests sign JWTs with the private one."""

    app_id: int
    slug: str
    public_key_pem: str
    private_key_pem: str | None = None
    client_id: str | None = None
    owner: str = "kubernetes"
    installations: dict[int, Installation] = field(default_factory=dict)

    @property
    def bot_login(self) -> str:
        """The login its installation tokens act as (``slug[bot]``)."""
        return f"{self.slug}[bot]"

    def sign_jwt(self, now: float | None = None, lifetime: int = 540) -> str:
        """A JWT for this app, signed with its private key (tests and demos)."""
        if not self.private_key_pem:
            raise ValueError("this app was added with a public key only; sign with your key")
        issued = int(time.time() if now is None else now) - 30
        payload = {"iat": issued, "exp": issued + 30 + lifetime, "iss": str(self.app_id)}
        return jwt.encode(payload, self.private_key_pem, algorithm="RS256")


@dataclass
class TokenInfo:
    """A registered token: a user's PAT, or an app installation token with an expiry."""

    login: str
    kind: str = "user"
    expires_at: float | None = None
    installation_id: int | None = None
    app_id: int | None = None


def generate_rsa_keypair() -> tuple[str, str]:
    """A fresh 2048-bit RSA key pair as (private PEM, public PEM)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def new_token(prefix: str) -> str:
    """A random token in GitHub's format (``ghp_…``, ``ghs_…``)."""
    alphabet = string.ascii_letters + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(36))


def looks_like_jwt(token: str) -> bool:
    """Three dot-separated parts starting with a JSON header."""
    return token.count(".") == 2 and token.startswith("eyJ")


def verify_jwt(token: str, apps: dict[int, FakeApp], now: float) -> FakeApp:
    """The app that signed ``token``; raises :class:`AuthFailure` (401) otherwise.

    ``exp`` must be in the future and at most ten minutes (plus 60 s of skew) ahead;
    ``iat`` may be at most 60 s in the future. ``now`` is the verifier's wall clock.
    """
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise AuthFailure(401, "A JSON web token could not be decoded") from exc
    app = _app_for_issuer(claims.get("iss"), apps)
    try:
        jwt.decode(
            token,
            app.public_key_pem,
            algorithms=["RS256"],
            options={
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
                "require": ["exp", "iat", "iss"],
            },
        )
    except jwt.PyJWTError as exc:
        raise AuthFailure(401, "A JSON web token could not be decoded") from exc
    _check_times(claims, now)
    return app


def _app_for_issuer(iss: Any, apps: dict[int, FakeApp]) -> FakeApp:
    for app in apps.values():
        if str(iss) in (str(app.app_id), app.client_id):
            return app
    raise AuthFailure(401, "'Issuer' claim ('iss') must be an Integer")


def _check_times(claims: dict[str, Any], now: float) -> None:
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int | float) or exp <= now:
        raise AuthFailure(
            401,
            "'Expiration time' claim ('exp') must be a numeric value "
            "representing the future time at which the assertion expires",
        )
    if exp > now + JWT_MAX_LIFETIME + JWT_SKEW:
        raise AuthFailure(401, "'Expiration time' claim ('exp') is too far in the future")
    if not isinstance(iat, int | float) or iat > now + JWT_SKEW:
        raise AuthFailure(
            401,
            "'Issued at' claim ('iat') must be an Integer representing "
            "the time that the assertion was issued",
        )


def parse_authorization(header: str | None) -> str | None:
    """The credential of ``token X`` / ``Bearer X``; ``""`` for an unknown scheme."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() in ("token", "bearer") and value.strip():
        return value.strip()
    return ""


class Credentials:
    """Tokens, apps and quota buckets; ``clock`` gives fake time, ``wall`` real time."""

    def __init__(self, clock: Callable[[], float], wall: Callable[[], float]) -> None:
        self.clock = clock
        self.wall = wall
        self.tokens: dict[str, TokenInfo] = {}
        self.apps: dict[int, FakeApp] = {}
        self.buckets: dict[str, Bucket] = {}

    def identify(
        self, credential: str | None, client: str, user_ids: Callable[[str], int]
    ) -> Identity:
        """Resolve a credential; raises :class:`AuthFailure` for bad ones."""
        if credential is None:
            return Identity("anonymous", None, f"ip:{client}", "")
        info = self.tokens.get(credential)
        if info is None:
            if credential and looks_like_jwt(credential) and self.apps:
                app = verify_jwt(credential, self.apps, self.wall())
                return Identity(
                    "app", app.slug, f"app:{app.app_id}", f"app:{app.app_id}", app_id=app.app_id
                )
            raise AuthFailure(401, "Bad credentials")
        if info.expires_at is not None and self.clock() >= info.expires_at:
            raise AuthFailure(401, "Bad credentials")
        if info.kind == "installation":
            return Identity(
                "installation",
                info.login,
                f"installation:{info.installation_id}",
                credential,
                user_ids(info.login),
                info.app_id,
                info.installation_id,
            )
        return Identity("user", info.login, f"user:{info.login}", credential, user_ids(info.login))

    def bucket(self, identity: Identity, limit: int, anonymous_limit: int, window: float) -> Bucket:
        """The identity's quota bucket, refreshed for the current time."""
        bucket = self.buckets.get(identity.bucket)
        if bucket is None:
            size = anonymous_limit if identity.kind == "anonymous" else limit
            bucket = self.buckets[identity.bucket] = Bucket(size, window)
        bucket.window = window
        bucket.refresh(self.clock())
        return bucket

    def issue_installation_token(
        self, app: FakeApp, installation: Installation
    ) -> tuple[str, float]:
        """A new ``ghs_`` token valid for one hour of fake time."""
        token = new_token("ghs_")
        expires = self.clock() + INSTALLATION_TOKEN_TTL
        self.tokens[token] = TokenInfo(
            app.bot_login, "installation", expires, installation.id, app.app_id
        )
        return token, expires
