"""The receivers (ASGI, Starlette): Alertmanager, Kubernetes Events, Fluent Bit, OTLP/HTTP
logs (an OpenTelemetry Collector's ``otlphttp`` exporter), silences, feedback (HTTP and
Slack's interactive buttons), the incident list, metrics.

A payload is parsed whole before anything is written (400 and nothing stored when it is
malformed), then committed with everything it causes before the 2xx; 503 only when
nothing was stored (Alertmanager and Fluent Bit retry 5xx, and drop 4xx).
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kubesift.alerts import feedback, otlp, queries, signals
from kubesift.alerts.auth import Auth, slack_verified
from kubesift.alerts.ingest import Outcome
from kubesift.alerts.intake import Intake
from kubesift.alerts.metrics import AlertMetrics
from kubesift.asgi import BodyTooLarge, read_capped
from kubesift.errors import AlertInputError, UserError
from kubesift.store.queries import row_id

MAX_BODY = 16 * 1024 * 1024
#: Slack's interaction payloads (the message and the action) are a few kilobytes.
MAX_SLACK_BODY = 1024 * 1024
Parser = Callable[[Any], list[signals.Signal]]


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status)


class TooLarge(AlertInputError):
    """A body over the cap: 413, refused before the rest of it is read."""


def _refused(exc: AlertInputError) -> JSONResponse:
    if isinstance(exc, otlp.UnsupportedMediaType):
        return _error(415, exc.message)
    return _error(413 if isinstance(exc, TooLarge) else 400, exc.message)


async def _capped(request: Request) -> bytes:
    try:
        return await read_capped(request, MAX_BODY)
    except BodyTooLarge:
        raise TooLarge(f"the body is over {MAX_BODY:,} bytes") from None


async def _json_body(request: Request) -> Any:
    return signals.load_json(await _capped(request))


async def _otlp_body(request: Request) -> Any:
    """An OTLP/HTTP body (protobuf or JSON, maybe gzip), capped before and after
    decompression, as OTLP/JSON's form."""
    body = await _capped(request)
    headers = request.headers
    try:
        return otlp.decode(body, headers.get("content-type", ""),
                           headers.get("content-encoding", ""), MAX_BODY)  # fmt: skip
    except otlp.Oversized as exc:
        raise TooLarge(exc.message) from None


def _counts(request: Request, out: Outcome) -> Response:
    return JSONResponse(
        {"stored": out.stored, "duplicates": out.duplicates, "ignored": out.ignored,
         "held": out.held, "incidents": out.opened, "pages": out.pages}
    )  # fmt: skip


def _otlp_answer(request: Request, out: Outcome) -> Response:
    """OTLP/HTTP's success: an ExportLogsServiceResponse in the request's encoding (a
    Collector reads nothing else; the counts are in the receiver's metrics)."""
    body, ctype = otlp.response(request.headers.get("content-type", ""))
    return Response(body, headers={"Content-Type": ctype})


Reader = Callable[[Request], Awaitable[Any]]
Answer = Callable[[Request, Outcome], Response]
UNAUTHORIZED = "missing or wrong credentials (bearer token or basic auth)"


class Receivers:
    """The request handlers; ``intake`` owns the writes (and the triage state)."""

    def __init__(self, engine: Engine, intake: Intake, auth: Auth, metrics: AlertMetrics,
                 clock: Callable[[], float]) -> None:  # fmt: skip
        self.engine, self.intake, self.auth = engine, intake, auth
        self.metrics, self.clock = metrics, clock

    def receiver(
        self, source: str, parse: Parser, read: Reader = _json_body, answer: Answer = _counts
    ) -> Callable[[Request], Any]:
        """A POST handler: auth, ``read`` the capped body, ``parse`` it whole, store it
        with what it causes, then ``answer`` (the counts as JSON by default)."""

        async def receive(request: Request) -> Response:
            if not self.auth.allows(request.headers):
                return _error(401, UNAUTHORIZED)
            try:
                found = parse(await read(request))
            except AlertInputError as exc:
                self.metrics.rejected.labels(source).inc()
                return _refused(exc)
            try:
                out = await self.intake.submit(found)
            except Exception as exc:  # nothing of it was stored: the sender retries
                return _error(503, f"not stored, retry: {type(exc).__name__}")
            self.metrics.count(source, found, out)
            return answer(request, out)

        return receive

    async def silences(self, request: Request) -> Response:
        if not self.auth.allows(request.headers):
            return _error(401, UNAUTHORIZED)
        try:
            body = await _json_body(request)
            given = body if isinstance(body, list) else [body]
            hit = await self.intake.call(
                lambda conn: [feedback.apply_silence(conn, s) for s in given]
            )
        except AlertInputError as exc:
            return _refused(exc)
        return JSONResponse({"incidents": sorted({i for ids in hit for i in ids})})

    async def answer(self, request: Request) -> Response:
        if not self.auth.allows(request.headers):
            return _error(401, UNAUTHORIZED)
        try:
            body = await _json_body(request)
            if not isinstance(body, dict):
                raise AlertInputError("feedback must be a JSON object")
            made = await self.intake.call(lambda conn: _feedback(conn, body, "http"))
        except feedback.UnknownIncident as exc:
            return _error(404, exc.message)
        except TooLarge as exc:
            return _refused(exc)
        except UserError as exc:
            return _error(400, exc.message)
        self.metrics.feedback.labels("http", str(made["needs_human"]).lower()).inc()
        return JSONResponse(made)

    async def slack(self, request: Request) -> Response:
        # Capped before the signature is checked: a forged 1 GiB body costs one chunk.
        try:
            body = await read_capped(request, MAX_SLACK_BODY)
        except BodyTooLarge:
            return _error(413, f"a Slack action is at most {MAX_SLACK_BODY:,} bytes")
        why = slack_verified(self.auth.slack_secret, request.headers, body, self.clock())
        if why:
            return _error(401, why)
        try:
            answer = _slack_action(body)
            made = await self.intake.call(lambda conn: _feedback(conn, answer, "slack"))
        except UserError as exc:
            status = 404 if isinstance(exc, feedback.UnknownIncident) else 400
            return _error(status, exc.message)
        self.metrics.feedback.labels("slack", str(made["needs_human"]).lower()).inc()
        verdict = "needed a human" if made["needs_human"] else "did not need a human"
        return JSONResponse({"text": f"Thanks: incident {made['incident']} {verdict}."})

    async def listing(self, request: Request) -> Response:
        if not self.auth.allows(request.headers):
            return _error(401, UNAUTHORIZED)
        limit = request.query_params.get("limit", "50")
        if not limit.isdigit() or not 0 < int(limit) <= 1000:
            return _error(400, "limit must be an integer from 1 to 1000")
        decision = request.query_params.get("decision") or None
        with self.engine.connect() as conn:
            found = queries.incidents(conn, limit=int(limit), decision=decision)
        return JSONResponse({"incidents": found})

    async def prometheus(self, request: Request) -> Response:
        with self.engine.connect() as conn:
            self.metrics.observe(queries.summary(conn))
        body, ctype = self.metrics.exposition(request.headers.get("accept", ""))
        return Response(body, headers={"Content-Type": ctype})

    async def health(self, request: Request) -> Response:
        return JSONResponse({"ok": True})


