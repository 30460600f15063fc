"""``kubesift web``: one Starlette app with the dashboard's pages and the JSON API behind
them. Pages are server-rendered shells (Jinja2) whose tables are filled from ``/api/``
by ``static/app.js``; scripts can call the same API.

Reading needs no credentials. Actions (an alert's answer) need ``Authorization: Bearer
<KUBESIFT_WEB_TOKEN>``: a header a cross-site form cannot send and a cross-site script
cannot add without a CORS preflight that this app never grants, and a request from
another origin is refused outright. The token is never rendered.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kubesift.alerts import feedback
from kubesift.ci import variants
from kubesift.errors import KubesiftError, UserError
from kubesift.learn.registry import ModelError
from kubesift.web import data

HERE = Path(__file__).parent
PAGES = (
    ("/", "overview", "Overview"),
    ("/project", "project", "Project"),
    ("/models", "models", "Labels and models"),
    ("/bot", "bot", "Bot"),
    ("/ci", "ci", "CI"),
    ("/alerts", "alerts", "Alerts"),
)
CARD_FILES = ("card.html", "pr-curves.png")


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "kubesift_web_requests", "Requests by route and status", ["route", "status"],
            registry=self.registry,
        )  # fmt: skip
        self.seconds = Histogram(
            "kubesift_web_request_seconds", "Time to answer, by route", ["route"],
            registry=self.registry,
        )  # fmt: skip


class Dashboard:
    """The handlers, with the store, the model registries and the token passed in."""

    def __init__(
        self,
        engine: Engine,
        models: dict[str, Path],
        token: str | None,
        variants_file: Path | None = None,
    ) -> None:
        self.engine = engine
        self.variants_file = variants_file
        self.models = models
        self.token = token
        self.metrics = Metrics()
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))
        self.cache = data.Cache()

    # -- pages --------------------------------------------------------------------------------

    def page(self, name: str, title: str) -> Callable[[Request], Response]:
        def render(request: Request) -> Response:
            context = {
                "page": name,
                "title": title,
                "pages": PAGES,
                "params": dict(request.path_params),
                "actions": self.token is not None,
            }
            return self.templates.TemplateResponse(request, f"{name}.html", context)

        return render

    def card_file(self, request: Request) -> Response:
        p = request.path_params
        if p["file"] not in CARD_FILES:
            return _error(404, f"no such file {p['file']!r}")
        models_dir = self._models_dir(request)
        found = _call(lambda: data.find_version(models_dir, p["name"], p["version"]))
        if isinstance(found, Response):
            return found
        return FileResponse(found.path / p["file"])

    # -- API ------------------------------------------------------------------------------------

    def api_overview(self, request: Request) -> Response:
        return _json(lambda: data.overview(self.engine, self.models, self.cache))

    def api_project(self, request: Request) -> Response:
        q = request.query_params

        def read() -> dict[str, Any]:
            filters = data.project_filters(
                q.get("repo") or None, q.get("since") or None, q.get("until") or None,
                q.get("kind") or None,
            )  # fmt: skip
            with self.engine.connect() as conn:
                key = ("project", filters, data.store_version(conn))
            return self.cache.get(key, lambda: data.project(self.engine, filters))

        return _json(read)

    def api_models(self, request: Request) -> Response:
        models_dir = self._models_dir(request)
        return _json(
            lambda: {
                "rows": data.model_list(models_dir),
                "reconciler": data.reconciler_decisions(self.engine, 3),
            }
        )

    def api_model(self, request: Request) -> Response:
        p = request.path_params
        models_dir = self._models_dir(request)
        return _json(lambda: data.model_detail(self.engine, models_dir, p["name"], p["version"]))

    def api_decisions(self, request: Request) -> Response:
        q = request.query_params

        def read() -> dict[str, Any]:
            with self.engine.connect() as conn:
                return data.decisions(
                    conn,
                    page=_int(q.get("page"), 1),
                    per_page=_int(q.get("per_page"), 50),
                    repo=q.get("repo") or None,
                    label=q.get("label") or None,
                    action=q.get("action") or None,
                )

        return _json(read)

    def api_incidents(self, request: Request) -> Response:
        q = request.query_params

        def read() -> dict[str, Any]:
            with self.engine.connect() as conn:
                return data.alert_inbox(
                    conn,
                    page=_int(q.get("page"), 1),
                    per_page=_int(q.get("per_page"), 50),
                    decision=q.get("decision") or None,
                )

        return _json(read)

    def api_ci_jobs(self, request: Request) -> Response:
        def read() -> dict[str, Any]:
            with self.engine.connect() as conn:
                return {"jobs": data.job_table(conn), "regressions": data.open_regressions(conn)}

        return _json(read)

    def api_ci_readiness(self, request: Request) -> Response:
        def read() -> dict[str, Any]:
            columns = list(variants.load(self.variants_file).columns)
            with self.engine.connect() as conn:
                key = ("readiness", tuple(columns), data.ci_version(conn))
                return self.cache.get(key, lambda: data.readiness(conn, columns))

        return _json(read)

    def api_ci_grid(self, request: Request) -> Response:
        q = request.query_params

        def read() -> dict[str, Any]:
            if not q.get("job"):
                raise UserError("give ?job=NAME (GET /api/ci/jobs lists them)")
            with self.engine.connect() as conn:
                return data.ci_grid(conn, q["job"], _int(q.get("runs"), 30), q.get("only") or None)

        return _json(read)

    async def api_feedback(self, request: Request) -> Response:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        try:
            body = await request.json()
        except ValueError:
            return _error(400, 'the body must be JSON: {"needs_human": true|false}')
        if not isinstance(body, dict) or not isinstance(body.get("needs_human"), bool):
            return _error(400, "needs_human must be true or false")
        incident = int(request.path_params["id"])
        note = str(body.get("note") or "")

        def answer() -> dict[str, Any]:
            with self.engine.begin() as conn:
                made = feedback.record(conn, incident, body["needs_human"], via="web", note=note)
            return {"id": made, "incident": incident, "needs_human": body["needs_human"]}

        return _json(answer)

    def _refuse(self, request: Request) -> Response | None:
        if self.token is None:
            return _error(403, "actions are off: start `kubesift web` with KUBESIFT_WEB_TOKEN")
        origin = request.headers.get("origin")
        if origin and urlsplit(origin).netloc != request.headers.get("host"):
            return _error(403, "cross-origin requests cannot act")
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {self.token}".encode()):
            return _error(401, "an action needs Authorization: Bearer <KUBESIFT_WEB_TOKEN>")
        return None

    def _models_dir(self, request: Request) -> Path:
        source = request.query_params.get("source") or "release-notes"
        return self.models.get(source) or self.models["release-notes"]

    # -- service ----------------------------------------------------------------------------

    def healthz(self, request: Request) -> Response:
        with self.engine.connect() as conn:
            conn.exec_driver_sql("select 1")
        return JSONResponse({"status": "ok"})

    def metrics_text(self, request: Request) -> Response:
        return Response(generate_latest(self.metrics.registry), media_type="text/plain")


def _int(value: str | None, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise UserError(f"{value!r} is not a whole number") from exc


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _call(fn: Callable[[], Any]) -> Any:
    """``fn()``, or the JSON error a user's mistake deserves."""
    try:
        return fn()
    except (feedback.UnknownIncident, data.NotFound) as exc:
        return _error(404, str(exc))
    except ModelError as exc:
        return _error(500, str(exc))
    except UserError as exc:
        return _error(400, str(exc))
    except KubesiftError as exc:
        return _error(500, str(exc))


