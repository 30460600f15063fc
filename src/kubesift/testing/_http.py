"""Request/response records and GitHub-style errors shared by the fake's layers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from kubesift.testing._auth import Identity

DOCS_REST = "https://docs.github.com/rest"
DOC_GET_ISSUE = "https://docs.github.com/rest/issues/issues#get-an-issue"
DOC_LIST_ISSUES = "https://docs.github.com/rest/issues/issues#list-repository-issues"
DOC_GET_REPO = "https://docs.github.com/rest/repos/repos#get-a-repository"
DOC_RATE = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
DOC_SECONDARY = (
    "https://docs.github.com/free-pro-team@latest/rest/overview/"
    "rate-limits-for-the-rest-api#about-secondary-rate-limits"
)


class ApiError(Exception):
    """An error the fake answers with GitHub's JSON error shape.

    ``moved`` (target repository id, number, suffix) turns it into a 301 whose
    ``Location`` the HTTP layer builds from the request's base URL.
    """

    def __init__(
        self,
        status: int,
        message: str,
        documentation_url: str = DOCS_REST,
        *,
        errors: list[dict[str, Any]] | None = None,
        moved: tuple[int, int] | None = None,
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.documentation_url = documentation_url
        self.errors = errors
        self.moved = moved
        self.headers = headers or []

    def payload(self) -> dict[str, Any]:
        """The JSON body."""
        out: dict[str, Any] = {"message": self.message}
        if self.errors is not None:
            out["errors"] = self.errors
        out["documentation_url"] = self.documentation_url
        return out


def not_found(doc: str = DOCS_REST) -> ApiError:
    """GitHub's 404."""
    return ApiError(404, "Not Found", doc)


def validation_failed(
    resource: str, field_name: str, code: str, message: str | None = None, doc: str = DOCS_REST
) -> ApiError:
    """GitHub's 422 ``Validation Failed`` with one error entry."""
    entry: dict[str, Any] = {"resource": resource, "code": code, "field": field_name}
    if message is not None:
        entry["message"] = message
    return ApiError(422, "Validation Failed", doc, errors=[entry])


@dataclass
class Request:
    """An HTTP request as the fake sees it (``path`` is still percent-encoded)."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes = b""
    client: str = "127.0.0.1"
    base: str = "http://127.0.0.1"
    identity: Identity | None = None
    params: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.params and self.query:
            self.params = dict(parse_qsl(self.query, keep_blank_values=True))

    @property
    def target(self) -> str:
        """Path plus query, as faults match it."""
        return f"{self.path}?{self.query}" if self.query else self.path

    def json(self) -> Any:
        """The body parsed as JSON (``None`` when empty); 400 when it is not JSON."""
        if not self.body.strip():
            return None
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise ApiError(400, "Problems parsing JSON") from exc


@dataclass
class Response:
    """What a handler answers; the pipeline adds GitHub's headers."""

    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    json: bool = True


def json_response(
    data: Any, status: int = 200, headers: list[tuple[str, str]] | None = None
) -> Response:
    """A response with ``data`` as compact JSON."""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(status, body, headers or [])


def raw_response(
    text: str, status: int = 200, headers: list[tuple[str, str]] | None = None
) -> Response:
    """A response whose body is already-rendered JSON text."""
    return Response(status, text.encode(), headers or [])
