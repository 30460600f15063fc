"""The one GitHub REST client: auth, retries, rate limits, ETags, ``Link`` pagination.

Requests are made one at a time, as GitHub asks of integrations. The transport and
the sleep function are injectable so tests can run it against a fake on loopback.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from ipaddress import ip_address
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from kubesift import __version__
from kubesift.errors import (
    AuthError,
    GitHubError,
    MalformedResponseError,
    NotFoundError,
    RateLimitError,
    UserError,
)
from kubesift.github.auth import Auth
from kubesift.github.policy import RateInfo, decide, parse_links, rate_info, shrink

WaitHook = Callable[[float, str], None]


@dataclass
class Response:
    status: int
    url: str
    headers: Mapping[str, str]
    data: Any
    rate: RateInfo

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def next_url(self) -> str | None:
        return parse_links(self.headers.get("link")).get("next")


@dataclass
class Stats:
    requests: int = 0
    not_modified: int = 0
    retries: int = 0
    waited: float = 0.0
    by_status: dict[int, int] = field(default_factory=dict)


def check_api_url(url: str) -> str:
    """``url`` without a trailing slash; https is required except on loopback."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UserError(f"--api-url must be an http(s) URL, not {url!r}")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise UserError(f"--api-url must use https (plain http only on loopback): {url}")
    return url.rstrip("/")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


class GitHubClient:
    """A synchronous GitHub REST client.

    ``client.get(path_or_url, params=..., etag=...)`` returns a :class:`Response`,
    waiting out rate limits and retrying transient faults; 304 answers are returned
    as they are (they cost no quota). Statuses in ``allow`` are returned instead of
    raised (e.g. 301/404/410 when probing single issues).
    """

    def __init__(
        self,
        api_url: str,
        auth: Auth | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        on_wait: WaitHook | None = None,
        max_wait: float = 3700.0,
        max_retries: int = 6,
        timeout: float = 60.0,
    ) -> None:
        self.api_url = check_api_url(api_url)
        self.auth = auth
        self.sleep = sleep
        self.on_wait = on_wait
        self.max_wait = max_wait
        self.max_retries = max_retries
        self.stats = Stats()
        self._refreshed = False
        self.rate = RateInfo(None, None, None)
        self._http = httpx.Client(
            transport=transport,
            timeout=timeout,
            follow_redirects=False,
            headers={
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": f"kubesift/{__version__}",
            },
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> GitHubClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def url_for(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        return urljoin(self.api_url + "/", path_or_url.lstrip("/"))

    def raw(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request without retries or auth handling (used by App auth itself)."""
        return self._http.request(method, self.url_for(path), **kwargs)

    def get(
        self,
        path_or_url: str,
        *,
        params: Mapping[str, Any] | None = None,
        etag: str | None = None,
        allow: tuple[int, ...] = (),
    ) -> Response:
        headers = {"If-None-Match": etag} if etag else {}
        return self.request("GET", path_or_url, params=params, headers=headers, allow=allow)

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        json_body: Any = None,
        allow: tuple[int, ...] = (),
    ) -> Response:
        url = self.url_for(path_or_url)
        attempt = 0
        while True:
            response = self._send(method, url, params, headers, json_body, attempt)
            if response is None:
                attempt += 1
                continue
            status = response.status_code
            if status in allow or status in (200, 201, 204, 304):
                return self._finish(response, url)
            if status == 401:
                self._unauthorized(response)
                attempt += 1
                continue
            url, attempt = self._retry_or_raise(response, url, attempt)

    def _send(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
        json_body: Any,
        attempt: int,
    ) -> httpx.Response | None:
        merged = dict(headers or {})
        if self.auth is not None:
            merged.update(self.auth.headers(self.raw))
        try:
            response = self._http.request(
                method, url, params=params, headers=merged, json=json_body
            )
        except httpx.TransportError as exc:
            if attempt >= self.max_retries:
                raise GitHubError(f"cannot reach {self.api_url}: {exc}") from exc
            self._wait(min(60.0, 2.0**attempt), f"network error: {type(exc).__name__}")
            return None
        self.stats.requests += 1
        self.stats.by_status[response.status_code] = (
            self.stats.by_status.get(response.status_code, 0) + 1
        )
        info = rate_info(response.headers)
        if info.remaining is not None:
            self.rate = info
        return response

    def _finish(self, response: httpx.Response, url: str) -> Response:
        if response.status_code == 304:
            self.stats.not_modified += 1
            data: Any = None
        elif response.status_code == 204 or not response.content:
            data = None
        else:
            data = _decode(response, url)
        return Response(response.status_code, str(response.url), response.headers, data, self.rate)

    def _unauthorized(self, response: httpx.Response) -> None:
        if self.auth is not None and self.auth.refreshable and not self._refreshed:
            # Installation tokens expire; one fresh token is worth a retry.
            self._refreshed = True
            self.auth.invalidate()
            return
        hint = "check GITHUB_TOKEN / --token-file" if self.auth else "this needs a token"
        raise AuthError(
            f"GitHub rejected the credentials (401 {_message_of(response) or 'Unauthorized'}); "
            f"{hint}",
            status=401,
        )

    def _retry_or_raise(self, response: httpx.Response, url: str, attempt: int) -> tuple[str, int]:
        message = _message_of(response)
        status = response.status_code
        if status == 404:
            raise NotFoundError(f"not found on GitHub: {_path_of(url)}", status=404)
        if status == 422 and "pagination" in message.lower():
            raise GitHubError(f"GitHub refused the page ({message})", status=422)
        decision = decide(
            status, response.headers, message, attempt, time.time(), max_retries=self.max_retries
        )
        if decision.action == "fail":
            raise GitHubError(
                f"GitHub answered {status} for {_path_of(url)}: {decision.reason}", status
            )
        if decision.wait > self.max_wait:
            reset = time.strftime("%H:%M:%S", time.localtime(time.time() + decision.wait))
            raise RateLimitError(
                f"{decision.reason}: GitHub asks to wait {decision.wait:.0f} s (until {reset}), "
                f"more than --max-wait {self.max_wait:.0f} s; run again later, it resumes",
                status,
            )
        if decision.shrink_page:
            smaller = shrink(url)
            if smaller is not None:
                url = smaller
        self.stats.retries += 1
        self._wait(decision.wait, decision.reason)
        return url, attempt + 1

    def _wait(self, seconds: float, reason: str) -> None:
        if self.on_wait is not None:
            self.on_wait(seconds, reason)
        self.stats.waited += seconds
        self.sleep(seconds)


def _decode(response: httpx.Response, url: str) -> Any:
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedResponseError(
            f"GitHub sent a malformed body for {_path_of(url)} "
            f"(status {response.status_code}, {len(response.content)} bytes): {exc}"
        ) from exc


def _message_of(response: httpx.Response) -> str:
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        return ""
    return str(body.get("message", "")) if isinstance(body, dict) else ""


def _path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
