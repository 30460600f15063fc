"""GitHub App routes of the fake: the app, its installations and installation tokens."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kubesift.testing import _payloads as P
from kubesift.testing._clock import iso
from kubesift.testing._http import (
    ApiError,
    Response,
    json_response,
    not_found,
)

if TYPE_CHECKING:
    pass

from kubesift.testing._handlers import Ctx


def repo_installation(c: Ctx) -> Response:
    """``GET /repos/{o}/{r}/installation`` (app JWT)."""
    app = c.fake.credentials.apps[c.app_id() or 0]
    for inst in app.installations.values():
        if inst.covers(c.r.full_name):
            return json_response(P.installation_json(c.fake, c.enc, app, inst))
    raise not_found(
        "https://docs.github.com/rest/apps/apps"
        "#get-a-repository-installation-for-the-authenticated-app"
    )


def get_app(c: Ctx) -> Response:
    """``GET /app`` (app JWT)."""
    app = c.fake.credentials.apps[c.app_id() or 0]
    return json_response(P.app_dict(c.fake, c.enc, app))


def list_installations(c: Ctx) -> Response:
    """``GET /app/installations`` (app JWT)."""
    app = c.fake.credentials.apps[c.app_id() or 0]
    return json_response(
        [P.installation_json(c.fake, c.enc, app, i) for i in app.installations.values()]
    )


def _installation(c: Ctx) -> Any:
    app = c.fake.credentials.apps[c.app_id() or 0]
    inst = app.installations.get(int(c.args[0]))
    if inst is None:
        raise not_found(
            "https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app"
        )
    return app, inst


def get_installation(c: Ctx) -> Response:
    """``GET /app/installations/{id}`` (app JWT)."""
    app, inst = _installation(c)
    return json_response(P.installation_json(c.fake, c.enc, app, inst))


def create_access_token(c: Ctx) -> Response:
    """``POST /app/installations/{id}/access_tokens``: 201 with a one-hour ``ghs_`` token."""
    app, inst = _installation(c)
    token, expires = c.fake.credentials.issue_installation_token(app, inst)
    return json_response(
        {
            "token": token,
            "expires_at": iso(expires),
            "permissions": dict(inst.permissions),
            "repository_selection": "all" if inst.repositories is None else "selected",
        },
        201,
    )


def installation_repos(c: Ctx) -> Response:
    """``GET /installation/repositories`` (installation token)."""
    ident = c.req.identity
    if ident is None or ident.kind != "installation":
        raise ApiError(
            403,
            "You must authenticate with an installation access token in order "
            "to list repositories for an installation.",
        )
    app = c.fake.credentials.apps[ident.app_id or 0]
    inst = app.installations[ident.installation_id or 0]
    repos = [
        P.repo_json(c.fake, c.enc, r) for r in c.fake.repos.values() if inst.covers(r.full_name)
    ]
    return json_response(
        {
            "total_count": len(repos),
            "repository_selection": "all" if inst.repositories is None else "selected",
            "repositories": repos,
        }
    )
