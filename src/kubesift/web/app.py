"""``kubesift web``: one Starlette app with the dashboard's pages and the JSON API behind
them. Pages are server-rendered shells (Jinja2) whose tables are filled from ``/api/``
by ``static/app.js``; scripts can call the same API.

Reading needs no credentials. Actions (an alert's answer) need ``Authorization: Bearer
<KUBESIFT_WEB_TOKEN>``: a header a cross-site form cannot send and a cross-site script
cannot add without a CORS preflight that this app never grants, and a request from
another origin is refused outright. The token is never rendered.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Receive, Scope, Send

from kubesift.alerts import feedback
from kubesift.analyze import Filters
from kubesift.asgi import BodyTooLarge, StatusOf, read_capped
from kubesift.bot import views as bot_views
from kubesift.ci import regressions, symptom_store, symptoms, tabs, triages, variants
from kubesift.ci import views as cidata
from kubesift.ci.queries import FAILURE_DAYS
from kubesift.errors import KubesiftError, NotFound, UserError
from kubesift.learn import registry
from kubesift.learn.registry import ModelError
from kubesift.reconcile import manual
from kubesift.reconcile import views as model_views
from kubesift.store.queries import row_id
from kubesift.web import data, guard

LOG = logging.getLogger("kubesift.web")
N = TypeVar("N", int, float)
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
MAX_ACTION_BODY = 16 * 1024


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
        self.warmed = threading.Event()

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
        models_dir = _call(lambda: self._models_dir(request))
        if isinstance(models_dir, Response):  # a malformed ?repo=
            return models_dir
        found = _call(lambda: model_views.find_version(models_dir, p["name"], p["version"]))
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
            return self._project(filters)

        return _json(read)

    def _project(self, filters: Filters) -> dict[str, Any]:
        with self.engine.connect() as conn:
            key = ("project", filters, data.store_version(conn))
        return self.cache.get(key, lambda: data.project(self.engine, filters))

    def api_models(self, request: Request) -> Response:
        models_dir = _call(lambda: self._models_dir(request))
        if isinstance(models_dir, Response):  # a malformed ?repo=
            return models_dir
        return _json(
            lambda: {
                "rows": model_views.model_list(models_dir),
                "online_weekly": model_views.deployed_weekly(self.engine, models_dir),
                "reconciler": model_views.reconciler_decisions(self.engine, 3),
            }
        )

    def api_model(self, request: Request) -> Response:
        p = request.path_params
        models_dir = _call(lambda: self._models_dir(request))
        if isinstance(models_dir, Response):  # a malformed ?repo=
            return models_dir
        return _json(
            lambda: model_views.model_detail(self.engine, models_dir, p["name"], p["version"])
        )

    def api_decisions(self, request: Request) -> Response:
        q = request.query_params

        def read() -> dict[str, Any]:
            with self.engine.connect() as conn:
                return bot_views.decisions(
                    conn,
                    **_paging(q),
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
                    conn, **_paging(q), decision=q.get("decision") or None,
                    missed=_flag(q.get("missed")),
                )  # fmt: skip

        return _json(read)

    def api_ci_jobs(self, request: Request) -> Response:
        q = request.query_params

        def read() -> dict[str, Any]:
            days = _float(q.get("days"), 7.0)
            with self.engine.connect() as conn:
                table, open_ = cidata.job_table(conn, days), cidata.open_regressions(conn)
                return {"days": days, "jobs": table["rows"], "regressions": open_}

        return _json(read)

    def api_ci_readiness(self, request: Request) -> Response:
        return _json(self._readiness)

    def _readiness(self) -> dict[str, Any]:
        rules = variants.load(self.variants_file)
        columns = list(rules.columns)
        with self.engine.connect() as conn:
            key = ("readiness", tuple(columns), cidata.ci_version(conn), _today())
            return self.cache.get(key, lambda: cidata.readiness(conn, columns, rules.key_tests))

    def api_ci_grid(self, request: Request) -> Response:
        q = request.query_params

        def read() -> dict[str, Any]:
            if not q.get("job"):
                raise UserError("give ?job=NAME (GET /api/ci/jobs lists them)")
            with self.engine.connect() as conn:
                runs = _int(q.get("runs"), 30)
                return cidata.ci_grid(conn, q["job"], runs, q.get("only") or None)

        return _json(read)

    def api_ci_timeline(self, request: Request) -> Response:
        q = request.query_params

        def read() -> dict[str, Any]:
            if not q.get("job") or not q.get("build"):
                raise UserError("give ?job=NAME&build=ID (GET /api/ci/grid?job=NAME lists builds)")
            with self.engine.connect() as conn:
                return cidata.run_timeline(conn, q["job"], q["build"])

        return _json(read)

    def api_ci_tabs(self, request: Request) -> Response:
        q = request.query_params

        def read() -> dict[str, Any]:
            with self.engine.connect() as conn:
                rows = tabs.tab_states(conn, job=q.get("job") or None)
            return {"rows": [t.as_dict() for t in rows]}

        return _json(read)

    def api_ci_flakes(self, request: Request) -> Response:
        q = request.query_params

        return _json(lambda: self._flakes(_float(q.get("days"), 7.0), q.get("job") or None))

    def _flakes(self, days: float, job: str | None) -> dict[str, Any]:
        with self.engine.connect() as conn:
            key = ("flakes", days, job, cidata.ci_version(conn), _today())
            return self.cache.get(key, lambda: cidata.flakes(conn, days, job))

    def api_ci_search(self, request: Request) -> Response:
        q = request.query_params

        def read() -> dict[str, Any]:
            days = _float(q.get("days"), FAILURE_DAYS)
            with self.engine.connect() as conn:
                return cidata.search(conn, q.get("q") or "", days)

        return _json(read)

    def api_ci_clusters(self, request: Request) -> Response:
        return _json(lambda: cidata.public_clusters(self._clusters()))

    def api_ci_failure(self, request: Request) -> Response:
        q = request.query_params

        def read() -> dict[str, Any]:
            wanted = [q.get(k) for k in ("job", "build", "test")]
            if not all(wanted):
                raise UserError("give ?job=, ?build= and ?test= (and ?suite=): a grid cell")
            index = self._clusters()
            with self.engine.connect() as conn:
                return cidata.failure(
                    conn, index, q["job"], q["build"], q.get("suite") or "", q["test"]
                )

        return _json(read)

    def _clusters(self) -> dict[str, Any]:
        with self.engine.connect() as conn:
            key = ("clusters", FAILURE_DAYS, cidata.ci_version(conn), _today())
            return self.cache.get(key, lambda: cidata.cluster_index(conn))

    async def api_feedback(self, request: Request) -> Response:
        incident = request.path_params["id"]

        def answer(body: dict[str, Any]) -> dict[str, Any]:
            row_id(incident, "an incident id")
            if not isinstance(body.get("needs_human"), bool):
                raise UserError('needs_human must be true or false: {"needs_human": true}')
            note = str(body.get("note") or "")
            with self.engine.begin() as conn:
                made = feedback.record(conn, incident, body["needs_human"], via="web", note=note)
            return {"id": made, "incident": incident, "needs_human": body["needs_human"]}

        return await self._act(request, answer)

    async def api_triage(self, request: Request) -> Response:
        regression = request.path_params["id"]

        def triage(body: dict[str, Any]) -> dict[str, Any]:
            row_id(regression, "a regression id")
            if not isinstance(body.get("issue"), str):
                raise UserError('give the issue that tracks it: {"issue": "owner/name#123"}')
            with self.engine.begin() as conn:
                return regressions.triage(conn, regression, body["issue"].strip())

        return await self._act(request, triage)

    def api_symptoms(self, request: Request) -> Response:
        def read() -> dict[str, Any]:
            with self.engine.connect() as conn:
                return {"rows": symptom_store.listed(conn)}

        return _json(read)

    async def api_symptom_define(self, request: Request) -> Response:
        def define(body: dict[str, Any]) -> dict[str, Any]:
            found = symptoms.check(body, "the symptom")
            done = symptom_store.define(self.engine, [found], "dashboard")
            return done.as_dict()

        return await self._act(request, define)

    async def api_symptom_remove(self, request: Request) -> Response:
        ident = request.path_params["id"]

        def remove(body: dict[str, Any]) -> dict[str, Any]:
            symptom_store.remove(self.engine, ident, origin="dashboard")
            return {"removed": ident}

        return await self._act(request, remove)

    def api_triages(self, request: Request) -> Response:
        every = _flag(request.query_params.get("all"))

        def read() -> dict[str, Any]:
            with self.engine.connect() as conn:
                return {"rows": triages.listed(conn, include_resolved=every)}

        return _json(read)

    async def api_triage_resolve(self, request: Request) -> Response:
        ident = request.path_params["id"]

        def resolve(body: dict[str, Any]) -> dict[str, Any]:
            with self.engine.begin() as conn:
                return triages.resolve(conn, ident)

        return await self._act(request, resolve)

    async def api_promote(self, request: Request) -> Response:
        p = request.path_params
        models_dir = _call(lambda: self._models_dir(request))
        if isinstance(models_dir, Response):  # a malformed ?repo=
            return models_dir

        def promote(body: dict[str, Any]) -> dict[str, Any]:
            model_views.find_version(models_dir, p["name"], p["version"])  # 404 when unknown
            chosen = manual.promote_by_hand(
                self.engine, models_dir, p["name"], p["version"], via="the dashboard"
            )
            return {"production": registry.ref(chosen)}

        return await self._act(request, promote)

    async def _act(self, request: Request, work: Callable[[dict[str, Any]], Any]) -> Response:
        """An action: refused without the token or from another origin; the body is a JSON
        object (or empty)."""
        refused = self._refuse(request)
        if refused is not None:
            return refused
        try:
            raw = await read_capped(request, MAX_ACTION_BODY)
        except BodyTooLarge:
            return _error(413, f"an action's body is at most {MAX_ACTION_BODY:,} bytes")
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError:
            return _error(400, "the body must be a JSON object")
        if not isinstance(body, dict):
            return _error(400, "the body must be a JSON object")
        # off the event loop: an action may write for a while (a symptom re-applied)
        return await run_in_threadpool(_json, lambda: work(body))

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
        """The registry a request names: ``source``, and for items optionally ``repo``
        (that repository's own models; a malformed name is a 400 via UserError)."""
        from kubesift.github.names import check_repo

        source = request.query_params.get("source") or "release-notes"
        base = self.models.get(source) or self.models["release-notes"]
        repo = request.query_params.get("repo")
        return base / "repos" / check_repo(repo) if repo and source == "items" else base

    def api_models_deployed(self, request: Request) -> Response:
        return _json(lambda: {"rows": model_views.deployed_models(self.models)})

    def warm(self) -> None:
        """Compute what the first visitor would otherwise wait for (on a big store the
        charts take seconds): the overview, the unfiltered charts, Component Readiness and
        the failure clusters and the week's flakes, each into the cache."""
        steps: list[tuple[str, Callable[[], Any]]] = [
            ("overview", lambda: data.overview(self.engine, self.models, self.cache)),
            ("project", lambda: self._project(data.project_filters(None, None, None, None))),
            ("readiness", self._readiness),
            ("clusters", self._clusters),
            ("flakes", lambda: self._flakes(7.0, None)),
        ]
        for name, step in steps:
            started = time.perf_counter()
            try:
                step()
            except Exception as exc:  # a page reports its own error when asked; keep warming
                LOG.warning("warming %s failed: %s", name, exc)
                continue
            LOG.info("warmed %s in %.2f s", name, time.perf_counter() - started)
        self.warmed.set()

    # -- service ----------------------------------------------------------------------------

    def healthz(self, request: Request) -> Response:
        with self.engine.connect() as conn:
            conn.exec_driver_sql("select 1")
        return JSONResponse({"status": "ok", "warm": self.warmed.is_set()})

    def metrics_text(self, request: Request) -> Response:
        return Response(generate_latest(self.metrics.registry), media_type="text/plain")


def _int(value: str | None, default: int) -> int:
    return _number(value, default, int, "a whole number")


def _flag(value: str | None) -> bool:
    """A yes/no query parameter: absent, ``0`` or ``false`` is no."""
    return (value or "").lower() not in ("", "0", "false", "no")


def _today() -> str:
    """Part of the key of a cached view whose window ends today (it moves at midnight)."""
    return datetime.now(UTC).date().isoformat()


def _paging(q: Mapping[str, str]) -> dict[str, int]:
    """``page`` (from 1) and ``per_page`` (default 50) of a list's query."""
    return {"page": _int(q.get("page"), 1), "per_page": _int(q.get("per_page"), 50)}


def _float(value: str | None, default: float) -> float:
    return _number(value, default, float, "a number")


def _number(value: str | None, default: N, cast: Callable[[str], N], what: str) -> N:
    """A query parameter as a number, ``default`` when absent."""
    if value is None or value == "":
        return default
    try:
        return cast(value)
    except ValueError as exc:
        raise UserError(f"{value!r} is not {what}") from exc


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _call(fn: Callable[[], Any]) -> Any:
    """``fn()``, or the JSON error a user's mistake deserves."""
    try:
        return fn()
    except (feedback.UnknownIncident, NotFound) as exc:
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
    warm: bool = True,
    hosts: frozenset[str] | None = None,
) -> Starlette:
    """The dashboard; ``models`` maps a source (``release-notes``, ``items``) to its registry;
    ``variants_file`` is the CI variant rules (``[ci] variants``; default: the packaged ones);
    ``warm`` fills the caches in a background thread at startup; ``hosts`` are the host
    names it answers to (default: loopback names only). A token shorter than
    :data:`~kubesift.web.guard.MIN_TOKEN` characters is refused."""
    d = Dashboard(engine, models, guard.check_token(token), variants_file)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if warm:
            threading.Thread(target=d.warm, name="kubesift-web-warm", daemon=True).start()
        else:
            d.warmed.set()
        yield

    routes: list[BaseRoute] = [Route(path, d.page(name, title)) for path, name, title in PAGES]
    routes += [
        Route("/models/{name}/{version}", d.page("model", "Model version")),
        Route("/models/{name}/{version}/{file}", d.card_file),
        Route("/ci/grid", d.page("grid", "CI grid")),
        Route("/ci/run", d.page("run", "CI run")),
        Route("/api/overview", d.api_overview),
        Route("/api/project", d.api_project),
        Route("/api/models", d.api_models),
        Route("/api/models/deployed", d.api_models_deployed),
        Route("/api/models/{name}/{version}", d.api_model),
        Route("/api/bot/decisions", d.api_decisions),
        Route("/api/ci/jobs", d.api_ci_jobs),
        Route("/api/ci/grid", d.api_ci_grid),
        Route("/api/ci/readiness", d.api_ci_readiness),
        Route("/api/ci/flakes", d.api_ci_flakes),
        Route("/api/ci/timeline", d.api_ci_timeline),
        Route("/api/ci/tabs", d.api_ci_tabs),
        Route("/api/ci/search", d.api_ci_search),
        Route("/api/ci/clusters", d.api_ci_clusters),
        Route("/api/ci/failure", d.api_ci_failure),
        Route("/api/alerts/incidents", d.api_incidents),
        Route("/api/alerts/incidents/{id:int}/feedback", d.api_feedback, methods=["POST"]),
        Route("/api/ci/regressions/{id:int}/triage", d.api_triage, methods=["POST"]),
        Route("/api/ci/symptoms", d.api_symptoms, methods=["GET"]),
        Route("/api/ci/triages", d.api_triages, methods=["GET"]),
        Route("/api/ci/triages/{id:int}/resolve", d.api_triage_resolve, methods=["POST"]),
        Route("/api/ci/symptoms", d.api_symptom_define, methods=["POST"]),
        Route("/api/ci/symptoms/{id}", d.api_symptom_remove, methods=["DELETE"]),
        Route("/api/models/{name}/{version}/promote", d.api_promote, methods=["POST"]),
        Route("/healthz", d.healthz),
        Route("/metrics", d.metrics_text),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    middleware = [
        Middleware(guard.Guard, hosts=hosts or guard.allowed_hosts("127.0.0.1")),
        Middleware(Measured, metrics=d.metrics),
    ]
    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan)


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
        sending = StatusOf(send)
        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.requests.labels(route, str(sending.status)).inc()
            self.metrics.seconds.labels(route).observe(time.perf_counter() - start)