def _json(fn: Callable[[], Any]) -> Response:
    result = _call(fn)
    return result if isinstance(result, Response) else JSONResponse(result)


def create_app(
    engine: Engine,
    models: dict[str, Path],
    token: str | None = None,
    variants_file: Path | None = None,
) -> Starlette:
    """The dashboard; ``models`` maps a source (``release-notes``, ``items``) to its registry;
    ``variants_file`` is the CI variant rules (``[ci] variants``; default: the packaged ones)."""
    d = Dashboard(engine, models, token, variants_file)
    routes: list[BaseRoute] = [Route(path, d.page(name, title)) for path, name, title in PAGES]
    routes += [
        Route("/models/{name}/{version}", d.page("model", "Model version")),
        Route("/models/{name}/{version}/{file}", d.card_file),
        Route("/ci/grid", d.page("grid", "CI grid")),
        Route("/api/overview", d.api_overview),
        Route("/api/project", d.api_project),
        Route("/api/models", d.api_models),
        Route("/api/models/{name}/{version}", d.api_model),
        Route("/api/bot/decisions", d.api_decisions),
        Route("/api/ci/jobs", d.api_ci_jobs),
        Route("/api/ci/grid", d.api_ci_grid),
        Route("/api/ci/readiness", d.api_ci_readiness),
        Route("/api/alerts/incidents", d.api_incidents),
        Route("/api/alerts/incidents/{id:int}/feedback", d.api_feedback, methods=["POST"]),
        Route("/healthz", d.healthz),
        Route("/metrics", d.metrics_text),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    return Starlette(routes=routes, middleware=[Middleware(Measured, metrics=d.metrics)])


class Measured:
    """Counts and times every HTTP request by route (pure ASGI middleware)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = [500]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.requests.labels(route, str(status[0])).inc()
            self.metrics.seconds.labels(route).observe(time.perf_counter() - start)
