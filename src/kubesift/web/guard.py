"""The dashboard's outer wall: it answers only to its own host names, and every response
carries a strict Content-Security-Policy and the frame, sniffing and referrer headers.

- **Host names.** A page on another site can make a browser resolve its own name to
  127.0.0.1 (DNS rebinding) and then read a loopback dashboard as same-origin. The
  ``Host`` header still names the attacker's domain, so a request for any host name not
  allowed is refused (400) before it reaches a route. An IP address is always answered
  (no rebinding goes through one).
- **CSP.** Scripts only from the dashboard's own ``/static/`` files: no inline script, no
  ``javascript:`` URL, no ``eval``; no frames of it anywhere (``frame-ancestors 'none'``).
  A model card (HTML that the model registry wrote) is sandboxed on top: no script at all,
  and an origin of its own, so it cannot read the token the pages keep.

Pure ASGI, so it wraps every route, static files and errors alike.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kubesift.errors import UserError

#: The shortest token actions accept (a guessable token is no lock).
MIN_TOKEN = 16
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
#: Model cards are files written by training: styles inline, never a script.
CARD_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "frame-ancestors 'none'; sandbox"
)
HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
)
LOOPBACK = ("localhost", "127.0.0.1", "::1")


def check_token(token: str | None) -> str | None:
    """The actions' token, refused when it is shorter than :data:`MIN_TOKEN` characters."""
    if token is not None and len(token) < MIN_TOKEN:
        raise UserError(
            f"the web token has {len(token)} characters; use at least {MIN_TOKEN} "
            "(e.g. `openssl rand -hex 24`)"
        )
    return token


def allowed_hosts(bind: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """The host names the dashboard answers to: loopback names, the address it listens on,
    this machine's name when it listens on every address, and ``extra`` (``--allow-host``,
    ``KUBESIFT_WEB_HOSTS``). ``*`` in ``extra`` allows any host."""
    names = {*LOOPBACK, *(h.strip().lower() for h in extra if h.strip())}
    if bind in ("0.0.0.0", "::", ""):
        names |= {socket.gethostname().lower(), socket.getfqdn().lower()}
    else:
        names.add(bind.lower())
    return frozenset(names)


def host_name(header: str) -> str:
    """The name in a ``Host`` header, without its port (IPv6 brackets removed)."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def allowed(name: str, hosts: frozenset[str]) -> bool:
    """Whether the dashboard answers to host ``name``: a name in ``hosts`` (``*``: any),
    or an IP address literal (DNS rebinding needs a name the attacker controls; a page
    whose origin is this machine's own address is this dashboard)."""
    if "*" in hosts or name in hosts:
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class Guard:
    """Refuses requests for other hosts; adds the security headers to every response."""

    def __init__(self, app: ASGIApp, hosts: frozenset[str]) -> None:
        self.app = app
        self.hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
        if not allowed(host_name(host), self.hosts):
            await _refuse(send, host)
            return
        card = scope["path"].startswith("/models/") and scope["path"].count("/") == 4
        policy = (CARD_CSP if card else CSP).encode()

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    (b"content-security-policy", policy),
                    *HEADERS,
                ]
            await send(message)

        await self.app(scope, receive, with_headers)


async def _refuse(send: Send, host: str) -> None:
    body = json.dumps(
        {
            "error": f"this dashboard does not answer to host {host[:100]!r}; start it with "
            "--allow-host NAME (or KUBESIFT_WEB_HOSTS) to add a name"
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 400,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
