"""The fake's own control API under ``/_fake/`` (not GitHub's): drive it from another process."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kubesift.testing._clock import iso
from kubesift.testing._faults import Fault
from kubesift.testing._http import ApiError, Request, Response, json_response

if TYPE_CHECKING:
    from kubesift.testing.fakegithub import FakeGitHub

_CONFIG_KEYS = {
    "require_auth": bool,
    "rate_limit": int,
    "anonymous_rate_limit": int,
    "rate_window_seconds": float,
    "etag_varies_by_token": bool,
}


def handle_control(fake: FakeGitHub, req: Request) -> Response:
    """Answer one ``/_fake/...`` request; bad input gives 400 ``{"message": ...}``."""
    handler = _ROUTES.get((req.method, req.path.rstrip("/")))
    if handler is None:
        return json_response({"message": "Not Found"}, 404)
    try:
        with fake.lock:
            return handler(fake, req)
    except ApiError as exc:
        return json_response(exc.payload(), exc.status)
    except (ValueError, KeyError, TypeError) as exc:
        return json_response({"message": f"bad control request: {exc}"}, 400)


def _body(req: Request) -> dict[str, Any]:
    data = req.json()
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return data


def _post_fault(fake: FakeGitHub, req: Request) -> Response:
    fault = fake.inject(Fault.from_json(_body(req)))
    return json_response(fault.to_json(), 201)


def _get_faults(fake: FakeGitHub, req: Request) -> Response:
    return json_response([f.to_json() for f in fake.faults.active()])


def _delete_faults(fake: FakeGitHub, req: Request) -> Response:
    fake.clear_faults()
    return Response(204, json=False)


def _clock(fake: FakeGitHub, req: Request) -> Response:
    data = _body(req) if req.method == "POST" else {}
    if "advance" in data:
        fake.clock.advance(float(data["advance"]))
    if "speed" in data:
        fake.clock.set_speed(float(data["speed"]))
    now = fake.clock.now()
    return json_response({"now": now, "iso": iso(now), "speed": fake.clock.speed})


def _stats(fake: FakeGitHub, req: Request) -> Response:
    return json_response(fake.stats.snapshot())


def _stats_reset(fake: FakeGitHub, req: Request) -> Response:
    fake.stats.reset()
    return json_response(fake.stats.snapshot())


def _requests(fake: FakeGitHub, req: Request) -> Response:
    limit = int(req.params.get("limit", "100"))
    log = list(fake.stats.log)
    return json_response(log[-limit:] if limit > 0 else [])


def _tokens(fake: FakeGitHub, req: Request) -> Response:
    data = _body(req)
    login = str(data["login"])
    token = data.get("token")
    if token:
        fake.add_token(str(token), login)
    else:
        token = fake.new_token(login)
    return json_response({"token": token, "login": login}, 201)


def _config(fake: FakeGitHub, req: Request) -> Response:
    data = _body(req) if req.method == "POST" else {}
    for key, value in data.items():
        if key not in _CONFIG_KEYS:
            raise ValueError(f"unknown setting {key!r}")
        setattr(fake, key, _CONFIG_KEYS[key](value))
    return json_response({k: getattr(fake, k) for k in _CONFIG_KEYS})


def _apps(fake: FakeGitHub, req: Request) -> Response:
    data = _body(req)
    app = fake.add_app(
        int(data.get("app_id", 123456)),
        public_key_pem=data.get("public_key_pem"),
        slug=str(data.get("slug", "kubesift-test")),
        installation_id=data.get("installation_id"),
        account=str(data.get("account", "kubernetes")),
        repositories=data.get("repositories"),
        client_id=data.get("client_id"),
    )
    return json_response(
        {
            "app_id": app.app_id,
            "slug": app.slug,
            "installation_id": next(iter(app.installations)),
            "private_key_pem": app.private_key_pem,
        },
        201,
    )


def _mutate(fake: FakeGitHub, req: Request) -> Response:
    return json_response(apply_mutation(fake, _body(req)))


def apply_mutation(fake: FakeGitHub, payload: dict[str, Any]) -> dict[str, Any]:
    """Run one mutation described as JSON (see ``FakeGitHub.mutate``)."""
    action = payload.get("action")
    repo = str(payload["repo"])
    actor = str(payload.get("actor", "octocat"))
    if action == "touch":
        numbers = fake.touch(repo, int(payload.get("count", 1)), seed=int(payload.get("seed", 0)))
        return {"action": action, "numbers": numbers}
    if action == "create":
        item = fake.create_item(
            repo,
            kind=str(payload.get("kind", "issue")),
            title=str(payload.get("title", "")),
            body=payload.get("body"),
            user=str(payload.get("user", actor)),
            labels=payload.get("labels") or (),
            actor=payload.get("actor"),
        )
        return {"action": action, "number": item.number, "id": item.id}
    number = int(payload["number"])
    if action == "add_label":
        labels = fake.add_labels(repo, number, [str(payload["label"])], actor=actor)
        return {"action": action, "number": number, "labels": list(labels)}
    if action == "remove_label":
        labels = fake.remove_label(repo, number, str(payload["label"]), actor=actor)
        return {"action": action, "number": number, "labels": list(labels)}
    if action == "delete":
        fake.delete_item(repo, number)
        return {"action": action, "number": number}
    if action == "transfer":
        target, new_number = fake.transfer_item(repo, number, payload.get("target"))
        return {"action": action, "number": number, "target": target, "target_number": new_number}
    if action == "edit":
        item = fake.edit_item(
            repo,
            number,
            title=payload.get("title"),
            body=payload.get("body"),
            state=payload.get("state"),
            state_reason=payload.get("state_reason"),
            actor=actor,
        )
        return {"action": action, "number": number, "state": item.state}
    if action == "comment":
        comment = fake.add_comment(repo, number, str(payload["body"]), user=actor)
        return {"action": action, "number": number, "id": comment.id}
    raise ValueError(f"unknown action {action!r}")


_ROUTES: dict[tuple[str, str], Callable[[FakeGitHub, Request], Response]] = {
    ("POST", "/_fake/faults"): _post_fault,
    ("GET", "/_fake/faults"): _get_faults,
    ("DELETE", "/_fake/faults"): _delete_faults,
    ("GET", "/_fake/clock"): _clock,
    ("POST", "/_fake/clock"): _clock,
    ("GET", "/_fake/stats"): _stats,
    ("POST", "/_fake/stats/reset"): _stats_reset,
    ("GET", "/_fake/requests"): _requests,
    ("POST", "/_fake/tokens"): _tokens,
    ("GET", "/_fake/config"): _config,
    ("POST", "/_fake/config"): _config,
    ("POST", "/_fake/apps"): _apps,
    ("POST", "/_fake/mutate"): _mutate,
}
