"""Webhook events as plain data: what to label, and what humans changed."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubesift.github.actors import is_bot, is_self

__all__ = ["is_self"]  # re-exported: the one rule lives in kubesift.github.actors

ISSUE_ACTIONS = frozenset({"opened", "edited"})
PR_ACTIONS = frozenset({"opened", "edited", "reopened", "synchronize"})
LABEL_ACTIONS = frozenset({"labeled", "unlabeled"})
#: GitHub's CI events: when Prow (or any CI) reports on a commit, the CI section of the
#: comment on its PR is refreshed. Only finished results count (a pending status changes
#: nothing the section says).
CI_STATUS_EVENTS = frozenset({"status", "check_run"})
FINISHED_STATES = frozenset({"success", "failure", "error"})
FINISHED_CHECKS = frozenset({"success", "failure", "timed_out", "cancelled", "action_required"})
#: Events the receiver queues; everything else is answered 200 and ignored.
HANDLED = frozenset({"issues", "pull_request", *CI_STATUS_EVENTS})
_SHA = re.compile(r"^[0-9a-f]{7,64}$")


class MalformedEvent(ValueError):
    """A payload that is JSON but lacks what its event type must carry."""


@dataclass(frozen=True)
class Target:
    """An issue or PR to (re)label."""

    repo: str
    number: int
    kind: str  # issue | pr
    title: str
    body: str
    author: str
    sender: str
    installation_id: int | None


@dataclass(frozen=True)
class LabelChange:
    """Someone added or removed a label on an issue or PR."""

    repo: str
    number: int
    action: str  # labeled | unlabeled
    label: str
    actor: str
    actor_is_bot: bool
    at: str


#: The event ``kubesift ci import --notify-bot`` queues for a PR whose presubmit failed.
CI_EVENT = "kubesift_ci"


@dataclass(frozen=True)
class CIUpdate:
    """New CI results for a PR: refresh its comment's CI section."""

    repo: str
    number: int
    installation_id: int | None


@dataclass(frozen=True)
class CIStatus:
    """A commit's status or check run finished: refresh the CI section of its PRs (those
    the event names, and those whose stored runs tested the commit)."""

    repo: str
    sha: str
    prs: tuple[int, ...]
    state: str  # success | failure | error (a check run's conclusion, mapped)
    context: str  # the status context or check run name, e.g. pull-kubernetes-unit
    installation_id: int | None

    @property
    def number(self) -> int | None:
        return self.prs[0] if self.prs else None


Work = Target | LabelChange | CIUpdate | CIStatus


def ci_payload(repo: str, number: int, installation_id: int | None) -> dict[str, Any]:
    """The payload of a :data:`CI_EVENT` job."""
    payload: dict[str, Any] = {
        "action": "ci_failed",
        "repository": {"full_name": repo},
        "number": number,
    }
    if installation_id is not None:
        payload["installation"] = {"id": installation_id}
    return payload


def wanted(event: str, action: str | None) -> bool:
    """Whether an (event, action) is worth queueing at all."""
    if event == "issues":
        return action in ISSUE_ACTIONS or action in LABEL_ACTIONS
    if event == "pull_request":
        return action in PR_ACTIONS or action in LABEL_ACTIONS
    if event == "status":
        return action is None  # a status carries a state, not an action
    if event == "check_run":
        return action == "completed"
    return False


def parse(event: str, payload: Mapping[str, Any]) -> Work | None:
    """The work an event asks for, or None when it asks for none (closed, merged...)."""
    if event == CI_EVENT:
        number = payload.get("number")
        if not isinstance(number, int):
            raise MalformedEvent(f"{CI_EVENT} event without number")
        return CIUpdate(_repo(payload), number, installation_of(payload))
    action = payload.get("action")
    if not wanted(event, action if isinstance(action, str) else None):
        return None
    if event in CI_STATUS_EVENTS:
        return _ci_status(event, payload)
    key = "issue" if event == "issues" else "pull_request"
    item = payload.get(key)
    repo = _repo(payload)
    if not isinstance(item, Mapping) or not isinstance(item.get("number"), int):
        raise MalformedEvent(f"{event} event without {key}.number")
    if action in LABEL_ACTIONS:
        return _label_change(payload, repo, int(item["number"]), str(action), item)
    if event == "pull_request" and item.get("merged"):
        return None
    return Target(
        repo=repo,
        number=int(item["number"]),
        kind="pr" if event == "pull_request" else "issue",
        title=str(item.get("title") or ""),
        body=str(item.get("body") or ""),
        author=_login(item.get("user")),
        sender=_login(payload.get("sender")),
        installation_id=installation_of(payload),
    )


def _ci_status(event: str, payload: Mapping[str, Any]) -> CIStatus | None:
    """A finished status or check run; None while it is pending or in progress."""
    repo = _repo(payload)
    if event == "status":
        sha, state, context, prs = (
            payload.get("sha"),
            payload.get("state"),
            payload.get("context"),
            [],
        )
        if state not in FINISHED_STATES:
            return None
    else:
        run = payload.get("check_run")
        if not isinstance(run, Mapping):
            raise MalformedEvent("check_run event without check_run")
        sha, context = run.get("head_sha"), run.get("name")
        conclusion = run.get("conclusion")
        if conclusion not in FINISHED_CHECKS:
            return None
        state = "success" if conclusion == "success" else "failure"
        pulls = run.get("pull_requests")
        prs = (
            [p.get("number") for p in pulls if isinstance(p, Mapping)]
            if isinstance(pulls, list)
            else []
        )
    if not isinstance(sha, str) or not _SHA.match(sha):
        raise MalformedEvent(f"{event} event without a commit sha")
    numbers = tuple(
        sorted({n for n in prs if isinstance(n, int) and not isinstance(n, bool) and n > 0})
    )
    return CIStatus(
        repo, sha, numbers, str(state), str(context or "")[:255], installation_of(payload)
    )


def _repo(payload: Mapping[str, Any]) -> str:
    repo = payload.get("repository")
    name = repo.get("full_name") if isinstance(repo, Mapping) else None
    if not isinstance(name, str) or "/" not in name:
        raise MalformedEvent("event without repository.full_name")
    return name


def _login(user: object) -> str:
    return str(user.get("login") or "") if isinstance(user, Mapping) else ""


def installation_of(payload: Mapping[str, Any]) -> int | None:
    inst = payload.get("installation")
    ident = inst.get("id") if isinstance(inst, Mapping) else None
    return int(ident) if isinstance(ident, int) else None


def _label_change(
    payload: Mapping[str, Any], repo: str, number: int, action: str, item: Mapping[str, Any]
) -> LabelChange:
    label = payload.get("label")
    name = label.get("name") if isinstance(label, Mapping) else None
    if not isinstance(name, str):
        raise MalformedEvent(f"{action} event without label.name")
    sender = payload.get("sender")
    return LabelChange(
        repo=repo,
        number=number,
        action=action,
        label=name,
        actor=_login(sender),
        actor_is_bot=is_bot(sender) if isinstance(sender, Mapping) else False,
        at=str(item.get("updated_at") or ""),
    )
