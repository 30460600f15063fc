"""GitHub REST routes of the fake: repositories, issues, events, labels, comments, apps."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from kubesift.testing import _payloads as P
from kubesift.testing._clock import parse_iso
from kubesift.testing._encode import Encoder, label_dict
from kubesift.testing._http import (
    DOC_LIST_ISSUES,
    ApiError,
    Request,
    Response,
    json_response,
    not_found,
    raw_response,
    validation_failed,
)
from kubesift.testing._repo import SORTS, STATES, FakeRepo, ListQuery, sort_key
from kubesift.testing.model import Item

if TYPE_CHECKING:
    from kubesift.testing.fakegithub import FakeGitHub

PAGE_WINDOW = 10_000
PAGINATION_422 = (
    "Pagination with the page parameter is not supported for large datasets, "
    "please use cursor based pagination (after/before)"
)
DOC_LABELS = "https://docs.github.com/rest/issues/labels"


@dataclass
class Ctx:
    """What a handler gets: the fake, the request, its repo and the route's captures."""

    fake: FakeGitHub
    req: Request
    enc: Encoder
    repo: FakeRepo | None
    args: tuple[str, ...]

    @property
    def r(self) -> FakeRepo:
        """The repository (repo routes only)."""
        if self.repo is None:  # a repository route always resolves one first
            raise not_found()
        return self.repo

    def number(self) -> int:
        """The issue number captured by the route."""
        return int(self.args[0])

    def actor(self) -> str:
        """The login acting on a mutating request; 401 when anonymous."""
        ident = self.req.identity
        if ident is None or ident.login is None or ident.kind == "anonymous":
            raise ApiError(401, "Requires authentication")
        return ident.login

    def app_id(self) -> int | None:
        """The app behind an installation token, if any."""
        return self.req.identity.app_id if self.req.identity else None


Handler = Callable[[Ctx], Response]


@dataclass(frozen=True)
class Route:
    """One route: ``name`` is the documented path pattern used in statistics."""

    method: str
    pattern: re.Pattern[str]
    name: str
    handler: Handler
    lists: bool = False
    app_only: bool = False
    repo: bool = True


# ----------------------------------------------------------------------------- helpers


def per_page_of(params: dict[str, str], default: int = 30) -> int:
    """``per_page`` clamped to 1..100 (junk means the default)."""
    try:
        value = int(params.get("per_page", default))
    except ValueError:
        return default
    return default if value < 1 else min(value, 100)


def _page_of(params: dict[str, str]) -> int:
    try:
        return max(int(params.get("page", "1")), 1)
    except ValueError:
        return 1


def encode_cursor(kind: str, key: int, ident: int) -> str:
    """An opaque ``after`` cursor for (sort key, id)."""
    raw = f"cursor:v2:{kind}:{key}:{ident}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, kind: str) -> tuple[int, int]:
    """(sort key, id) from a cursor of ``kind``; 422 when it is not one."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, version, got, key, ident = raw.split(":")
        if (prefix, version, got) != ("cursor", "v2", kind):
            raise ValueError(raw)
        return int(key), int(ident)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(
            422, "The `after` cursor is not valid for this request.", DOC_LIST_ISSUES
        ) from exc


def _kept_query(req: Request) -> str:
    parts = [
        p for p in req.query.split("&") if p and not p.startswith(("page=", "after=", "before="))
    ]
    return "&".join(parts)


def _link(url: str, query: str, extra: str) -> str:
    return f"{url}?{query}&{extra}" if query else f"{url}?{extra}"


def cursor_link(c: Ctx, sub: str, cursor: str | None) -> list[tuple[str, str]]:
    """The ``Link: <…after=…>; rel="next"`` header, or nothing on the last page."""
    if cursor is None:
        return []
    url = f"{c.enc.base}/repositories/{c.r.id}{sub}"
    return [("link", f'<{_link(url, _kept_query(c.req), "after=" + cursor)}>; rel="next"')]


def page_links(c: Ctx, url: str, page: int, more: bool, last: int | None) -> list[tuple[str, str]]:
    """GitHub's page-number ``Link`` header (prev, next, last, first)."""
    query = _kept_query(c.req)
    links = []
    if page > 1:
        links.append(f'<{_link(url, query, f"page={page - 1}")}>; rel="prev"')
    if more:
        links.append(f'<{_link(url, query, f"page={page + 1}")}>; rel="next"')
    if more and last is not None:
        links.append(f'<{_link(url, query, f"page={max(last, page + 1)}")}>; rel="last"')
    if page > 1:
        links.append(f'<{_link(url, query, "page=1")}>; rel="first"')
    return [("link", ", ".join(links))] if links else []


