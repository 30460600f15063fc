"""The ASGI front of the fake: auth, quotas, faults, routing, ETags, GitHub's headers."""

from __future__ import annotations

import asyncio
import hashlib
import re
from typing import TYPE_CHECKING, Any

from kubesift.testing._auth import AuthFailure, Bucket, Identity, parse_authorization
from kubesift.testing._control import handle_control
from kubesift.testing._faults import Fault
from kubesift.testing._handlers import Ctx, per_page_of
from kubesift.testing._http import (
    DOC_GET_ISSUE,
    DOC_RATE,
    DOC_SECONDARY,
    DOCS_REST,
    ApiError,
    Request,
    Response,
    json_response,
)
from kubesift.testing._routes import Match, resolve

if TYPE_CHECKING:
    from kubesift.testing.fakegithub import FakeGitHub

JSON_TYPE = "application/json; charset=utf-8"
EXPOSE = (
    "ETag, Link, Location, Retry-After, X-GitHub-OTP, X-RateLimit-Limit, "
    "X-RateLimit-Remaining, X-RateLimit-Used, X-RateLimit-Resource, X-RateLimit-Reset, "
    "X-OAuth-Scopes, X-Accepted-OAuth-Scopes, X-Poll-Interval, X-GitHub-Media-Type, "
    "X-GitHub-SSO, X-GitHub-Request-Id, Deprecation, Sunset"
)
STATIC_HEADERS = (
    ("vary", "Accept, Authorization, Cookie, X-GitHub-OTP"),
    ("vary", "Accept-Encoding, Accept, X-Requested-With"),
    ("x-github-media-type", "github.v3; format=json"),
    ("x-github-api-version-selected", "2022-11-28"),
    ("access-control-expose-headers", EXPOSE),
    ("access-control-allow-origin", "*"),
    ("strict-transport-security", "max-age=31536000; includeSubdomains; preload"),
    ("x-frame-options", "deny"),
    ("x-content-type-options", "nosniff"),
    ("x-xss-protection", "0"),
    ("referrer-policy", "origin-when-cross-origin, strict-origin-when-cross-origin"),
    ("content-security-policy", "default-src 'none'"),
)
SERVER_ERRORS = {
    500: "Server Error",
    502: "Server Error",
    503: "Service Unavailable",
    504: "We couldn't respond to your request in time. Sorry about that. Please try "
    "resubmitting your request and contact us if the problem persists.",
}
#: GitHub Enterprise Server serves the REST API under this path.
ENTERPRISE_PREFIX = "/api/v3"
_ISSUE_PATH = re.compile(r"^.*?/issues/\d+")


