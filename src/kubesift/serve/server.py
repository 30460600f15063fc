"""Serve :class:`SiftModel` over the KServe SDK's V1 and V2 endpoints, on an app of our own.

The SDK's ``ModelServer`` only runs its module-level FastAPI app (``kserve.model_server:app``),
which would have to be changed in place; instead :func:`create_app` builds a FastAPI app,
registers the SDK's endpoint functions and error handlers on it, and uvicorn runs it. On
top of the SDK, this module adds:

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

from kubesift.asgi import StatusOf
from kubesift.errors import UserError
from kubesift.serve.metrics import ServeMetrics, endpoint

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_MAX_BODY = 4 * 1024 * 1024


class GuardMiddleware:
    """Body cap and per-endpoint request metrics, as plain ASGI (cheap per request)."""

    def __init__(
        self, app: ASGIApp, *, metrics: ServeMetrics, max_body: int = DEFAULT_MAX_BODY
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        name = endpoint(scope["path"])
        counted_send = StatusOf(send)
        try:
            body = await self._read_capped(scope, receive)
            if body is None:
                await _error(counted_send, 413, f"request body over {self.max_body} bytes")
                return
            if name == "v2_infer":
                scope = _json_content_type(scope)
            await self.app(scope, _replay(body, receive), counted_send)
        finally:
            self.metrics.requests.labels(name, str(counted_send.status)).inc()
            self.metrics.latency.labels(name).observe(time.perf_counter() - start)

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


def import_sdk() -> None:
    """Import the KServe SDK with an empty command line, then give ours back.

    ``kserve.model_server`` parses ``sys.argv`` when it is first imported (argparse
    prefix matching would read ``--model`` as its ``--model_name``); the arguments are
    restored at once, so nothing else in the process sees a changed ``sys.argv``.
    """
    saved = sys.argv
    sys.argv = saved[:1]
    try:
        import kserve  # noqa: F401
    except ImportError as exc:
        raise UserError(
            "kubesift serve needs the KServe SDK: pip install 'kubesift[serve]'"
        ) from exc
    finally:
        sys.argv = saved


def create_app(model: Any, max_body: int = DEFAULT_MAX_BODY) -> Any:
    """An ASGI app of our own (not the SDK's module-level one) with the SDK's V1 and V2
    endpoints over a model repository holding ``model`` (loaded or not)."""
    import_sdk()
    from fastapi import FastAPI
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import ORJSONResponse
    from kserve import ModelRepository
    from kserve.protocol.dataplane import DataPlane
    from kserve.protocol.model_repository_extension import ModelRepositoryExtension
    from kserve.protocol.rest.v1_endpoints import register_v1_endpoints
    from kserve.protocol.rest.v2_endpoints import register_v2_endpoints
    from starlette.exceptions import HTTPException as StarletteHTTPException

    class SiftDataPlane(DataPlane):
        async def ready(self) -> bool:
            models = list(self.model_registry.get_models().values())
            return bool(models) and all([await m.healthy() for m in models])

    repository = ModelRepository()
    repository.update(model)
    dataplane = SiftDataPlane(model_registry=repository)
    app = FastAPI(
        title="kubesift model server",
        docs_url=None,
        redoc_url=None,
        default_response_class=ORJSONResponse,
    )
    app.add_api_route("/", dataplane.live)
    app.add_api_route("/metrics", _metrics_handler(model.metrics), methods=["GET"])
    register_v1_endpoints(app, dataplane, ModelRepositoryExtension(model_registry=repository))
    register_v2_endpoints(app, dataplane, ModelRepositoryExtension(model_registry=repository))
    _add_error_handlers(app, StarletteHTTPException, RequestValidationError)
    app.add_middleware(GuardMiddleware, max_body=max_body, metrics=model.metrics)
    return app


def _metrics_handler(metrics: ServeMetrics) -> Callable[..., Awaitable[Any]]:
    from prometheus_client import REGISTRY, generate_latest
    from prometheus_client.exposition import CONTENT_TYPE_LATEST
    from starlette.responses import Response

    async def handler() -> Response:
        # The SDK's own metrics (default registry) and ours, in the text format.
        body = generate_latest(REGISTRY) + generate_latest(metrics.registry)
        return Response(body, headers={"content-type": CONTENT_TYPE_LATEST})

    return handler


def _add_error_handlers(app: Any, http_exc: type, validation_exc: type) -> None:
    """The SDK's handlers for its own errors, and ``{"error": ...}`` answers for
    FastAPI's (unknown path 404, wrong method 405, body validation as 400)."""
    from fastapi.responses import ORJSONResponse
    from kserve import errors as e
    from starlette.requests import Request

    async def http_error(_request: Request, exc: Exception) -> ORJSONResponse:
        status = int(getattr(exc, "status_code", 500))
        return ORJSONResponse({"error": str(getattr(exc, "detail", exc))}, status_code=status)

    async def validation_error(_request: Request, exc: Exception) -> ORJSONResponse:
        errors = exc.errors() if hasattr(exc, "errors") else []
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err.get('loc', ()))}: {err.get('msg')}" for err in errors
        )
        return ORJSONResponse({"error": f"invalid request: {problems}"}, status_code=400)

    for exc_type, handler in (
        (e.InvalidInput, e.invalid_input_handler),
        (e.InferenceError, e.inference_error_handler),
        (e.ModelNotFound, e.model_not_found_handler),
        (e.ModelNotReady, e.model_not_ready_handler),
        (NotImplementedError, e.not_implemented_error_handler),
        (e.UnsupportedProtocol, e.unsupported_protocol_error_handler),
        (e.ServerNotLive, e.server_not_live_handler),
        (e.ServerNotReady, e.server_not_ready_handler),
        (http_exc, http_error),
        (validation_exc, validation_error),
        (Exception, e.generic_exception_handler),
    ):
        app.add_exception_handler(exc_type, handler)


def serve(model: Any, port: int, max_body: int = DEFAULT_MAX_BODY, host: str = "0.0.0.0") -> None:
    """Start watching the registry, then serve until SIGTERM/SIGINT. Readiness says
    "not yet" until a model is loaded (the SDK's server refuses to start without one)."""
    import uvicorn

    app = create_app(model, max_body)
    model.start_watching()
    # The SDK logs every request (uvicorn access log, timing trace) at INFO: too costly.
    logging.getLogger("kserve.trace").setLevel(logging.WARNING)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        # The plain asyncio loop, as the SDK's own server ran: under uvloop 128 concurrent
        # connections saw a p99 of 1.3-2.1 s (asyncio: 93 ms) in bench/serve.py --quick.
        loop="asyncio",
    )

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            # A graceful stop exits 0: uvicorn would re-raise the signal after shutting
            # down, which makes a clean SIGTERM look like a kill (-15).
            super().handle_exit(sig, frame)
            self._captured_signals.clear()

    try:
        Server(config).run()
    finally:
        model.stop()
