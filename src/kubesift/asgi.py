"""What the HTTP services share: a capped body read, the response status for metrics, the
listening socket, the server run. (The bot, the alert receivers and the dashboard; the
model server has the KServe SDK's own server.)"""

from __future__ import annotations

import gc
import socket
from collections.abc import Callable
from typing import Any, Literal

from starlette.requests import Request
from starlette.types import Message, Send

from kubesift.errors import UserError


class StatusOf:
    """``send``, remembering the response's status (500 until one starts): what request
    metrics count a request under."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.status = 500

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
        await self.send(message)


class BodyTooLarge(Exception):
    """A request body over the cap (answered 413 before the rest is read)."""


async def read_capped(request: Request, limit: int) -> bytes:
    """The body, read chunk by chunk and refused as soon as it passes ``limit`` bytes:
    a forged 500 MB delivery costs one chunk of memory, not 500 MB."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def bind(port: int, host: str = "0.0.0.0") -> socket.socket:
    """A listening socket, created with IPPROTO_TCP (uvicorn then sets TCP_NODELAY)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UserError(
            f"cannot listen on {host}:{port}: {exc.strerror}; give another --port, or stop "
            "what is using it"
        ) from exc
    sock.listen(2048)
    return sock


def run(
    app: Any,
    port: int,
    host: str = "0.0.0.0",
    lifespan: Literal["on", "off"] = "off",
    listening: Callable[[], None] | None = None,
) -> None:
    """Serve ``app`` until interrupted (uvicorn, one process, no access log); ``lifespan``
    "on" runs the app's startup and shutdown (the dashboard warms its caches there);
    ``listening`` is called once the port is bound (to announce it only then)."""
    import uvicorn

    sock = bind(port, host)
    if listening is not None:
        listening()
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan=lifespan)
    # Everything loaded so far lives as long as the process: keep it out of the cyclic
    # collector, whose full passes over it otherwise show up as ack-latency spikes.
    gc.collect()
    gc.freeze()
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
