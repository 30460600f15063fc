"""The webhook receiver (ASGI, Starlette): verify, queue, answer at once.

``POST /`` and ``POST /hook`` take deliveries (GitHub App webhook URL or Prow external
plugin endpoint), ``POST /help`` answers Prow's PluginHelp, ``GET /healthz`` is liveness.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from kubesift.asgi import BodyTooLarge, read_capped
from kubesift.bot import events, records
from kubesift.bot.intake import Intake
from kubesift.bot.policy import RepoSettings
from kubesift.bot.signature import Secrets, signature_of, verify

RECEIVED = "Event received. Have a nice day."
#: GitHub caps webhook payloads at 25 MB; anything larger is refused before it is read.
MAX_BODY = 25 * 1024 * 1024
HELP_DESCRIPTION = (
    "kubesift labels new and edited issues and pull requests with the labels its model is "
    "confident about, explains why in one comment, never removes a label and never re-adds "
    "one a person removed."
)


@dataclass(frozen=True)
class Checked:
    """The outcome of checking a delivery: an HTTP answer, or an event to queue."""

    status: int
    message: str
    event: str = ""
    delivery: str = ""
    payload: Mapping[str, Any] | None = None


def check_delivery(headers: Mapping[str, str], body: bytes, secrets: Secrets) -> Checked:
    """Prow's validation order: event, delivery, signature header, content type, HMAC,
    then the payload (malformed JSON after a valid signature is 400)."""
    event = headers.get("x-github-event")
    if not event:
        return Checked(400, "400 Bad Request: Missing X-GitHub-Event Header")
    delivery = headers.get("x-github-delivery")
    if not delivery:
        return Checked(400, "400 Bad Request: Missing X-GitHub-Delivery Header")
    signature = signature_of(headers)
    if not signature:
        return Checked(403, "403 Forbidden: Missing X-Hub-Signature-256")
    ctype = headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json":
        return Checked(
            400,
            "400 Bad Request: Hook only accepts content-type: application/json - "
            "please reconfigure this hook on GitHub",
        )
    payload = _json(body)
    if not verify(body, signature, _tokens(secrets, payload)):
        return Checked(403, "403 Forbidden: Invalid X-Hub-Signature-256")
    if not isinstance(payload, dict):
        return Checked(400, "400 Bad Request: the payload is not a JSON object")
    return Checked(200, RECEIVED, event, delivery, payload)


def _json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None


def _tokens(secrets: Secrets, payload: Any) -> tuple[str, ...]:
    """The scope's tokens, or every token when the payload names no repository."""
    if isinstance(payload, dict):
        repo = payload.get("repository") or {}
        org = payload.get("organization") or {}
        found = secrets.tokens_for(
            repo.get("full_name") if isinstance(repo, dict) else None,
            org.get("login") if isinstance(org, dict) else None,
        )
        if found:
            return found
    return tuple(t for tokens in secrets.scopes.values() for t in tokens)


def classify(checked: Checked) -> tuple[str, events.Work | None]:
    """``ping``, ``ignored`` or ``queue`` (with the parsed work) for a valid delivery."""
    if checked.payload is None:  # check_delivery passes only deliveries with a payload
        raise events.MalformedEvent("the payload is not a JSON object")
    if checked.event == "ping":
        return "ping", None
    action = checked.payload.get("action")
    if checked.event not in events.HANDLED or not events.wanted(
        checked.event, action if isinstance(action, str) else None
    ):
        return "ignored", None
    work = events.parse(checked.event, checked.payload)
    return ("queue", work) if work is not None else ("ignored", None)


def job_of(checked: Checked, body: bytes, work: events.Work) -> dict[str, Any]:
    """The queue row for a delivery worth working on."""
    return {
        "delivery_id": checked.delivery,
        "event": checked.event,
        "payload": body.decode("utf-8", "replace"),
        "action": str(checked.payload.get("action")) if checked.payload else None,
        "repo": work.repo,
        "number": work.number,
    }


def plugin_help(configured: Mapping[str, RepoSettings]) -> dict[str, Any]:
    """Prow's PluginHelp: what the bot does and each repository's settings."""
    config = {"": "Settings per repository: kubesift bot config OWNER/NAME"}
    for repo, s in configured.items():
        config[repo] = (
            f"families={','.join(s.families) or 'all'} target_precision="
            f"{s.target_precision} comment={s.comment} dry_run={s.dry_run}"
        )
    return {
        "Description": HELP_DESCRIPTION,
        "Config": config,
        "Events": ["issues", "pull_request", "status", "check_run"],
        "Commands": None,
    }


def create_app(
    engine: Engine,
    secrets: Secrets,
    *,
    on_queued: Callable[[], None] | None = None,
    max_body: int = MAX_BODY,
) -> Starlette:
    """The receiver; ``on_queued`` is called after each new job (to wake a worker)."""
    intake = Intake(engine)

    async def hook(request: Request) -> Response:
        try:
            body = await read_capped(request, max_body)
        except BodyTooLarge:
            return PlainTextResponse(
                f"413 Payload Too Large: over {max_body:,} bytes (GitHub sends at most 25 MB)", 413
            )
        checked = check_delivery(request.headers, body, secrets)
        if checked.status != 200:
            return PlainTextResponse(checked.message, checked.status)
        try:
            kind, work = classify(checked)
        except events.MalformedEvent as exc:
            return PlainTextResponse(f"400 Bad Request: {exc}", 400)
        if kind != "queue" or work is None:
            return PlainTextResponse(f"{kind}: {checked.event}", 200)
        fresh = await intake.submit(job_of(checked, body, work))
        if not fresh:
            return PlainTextResponse("duplicate delivery", 200)
        if on_queued is not None:
            on_queued()
        return PlainTextResponse(RECEIVED, 200)

    async def help_(request: Request) -> Response:
        with engine.connect() as conn:
            configured = records.all_settings(conn)
        return JSONResponse(plugin_help(configured), headers={"Cache-Control": "no-cache"})

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            Route("/", hook, methods=["POST"]),
            Route("/hook", hook, methods=["POST"]),
            Route("/help", help_, methods=["POST"]),
            Route("/healthz", health, methods=["GET"]),
            Route("/health", health, methods=["GET"]),
        ]
    )