def _paged(
    c: Ctx,
    rows: Iterable[Any],
    per_page: int,
    total: int | None,
    url: str,
    render: Callable[[Any], str],
) -> Response:
    page = _page_of(c.req.params)
    start = (page - 1) * per_page
    chunk = list(islice(rows, start, start + per_page + 1))
    more = len(chunk) > per_page
    last = None if total is None else max((total + per_page - 1) // per_page, 1)
    body = "[" + ",".join(render(x) for x in chunk[:per_page]) + "]"
    return raw_response(body, headers=page_links(c, url, page, more, last))


def _json_list(text_items: Iterable[str]) -> str:
    return "[" + ",".join(text_items) + "]"


# ----------------------------------------------------------------------------- issues


def list_query(params: dict[str, str]) -> ListQuery:
    """Validate state/sort/direction/since/labels of an issues listing."""
    state = params.get("state", "open")
    sort = params.get("sort", "created")
    direction = params.get("direction", "desc")
    since = None
    if params.get("since"):
        try:
            since = parse_iso(params["since"])
        except ValueError as exc:
            raise validation_failed("Issue", "since", "invalid", doc=DOC_LIST_ISSUES) from exc
    labels = frozenset(n.strip().lower() for n in params.get("labels", "").split(",") if n.strip())
    return ListQuery(
        state if state in STATES else "open",
        sort if sort in SORTS else "created",
        direction if direction in ("asc", "desc") else "desc",
        since,
        labels,
    )


def list_issues(c: Ctx) -> Response:
    """``GET /repos/{o}/{r}/issues``: cursor pages by default, page numbers on request."""
    params, repo = c.req.params, c.r
    q = list_query(params)
    per_page = per_page_of(params)
    render: Callable[[Item], str] = lambda it: c.enc.item(repo, it)  # noqa: E731
    if "page" in params:
        if _page_of(params) * per_page > PAGE_WINDOW:
            raise ApiError(422, PAGINATION_422, DOC_LIST_ISSUES)
        url = f"{c.enc.base}/repositories/{repo.id}/issues"
        return _paged(c, repo.iter_items(q), per_page, repo.count(q), url, render)
    after = decode_cursor(params["after"], q.sort) if params.get("after") else None
    chunk = list(islice(repo.iter_items(q, after), per_page + 1))
    page = chunk[:per_page]
    cursor = None
    if len(chunk) > per_page:
        cursor = encode_cursor(q.sort, sort_key(page[-1], q.sort), page[-1].id)
    return raw_response(
        _json_list(render(it) for it in page), headers=cursor_link(c, "/issues", cursor)
    )


def get_issue(c: Ctx) -> Response:
    """``GET /repos/{o}/{r}/issues/{n}`` (with ``closed_by``)."""
    item = c.fake.get_item(c.r, c.number())
    return raw_response(c.enc.item(c.r, item, closed_by=True))


def create_issue(c: Ctx) -> Response:
    """``POST /repos/{o}/{r}/issues``."""
    data = c.req.json() or {}
    if not isinstance(data, dict) or not isinstance(data.get("title"), str):
        raise validation_failed("Issue", "title", "missing_field")
    actor = c.actor()
    item = c.fake.create_item(
        c.r,
        title=data["title"],
        body=data.get("body"),
        user=actor,
        labels=_names(data.get("labels") or []),
        assignees=data.get("assignees") or (),
    )
    location = f"{c.enc.prefix(c.r)}/issues/{item.number}"
    return raw_response(c.enc.item(c.r, item, closed_by=True), 201, [("location", location)])


def update_issue(c: Ctx) -> Response:
    """``PATCH /repos/{o}/{r}/issues/{n}``: title, body, state, labels."""
    data = c.req.json() or {}
    if not isinstance(data, dict):
        raise ApiError(400, "Problems parsing JSON")
    actor, n = c.actor(), c.number()
    c.fake.edit_item(
        c.r,
        n,
        title=data.get("title"),
        body=data.get("body"),
        state=data.get("state"),
        state_reason=data.get("state_reason"),
        actor=actor,
        app_id=c.app_id(),
    )
    if "labels" in data:
        c.fake.set_labels(c.r, n, _names(data["labels"]), actor=actor, app_id=c.app_id())
    return raw_response(c.enc.item(c.r, c.fake.get_item(c.r, n), closed_by=True))


# ----------------------------------------------------------------------------- events


def _event_text(c: Ctx, with_issue: bool) -> Callable[[Any], str]:
    apps: dict[int | None, str] = {None: "null"}

    def render(ev: Any) -> str:
        if ev.app_id not in apps:
            apps[ev.app_id] = P.app_json(c.fake, c.enc, ev.app_id)
        return c.enc.event(c.r, ev, with_issue=with_issue, app_json=apps[ev.app_id])

    return render


def list_repo_events(c: Ctx) -> Response:
    """``GET /repos/{o}/{r}/issues/events``: newest first, cursor pages."""
    params, repo = c.req.params, c.r
    per_page = per_page_of(params)
    render = _event_text(c, with_issue=True)
    if "page" in params:
        if _page_of(params) * per_page > PAGE_WINDOW:
            raise ApiError(
                422,
                PAGINATION_422,
                "https://docs.github.com/rest/issues/events#list-issue-events-for-a-repository",
            )
        url = f"{c.enc.base}/repositories/{repo.id}/issues/events"
        return _paged(c, repo.iter_events_desc(), per_page, len(repo.events), url, render)
    before = decode_cursor(params["after"], "events")[1] if params.get("after") else None
    chunk = list(islice(_alive(repo, repo.iter_events_desc(before)), per_page + 1))
    page = chunk[:per_page]
    cursor = encode_cursor("events", 0, page[-1].id) if len(chunk) > per_page else None
    return raw_response(
        _json_list(render(ev) for ev in page), headers=cursor_link(c, "/issues/events", cursor)
    )


def _alive(repo: FakeRepo, events: Iterator[Any]) -> Iterator[Any]:
    items = repo.items
    return (ev for ev in events if ev.number in items)


def get_event(c: Ctx) -> Response:
    """``GET /repos/{o}/{r}/issues/events/{id}``."""
    ev = c.r.find_event(int(c.args[0]))
    if ev is None or ev.number not in c.r.items:
        raise not_found("https://docs.github.com/rest/issues/events#get-an-issue-event")
    return raw_response(_event_text(c, with_issue=True)(ev))


def list_item_events(c: Ctx) -> Response:
    """``GET /repos/{o}/{r}/issues/{n}/events``: oldest first, page numbers."""
    n = c.number()
    c.fake.get_item(c.r, n)
    events = c.r.item_events.get(n, [])
    url = f"{c.enc.base}/repositories/{c.r.id}/issues/{n}/events"
    return _paged(
        c,
        iter(events),
        per_page_of(c.req.params),
        len(events),
        url,
        _event_text(c, with_issue=False),
    )


# ----------------------------------------------------------------------------- labels


def _names(raw: Any) -> list[str]:
    if isinstance(raw, dict):
        raw = raw.get("labels")
    if not isinstance(raw, list):
        raise validation_failed("Label", "labels", "invalid", doc=DOC_LABELS)
    out = []
    for entry in raw:
        name = entry.get("name") if isinstance(entry, dict) else entry
        if not isinstance(name, str) or not name:
            raise validation_failed("Label", "name", "invalid", doc=DOC_LABELS)
        out.append(name)
    return out


def _labels_text(c: Ctx, names: Iterable[str]) -> str:
    return _json_list(c.enc.label_obj(c.r, name) for name in names)


def item_labels(c: Ctx) -> Response:
    """``GET /repos/{o}/{r}/issues/{n}/labels``."""
    item = c.fake.get_item(c.r, c.number())
    return raw_response(_labels_text(c, item.labels))


def add_item_labels(c: Ctx) -> Response:
    """``POST /repos/{o}/{r}/issues/{n}/labels``: 200 with the full label list."""
    names = _names(c.req.json())
    labels = c.fake.add_labels(c.r, c.number(), names, actor=c.actor(), app_id=c.app_id())
    return raw_response(_labels_text(c, labels))


def set_item_labels(c: Ctx) -> Response:
    """``PUT /repos/{o}/{r}/issues/{n}/labels``: replace."""
    names = _names(c.req.json() or [])
    labels = c.fake.set_labels(c.r, c.number(), names, actor=c.actor(), app_id=c.app_id())
    return raw_response(_labels_text(c, labels))


def clear_item_labels(c: Ctx) -> Response:
    """``DELETE /repos/{o}/{r}/issues/{n}/labels``: 204."""
    c.fake.set_labels(c.r, c.number(), [], actor=c.actor(), app_id=c.app_id())
    return Response(204, json=False)


def remove_item_label(c: Ctx) -> Response:
    """``DELETE /repos/{o}/{r}/issues/{n}/labels/{name}`` (name percent-encoded)."""
    name = unquote(c.args[1])
    labels = c.fake.remove_label(c.r, c.number(), name, actor=c.actor(), app_id=c.app_id())
    return raw_response(_labels_text(c, labels))


def repo_labels(c: Ctx) -> Response:
    """``GET /repos/{o}/{r}/labels`` (page numbers)."""
    names = sorted(c.r.labels, key=str.lower)
    url = f"{c.enc.base}/repositories/{c.r.id}/labels"
    return _paged(
        c,
        iter(names),
        per_page_of(c.req.params),
        len(names),
        url,
        lambda name: c.enc.label_obj(c.r, name),
    )


def repo_label(c: Ctx) -> Response:
    """``GET /repos/{o}/{r}/labels/{name}``."""
    found = c.r.find_label(unquote(c.args[0]))
    if found is None:
        raise not_found("https://docs.github.com/rest/issues/labels#get-a-label")
    return json_response(label_dict(c.r.labels[found], c.enc.prefix(c.r)))


# ----------------------------------------------------------------------------- comments


def list_comments(c: Ctx) -> Response:
    """``GET /repos/{o}/{r}/issues/{n}/comments`` (``since`` on updated_at, page numbers)."""
    n = c.number()
    comments = c.fake.list_comments(c.r, n)
    since = c.req.params.get("since")
    if since:
        try:
            bound = parse_iso(since)
        except ValueError as exc:
            raise validation_failed("IssueComment", "since", "invalid") from exc
        comments = [x for x in comments if x.updated_at >= bound]
    url = f"{c.enc.base}/repositories/{c.r.id}/issues/{n}/comments"
    return _paged(
        c,
        iter(comments),
        per_page_of(c.req.params),
        len(comments),
        url,
        lambda x: c.enc.comment(c.r, x),
    )


def _comment_body(c: Ctx) -> Any:
    data = c.req.json()
    return data.get("body") if isinstance(data, dict) else None


def create_comment(c: Ctx) -> Response:
    """``POST /repos/{o}/{r}/issues/{n}/comments``: 201."""
    actor = c.actor()
    comment = c.fake.add_comment(c.r, c.number(), _comment_body(c), user=actor, app_id=c.app_id())
    location = f"{c.enc.prefix(c.r)}/issues/comments/{comment.id}"
    return raw_response(
        c.enc.comment(c.r, comment, P.app_json(c.fake, c.enc, comment.app_id)),
        201,
        [("location", location)],
    )


def get_comment(c: Ctx) -> Response:
    """``GET /repos/{o}/{r}/issues/comments/{id}``."""
    comment = c.fake.get_comment(c.r, int(c.args[0]))
    return raw_response(c.enc.comment(c.r, comment))


def edit_comment(c: Ctx) -> Response:
    """``PATCH /repos/{o}/{r}/issues/comments/{id}``."""
    c.actor()
    comment = c.fake.edit_comment(c.r, int(c.args[0]), _comment_body(c))
    return raw_response(c.enc.comment(c.r, comment))


def delete_comment(c: Ctx) -> Response:
    """``DELETE /repos/{o}/{r}/issues/comments/{id}``: 204."""
    c.actor()
    c.fake.delete_comment(c.r, int(c.args[0]))
    return Response(204, json=False)


# ----------------------------------------------------------------------------- the rest


def get_repo(c: Ctx) -> Response:
    """``GET /repos/{o}/{r}`` and ``GET /repositories/{id}``."""
    return json_response(P.repo_json(c.fake, c.enc, c.r))


def root(c: Ctx) -> Response:
    """``GET /``."""
    return json_response(P.root_json(c.enc.base))


def current_user(c: Ctx) -> Response:
    """``GET /user``: the token's user."""
    ident = c.req.identity
    if ident is None or ident.kind == "anonymous":
        raise ApiError(
            401,
            "Requires authentication",
            "https://docs.github.com/rest/users/users#get-the-authenticated-user",
        )
    if ident.kind != "user" or ident.login is None:
        raise ApiError(
            403,
            "Resource not accessible by integration",
            "https://docs.github.com/rest/users/users#get-the-authenticated-user",
        )
    return json_response(P.full_user_json(c.fake, c.enc, ident.login))


def get_user(c: Ctx) -> Response:
    """``GET /users/{login}``."""
    login = unquote(c.args[0])
    if login not in c.fake.users:
        raise not_found("https://docs.github.com/rest/users/users#get-a-user")
    return json_response(P.full_user_json(c.fake, c.enc, login))


def rate_limit(c: Ctx) -> Response:
    """``GET /rate_limit`` (free of charge)."""
    ident = c.req.identity
    if ident is None:  # the pipeline identifies every caller before routing
        raise ApiError(401, "Requires authentication")
    bucket = c.fake.credentials.bucket(
        ident, c.fake.rate_limit, c.fake.anonymous_rate_limit, c.fake.rate_window_seconds
    )
    return json_response(P.rate_limit_json(bucket, c.fake.clock.now()))