class FakeGitHubASGI:
    """ASGI callable around a :class:`~kubesift.testing.FakeGitHub` (``.fake``)."""

    def __init__(self, fake: FakeGitHub) -> None:
        self.fake = fake
        self._request_no = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        req = await _read_request(scope, receive)
        if req.path == "/_fake" or req.path.startswith("/_fake/"):
            resp = handle_control(self.fake, req)
            if resp.body:
                resp.headers.append(("content-type", JSON_TYPE))
            await _send(send, resp)
            return
        delay, resp = self.process(req)
        if delay > 0:
            await asyncio.sleep(delay)
        await _send(send, resp)

    # ----------------------------------------------------------------- pipeline

    def process(self, req: Request) -> tuple[float, Response]:
        """Answer one GitHub API request (synchronously, under the fake's lock)."""
        fake = self.fake
        with fake.lock:
            self._request_no += 1
            rid = _request_id(self._request_no, fake.clock.now())
            match = resolve(req.method, req.path)
            route_name = match.stats_name if match else "(unknown)"
            try:
                ident = self._identify(req)
            except AuthFailure as exc:
                anon = Identity("anonymous", None, f"ip:{req.client}", "")
                resp = json_response(
                    {"message": exc.message, "documentation_url": DOCS_REST}, exc.status
                )
                return 0.0, self._finish(req, resp, anon, route_name, rid, consumed=False)
            req.identity = ident
            lists = match is not None and match.route.lists
            per_page = per_page_of(req.params) if lists else None
            delay, fault = fake.faults.pick(req.method, req.target, per_page)
            if fault is not None and fault.kind == "exhaust":
                self._exhaust(ident, fault.seconds)
            resp, consumed = self._answer(req, match, ident, fault, rid)
            if fault is not None and fault.kind == "malformed" and resp.status == 200:
                resp.body = resp.body[: max(len(resp.body) // 2, 1)]
            out = self._finish(
                req, resp, ident, route_name, rid, consumed, fault.kind if fault else None
            )
            return delay, out

    def _identify(self, req: Request) -> Identity:
        fake = self.fake
        credential = parse_authorization(req.headers.get("authorization"))
        ident = fake.credentials.identify(credential, req.client, fake.user_id)
        if ident.kind == "anonymous" and fake.require_auth:
            raise AuthFailure(401, "Requires authentication")
        return ident

    def _bucket(self, ident: Identity) -> Bucket:
        fake = self.fake
        return fake.credentials.bucket(
            ident, fake.rate_limit, fake.anonymous_rate_limit, fake.rate_window_seconds
        )

    def _exhaust(self, ident: Identity, seconds: float) -> None:
        bucket = self._bucket(ident)
        bucket.used = bucket.limit
        bucket.reset_at = self.fake.clock.now() + seconds

    def _answer(
        self, req: Request, match: Match | None, ident: Identity, fault: Fault | None, rid: str
    ) -> tuple[Response, bool]:
        """The response and whether it costs quota."""
        free = match is not None and match.route.name == "/rate_limit"
        if fault is not None and fault.kind in ("status", "per_page_limit", "secondary"):
            return _fault_response(fault, rid), False
        if not free and self._bucket(ident).remaining == 0:
            return _rate_limited(ident, req.client, rid), False
        resp = self._dispatch(req, match, ident)
        if resp.status == 200 and req.method == "GET" and resp.json:
            etag = self._etag(ident, resp.body)
            resp.headers.append(("etag", etag))
            if _etag_matches(req.headers.get("if-none-match"), etag):
                return Response(304, b"", [("etag", etag)], json=False), False
        return resp, not free and resp.status < 500

    def _dispatch(self, req: Request, match: Match | None, ident: Identity) -> Response:
        fake = self.fake
        if match is None:
            return json_response({"message": "Not Found", "documentation_url": DOCS_REST}, 404)
        try:
            if match.route.app_only and ident.kind != "app":
                raise ApiError(401, "A JSON web token could not be decoded")
            if ident.kind == "app" and not match.route.app_only:
                raise ApiError(403, "Resource not accessible by integration")
            repo = None
            if match.route.repo:
                repo = (
                    fake.repo_by_id(match.repo_id)
                    if match.repo_id is not None
                    else fake.repo(f"{match.owner}/{match.name}")
                )
            ctx = Ctx(fake, req, fake.encoder(req.base), repo, match.args)
            return match.route.handler(ctx)
        except ApiError as exc:
            return self._error(req, exc)

    def _error(self, req: Request, exc: ApiError) -> Response:
        if exc.moved is None:
            return json_response(exc.payload(), exc.status, list(exc.headers))
        target_id, number = exc.moved
        suffix = _ISSUE_PATH.sub("", req.path)
        location = f"{req.base}/repositories/{target_id}/issues/{number}{suffix}"
        body = {"message": "Moved Permanently", "url": location, "documentation_url": DOC_GET_ISSUE}
        return json_response(body, 301, [("location", location)])

    def _etag(self, ident: Identity, body: bytes) -> str:
        digest = hashlib.sha256()
        if self.fake.etag_varies_by_token:
            digest.update(ident.credential.encode())
        digest.update(body)
        return f'W/"{digest.hexdigest()}"'

    def _finish(
        self,
        req: Request,
        resp: Response,
        ident: Identity,
        route: str,
        rid: str,
        consumed: bool,
        fault: str | None = None,
    ) -> Response:
        fake = self.fake
        bucket = self._bucket(ident)
        if consumed:
            bucket.used += 1
        headers = [("date", fake.clock.http_date())]
        if resp.body and resp.json:
            headers.append(("content-type", JSON_TYPE))
        headers.append(
            (
                "cache-control",
                "private, max-age=60, s-maxage=60"
                if ident.kind != "anonymous"
                else "public, max-age=60, s-maxage=60",
            )
        )
        headers.extend(STATIC_HEADERS)
        if ident.kind == "user":
            headers += [("x-oauth-scopes", "repo"), ("x-accepted-oauth-scopes", "repo")]
        headers += [
            ("x-ratelimit-limit", str(bucket.limit)),
            ("x-ratelimit-remaining", str(bucket.remaining)),
            ("x-ratelimit-reset", str(int(bucket.reset_at))),
            ("x-ratelimit-used", str(min(bucket.used, bucket.limit))),
            ("x-ratelimit-resource", "core"),
            ("x-github-request-id", rid),
        ]
        resp.headers = headers + resp.headers
        fake.stats.record(
            req.method,
            route,
            req.target,
            resp.status,
            consumed=consumed,
            who=ident.login or ident.bucket,
            fault=fault,
            at=fake.clock.now(),
        )
        return resp


# --------------------------------------------------------------------------- responses


def _fault_response(fault: Fault, rid: str) -> Response:
    if fault.kind == "secondary":
        message = fault.message or (
            "You have exceeded a secondary rate limit. Please wait a few minutes before you "
            f"try again. If you reach out to GitHub Support for help, please include the "
            f"request ID {rid}."
        )
        return json_response(
            {"message": message, "documentation_url": DOC_SECONDARY},
            fault.status or 403,
            [("retry-after", str(int(fault.seconds)))],
        )
    status = fault.status or 502
    message = fault.message or SERVER_ERRORS.get(status, "Server Error")
    return json_response({"message": message}, status)


def _rate_limited(ident: Identity, client: str, rid: str) -> Response:
    if ident.kind == "anonymous":
        who = (
            f"{client}. (But here's the good news: Authenticated requests get a higher "
            "rate limit. Check out the documentation for more details.)"
        )
    elif ident.kind == "installation":
        who = f"installation ID {ident.installation_id}."
    else:
        who = f"user ID {ident.user_id}."
    message = (
        f"API rate limit exceeded for {who} If you reach out to GitHub Support for "
        f"help, please include the request ID {rid}."
    )
    return json_response({"message": message, "documentation_url": DOC_RATE}, 403)


def _etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    bare = etag.removeprefix("W/")
    for candidate in header.split(","):
        value = candidate.strip()
        if value == "*" or value.removeprefix("W/") == bare:
            return True
    return False


def _request_id(n: int, now: float) -> str:
    return (
        f"{(n * 40503) & 0xFFFF:04X}:{(n * 7919) & 0xFFFFF:05X}:"
        f"{(n * 104729) & 0xFFFFFFF:07X}:{(n * 1299709) & 0xFFFFFFF:07X}:{int(now):08X}"
    )


# --------------------------------------------------------------------------- ASGI plumbing


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _read_request(scope: dict[str, Any], receive: Any) -> Request:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", []):
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    raw_path = scope.get("raw_path") or scope["path"].encode()
    host = headers.get("host")
    if not host:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    client = (scope.get("client") or ("127.0.0.1", 0))[0]
    return make_request(
        scope["method"],
        raw_path.decode("latin-1"),
        scope.get("query_string", b"").decode(),
        headers,
        b"".join(chunks),
        client,
        f"{scope.get('scheme', 'http')}://{host}",
    )


def make_request(
    method: str, path: str, query: str, headers: dict[str, str], body: bytes, client: str, base: str
) -> Request:
    """A :class:`Request`; GitHub Enterprise's ``/api/v3`` prefix is accepted, and the
    URLs the fake answers with (``Link``, ``url`` fields) keep it."""
    path = path.split("?", 1)[0]
    if path == ENTERPRISE_PREFIX or path.startswith(ENTERPRISE_PREFIX + "/"):
        path = path[len(ENTERPRISE_PREFIX) :] or "/"
        base += ENTERPRISE_PREFIX
    return Request(method.upper(), path, query, headers, body, client, base)


async def _send(send: Any, resp: Response) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in resp.headers]
    headers.append((b"content-length", str(len(resp.body)).encode()))
    await send({"type": "http.response.start", "status": resp.status, "headers": headers})
    await send({"type": "http.response.body", "body": resp.body})


__all__ = ["ENTERPRISE_PREFIX", "FakeGitHubASGI", "make_request"]
