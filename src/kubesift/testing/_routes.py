"""The fake's route table: which handler answers which method and path."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from kubesift.testing._app_handlers import (
    create_access_token,
    get_app,
    get_installation,
    installation_repos,
    list_installations,
    repo_installation,
)
from kubesift.testing._handlers import (
    Handler,
    Route,
    add_item_labels,
    clear_item_labels,
    create_comment,
    create_issue,
    current_user,
    delete_comment,
    edit_comment,
    get_comment,
    get_event,
    get_issue,
    get_repo,
    get_user,
    item_labels,
    list_comments,
    list_issues,
    list_item_events,
    list_repo_events,
    rate_limit,
    remove_item_label,
    repo_label,
    repo_labels,
    root,
    set_item_labels,
    update_issue,
)


def _r(method: str, path: str, name: str, handler: Handler, **flags: bool) -> Route:
    return Route(method, re.compile(f"^{path}$"), name, handler, **flags)


REPO_ROUTES: tuple[Route, ...] = (
    _r("GET", "", "", get_repo),
    _r("GET", "/issues", "/issues", list_issues, lists=True),
    _r("POST", "/issues", "/issues", create_issue),
    _r("GET", "/issues/events", "/issues/events", list_repo_events, lists=True),
    _r("GET", r"/issues/events/(\d+)", "/issues/events/{event_id}", get_event),
    _r("GET", r"/issues/comments/(\d+)", "/issues/comments/{comment_id}", get_comment),
    _r("PATCH", r"/issues/comments/(\d+)", "/issues/comments/{comment_id}", edit_comment),
    _r("DELETE", r"/issues/comments/(\d+)", "/issues/comments/{comment_id}", delete_comment),
    _r("GET", r"/issues/(\d+)", "/issues/{number}", get_issue),
    _r("PATCH", r"/issues/(\d+)", "/issues/{number}", update_issue),
    _r("GET", r"/issues/(\d+)/events", "/issues/{number}/events", list_item_events, lists=True),
    _r("GET", r"/issues/(\d+)/labels", "/issues/{number}/labels", item_labels),
    _r("POST", r"/issues/(\d+)/labels", "/issues/{number}/labels", add_item_labels),
    _r("PUT", r"/issues/(\d+)/labels", "/issues/{number}/labels", set_item_labels),
    _r("DELETE", r"/issues/(\d+)/labels", "/issues/{number}/labels", clear_item_labels),
    _r("DELETE", r"/issues/(\d+)/labels/(.+)", "/issues/{number}/labels/{name}", remove_item_label),
    _r("GET", r"/issues/(\d+)/comments", "/issues/{number}/comments", list_comments, lists=True),
    _r("POST", r"/issues/(\d+)/comments", "/issues/{number}/comments", create_comment),
    _r("GET", "/labels", "/labels", repo_labels, lists=True),
    _r("GET", r"/labels/(.+)", "/labels/{name}", repo_label),
    _r("GET", "/installation", "/installation", repo_installation, app_only=True),
)
TOP_ROUTES: tuple[Route, ...] = (
    _r("GET", "/", "/", root, repo=False),
    _r("GET", "/user", "/user", current_user, repo=False),
    _r("GET", "/users/([^/]+)", "/users/{username}", get_user, repo=False),
    _r("GET", "/rate_limit", "/rate_limit", rate_limit, repo=False),
    _r("GET", "/app", "/app", get_app, repo=False, app_only=True),
    _r(
        "GET",
        "/app/installations",
        "/app/installations",
        list_installations,
        repo=False,
        app_only=True,
    ),
    _r(
        "GET",
        r"/app/installations/(\d+)",
        "/app/installations/{installation_id}",
        get_installation,
        repo=False,
        app_only=True,
    ),
    _r(
        "POST",
        r"/app/installations/(\d+)/access_tokens",
        "/app/installations/{installation_id}/access_tokens",
        create_access_token,
        repo=False,
        app_only=True,
    ),
    _r(
        "GET",
        "/installation/repositories",
        "/installation/repositories",
        installation_repos,
        repo=False,
    ),
)
REPO_PREFIX = re.compile(
    r"^/(?:repos/(?P<owner>[^/]+)/(?P<name>[^/]+)|repositories/(?P<rid>\d+))(?P<rest>/.*)?$"
)


@dataclass(frozen=True)
class Match:
    """A resolved route: which one, its captures, and how the repo was addressed."""

    route: Route
    args: tuple[str, ...]
    owner: str | None = None
    name: str | None = None
    repo_id: int | None = None

    @property
    def stats_name(self) -> str:
        """``/repos/{owner}/{repo}/…`` for both ways of addressing a repository."""
        return ("/repos/{owner}/{repo}" + self.route.name) if self.route.repo else self.route.name


def resolve(method: str, path: str) -> Match | None:
    """Find the route for a (still percent-encoded) path."""
    path = path.rstrip("/") or "/"
    prefix = REPO_PREFIX.match(path)
    if prefix is not None:
        rest = (prefix["rest"] or "").rstrip("/")
        for route in REPO_ROUTES:
            m = route.pattern.match(rest)
            if m and route.method == method:
                rid = prefix["rid"]
                return Match(
                    route,
                    m.groups(),
                    unquote(prefix["owner"] or "") or None,
                    unquote(prefix["name"] or "") or None,
                    int(rid) if rid else None,
                )
        return None
    for route in TOP_ROUTES:
        m = route.pattern.match(path)
        if m and route.method == method:
            return Match(route, m.groups())
    return None