def create_app(
    engine: Engine,
    intake: Intake,
    auth: Auth,
    metrics: AlertMetrics,
    *,
    clock: Callable[[], float] = time.time,
) -> Starlette:
    """The receiver app."""
    h = Receivers(engine, intake, auth, metrics, clock)
    post, get = ["POST"], ["GET"]
    least = intake.triage.settings.quiet.log_level  # [alerts.quiet] log_level

    def fluentbit(payload: Any) -> list[signals.Signal]:
        return signals.from_fluentbit(payload, least)

    def otlp_logs(payload: Any) -> list[signals.Signal]:
        return otlp.from_otlp(payload, least)

    return Starlette(
        routes=[
            Route("/v1/alerts/alertmanager",
                  h.receiver("alertmanager", signals.from_alertmanager), methods=post),
            Route("/v1/events/k8s", h.receiver("k8s-event", signals.from_k8s), methods=post),
            Route("/v1/logs/fluentbit", h.receiver("log", fluentbit), methods=post),
            # OTLP/HTTP's own path for logs, where a Collector's otlphttp exporter posts.
            Route("/v1/logs", h.receiver("otlp-log", otlp_logs, _otlp_body, _otlp_answer),
                  methods=post),
            Route("/v1/alerts/silences", h.silences, methods=post),
            Route("/v1/feedback", h.answer, methods=post),
            Route("/v1/slack/actions", h.slack, methods=post),
            Route("/v1/incidents", h.listing, methods=get),
            Route("/metrics", h.prometheus, methods=get),
            Route("/healthz", h.health, methods=get),
        ]
    )  # fmt: skip


def _feedback(conn: Any, body: dict[str, Any], via: str) -> dict[str, Any]:
    """``{incident | alert_key, label, user?, note?}`` stored; what was recorded."""
    if "label" not in body:
        raise AlertInputError("feedback needs a 'label' (important, not-important, ack, noise)")
    answer = feedback.answer_of(body["label"])
    incident = body.get("incident")
    if incident is None and body.get("alert_key"):
        incident = feedback.incident_for_key(conn, str(body["alert_key"]))
    if not isinstance(incident, int) or isinstance(incident, bool):
        raise AlertInputError("feedback needs 'incident' (an id) or 'alert_key' (a fingerprint)")
    row_id(incident, "'incident'")
    made = feedback.record(
        conn, incident, answer, via=via, user=str(body.get("user") or ""),
        note=str(body.get("note") or ""),
    )  # fmt: skip
    return {"feedback": made, "incident": incident, "needs_human": answer}


def _slack_action(body: bytes) -> dict[str, Any]:
    """Slack's block_actions callback (form field ``payload``) as feedback."""
    fields = parse_qs(body.decode("utf-8", "replace"))
    try:
        payload = json.loads(fields["payload"][0])
        action = payload["actions"][0]
        incident, _, label = str(action["value"]).partition(":")
        user = payload.get("user") or {}
        return {
            "incident": row_id(int(incident), "the action's incident"),
            "label": label,
            "user": f"slack:{user.get('username') or user.get('id') or ''}",
        }
    except (KeyError, IndexError, ValueError, TypeError, json.JSONDecodeError):
        raise AlertInputError("not a Slack block_actions payload from kubesift's buttons") from None
