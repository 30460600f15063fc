"""The one GitHub REST client: auth, retries, rate limits, ETags, ``Link`` pagination.

Requests are made one at a time, as GitHub asks of integrations. What to do with each
answer is :func:`kubesift.github.policy.answer` (pure); the transport, the sleep function
and the clock are injected, so tests run it against the fake in process or on loopback.
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
    GitHubError,
    MalformedResponseError,
    UserError,
)
from kubesift.github.auth import Auth
from kubesift.github.policy import Attempt, RateInfo, answer, parse_links, rate_info, shrink
from kubesift.retry import backoff

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
        clock: Callable[[], float] = time.time,
        on_wait: WaitHook | None = None,
        max_wait: float = 3700.0,
        max_retries: int = 6,
        timeout: float = 60.0,
    ) -> None:
        self.api_url = check_api_url(api_url)
        self.auth = auth
        self.sleep = sleep
        self.clock = clock
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
            outcome = answer(
                response.status_code,
                response.headers,
                response.content,
                self._attempt(url, attempt, allow),
            )
            if outcome.step == "return":
                return self._finish(response, url)
            if outcome.step == "raise" and outcome.error is not None:
                raise outcome.error
            if outcome.step == "refresh" and self.auth is not None:
                self._refreshed = True
                self.auth.invalidate()
            else:
                url = (shrink(url) or url) if outcome.shrink_page else url
                self.stats.retries += 1
                self._wait(outcome.seconds, outcome.reason)
            attempt += 1

    def _attempt(self, url: str, attempt: int, allow: tuple[int, ...]) -> Attempt:
        return Attempt(
            path=_path_of(url),
            attempt=attempt,
            now=self.clock(),
            allow=allow,
            has_auth=self.auth is not None,
            can_refresh=self.auth is not None and self.auth.refreshable and not self._refreshed,
            max_retries=self.max_retries,
            max_wait=self.max_wait,
        )

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
            self._wait(backoff(attempt), f"network error: {type(exc).__name__}")
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


def _path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
