"""Run :class:`SiftModel` with the KServe SDK's ModelServer (FastAPI + uvicorn).

The SDK serves V1, V2, ``/`` and ``/metrics``; this module adds what the checklist
needs on top of it, on the SDK's own FastAPI app:

* an ASGI middleware that caps request bodies (413) and counts requests and their
  latency per endpoint (Prometheus);
* exception handlers so FastAPI's own errors (unknown path 404, wrong method 405,
  V2 body validation 422) answer ``{"error": ...}`` with 4xx, validation as 400;
* a DataPlane whose server readiness (``/v2/health/ready``) is the models'
  readiness (the SDK's answers "ready" before any model is loaded).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from kubesift.serve import metrics

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_MAX_BODY = 4 * 1024 * 1024


class GuardMiddleware:
    """Body cap and per-endpoint request metrics, as plain ASGI (cheap per request)."""

    def __init__(self, app: ASGIApp, max_body: int = DEFAULT_MAX_BODY) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        name = metrics.endpoint(scope["path"])
        status = [500]

        async def counted_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            body = await self._read_capped(scope, receive)
            if body is None:
                await _error(counted_send, 413, f"request body over {self.max_body} bytes")
                return
            if name == "v2_infer":
                scope = _json_content_type(scope)
            await self.app(scope, _replay(body, receive), counted_send)
        finally:
            metrics.REQUESTS.labels(name, str(status[0])).inc()
            metrics.LATENCY.labels(name).observe(time.perf_counter() - start)

    async def _read_capped(self, scope: Scope, receive: Receive) -> bytes | None:
        for key, value in scope.get("headers", ()):
            if key == b"content-length":
                try:
                    if int(value) > self.max_body:
                        return None
                except ValueError:
                    pass
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # disconnect
                return b"".join(chunks)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _json_content_type(scope: Scope) -> Scope:
    """V2 bodies without a JSON Content-Type (or the binary-extension header) are JSON.

    FastAPI hands the SDK such bodies as bytes, which it takes for the binary tensor
    extension and refuses; clients that send no Content-Type (like the old Prow
    plugin) would get 400.
    """
    headers = scope.get("headers", [])
    for key, value in headers:
        if key == b"inference-header-content-length" or (
            key == b"content-type" and value.split(b";")[0].strip().endswith(b"json")
        ):
            return scope
    kept = [(k, v) for k, v in headers if k != b"content-type"]
    return {**scope, "headers": [*kept, (b"content-type", b"application/json")]}


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = [False]

    async def replay() -> Message:
        if not sent[0]:
            sent[0] = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _error(send: Send, status: int, message: str) -> None:
    import orjson

    body = orjson.dumps({"error": message})
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _quiet_sdk_argv() -> None:
    """kserve.model_server parses sys.argv on import; keep it from reading ours."""
    sys.argv = sys.argv[:1]


def build_server(model: Any, port: int, max_body: int) -> Any:
    """A configured ``kserve.ModelServer`` with ``model`` registered (loaded or not)."""
    _quiet_sdk_argv()
    import kserve
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import ORJSONResponse
    from kserve.model_server import app
    from kserve.protocol.dataplane import DataPlane
    from starlette.exceptions import HTTPException as StarletteHTTPException
    from starlette.requests import Request

    class SiftDataPlane(DataPlane):
        async def ready(self) -> bool:
            models = list(self.model_registry.get_models().values())
            return bool(models) and all([await m.healthy() for m in models])

    async def http_error(_request: Request, exc: Exception) -> ORJSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return ORJSONResponse({"error": str(exc.detail)}, status_code=exc.status_code)

    async def validation_error(_request: Request, exc: Exception) -> ORJSONResponse:
        assert isinstance(exc, RequestValidationError)
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors()
        )
        return ORJSONResponse({"error": f"invalid request: {problems}"}, status_code=400)

    if not getattr(app.state, "kubesift_configured", False):
        app.add_middleware(GuardMiddleware, max_body=max_body)
        app.add_exception_handler(StarletteHTTPException, http_error)
        app.add_exception_handler(RequestValidationError, validation_error)
        app.state.kubesift_configured = True

    server = kserve.ModelServer(
        http_port=port,
        workers=1,
        enable_grpc=False,
        enable_docs_url=False,
        enable_latency_logging=False,
    )
    server.dataplane = SiftDataPlane(model_registry=server.registered_models)
    server.register_model(model)
    # The SDK logs every request (uvicorn access log, timing trace) at INFO: too costly.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    logging.getLogger("kserve.trace").setLevel(logging.WARNING)
    return server


def serve(model: Any, port: int, max_body: int = DEFAULT_MAX_BODY) -> None:
    """Start watching the registry, then serve until SIGTERM/SIGINT."""
    server = build_server(model, port, max_body)
    model.start_watching()
    # Registered above, so start() gets no list: the SDK refuses to start with a model
    # that is not loaded yet, and we want readiness to say "not yet" instead.
    server.start([])
