"""Render the fake's records as GitHub's JSON, fast.

An :class:`Encoder` is bound to one base URL (the one the client used). User and label
objects are rendered once and reused as fragments; an item is assembled from those
fragments and a per-repository template, so a 100-item page costs about a millisecond.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import quote
from zlib import crc32

from kubesift.testing._clock import iso
from kubesift.testing.model import Comment, Event, Item, Label, User, modern_node_id

if TYPE_CHECKING:
    from kubesift.testing._repo import FakeRepo

WEB = "https://github.com"
REACTIONS = (
    '"total_count":0,"+1":0,"-1":0,"laugh":0,"hooray":0,"confused":0,"heart":0,"rocket":0,"eyes":0}'
)
_EVENT_PREFIX = {
    "labeled": "LE",
    "unlabeled": "UNLE",
    "closed": "CE",
    "reopened": "REE",
    "merged": "ME",
    "renamed": "RTE",
}


_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_encode_str = json.encoder.encode_basestring


def js(value: Any) -> str:
    """Compact JSON text of one value (UTF-8 kept as is, like GitHub)."""
    if value.__class__ is str:
        return str(_encode_str(value))
    if value is None:
        return "null"
    return _COMPACT.encode(value)


def _iso_or_null(ts: int | None) -> str:
    return "null" if ts is None else f'"{iso(ts)}"'


def user_dict(user: User, base: str) -> dict[str, Any]:
    """The user object embedded in issues, events and comments."""
    login = user.login
    api = f"{base}/users/{quote(login)}"
    html = f"{WEB}/apps/{login[:-5]}" if login.endswith("[bot]") else f"{WEB}/{login}"
    return {
        "login": login,
        "id": user.id,
        "node_id": user.node_id,
        "avatar_url": f"https://avatars.githubusercontent.com/u/{user.id}?v=4",
        "gravatar_id": "",
        "url": api,
        "html_url": html,
        "followers_url": f"{api}/followers",
        "following_url": f"{api}/following{{/other_user}}",
        "gists_url": f"{api}/gists{{/gist_id}}",
        "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{api}/subscriptions",
        "organizations_url": f"{api}/orgs",
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events{{/privacy}}",
        "received_events_url": f"{api}/received_events",
        "type": user.type,
        "site_admin": user.site_admin,
    }


def label_dict(label: Label, repo_prefix: str) -> dict[str, Any]:
    """A label object as the labels endpoints and issue payloads carry it."""
    return {
        "id": label.id,
        "node_id": label.node_id,
        "url": f"{repo_prefix}/labels/{quote(label.name, safe='/:')}",
        "name": label.name,
        "color": label.color,
        "default": label.default,
        "description": label.description,
    }


class Encoder:
    """JSON renderer for one base URL, with cached user and label fragments."""

    def __init__(self, base: str, users: dict[str, User]) -> None:
        self.base = base
        self.users = users
        self._user: dict[str, str] = {}
        self._user_small: dict[str, str] = {}
        self._label: dict[tuple[int, str], str] = {}
        self._templates: dict[int, tuple[str, str, str, str, str]] = {}

    # ----- fragments

    def user_obj(self, login: str | None) -> str:
        """Full user object JSON (``null`` for no user)."""
        if login is None:
            return "null"
        frag = self._user.get(login)
        if frag is None:
            frag = self._user[login] = js(user_dict(self._lookup(login), self.base))
        return frag

    def user_small(self, login: str) -> str:
        """A shorter user object used inside embedded issues of events."""
        frag = self._user_small.get(login)
        if frag is None:
            full = user_dict(self._lookup(login), self.base)
            keep = ("login", "id", "node_id", "avatar_url", "url", "html_url", "type", "site_admin")
            frag = self._user_small[login] = js({k: full[k] for k in keep})
        return frag

    def _lookup(self, login: str) -> User:
        user = self.users.get(login)
        if user is None:
            user = self.users[login] = User(
                login,
                5_000_000 + crc32(login.encode()) % 10**8,
                "Bot" if login.endswith("[bot]") else "User",
            )
        return user

    def label_obj(self, repo: FakeRepo, name: str) -> str:
        """Label JSON for a label of ``repo``."""
        key = (repo.id, name)
        frag = self._label.get(key)
        if frag is None:
            frag = self._label[key] = js(label_dict(repo.label(name), self.prefix(repo)))
        return frag

    def forget_labels(self, repo_id: int) -> None:
        """Drop cached label fragments of one repository (after label edits)."""
        for key in [k for k in self._label if k[0] == repo_id]:
            del self._label[key]

    def prefix(self, repo: FakeRepo) -> str:
        """``{base}/repos/{owner}/{name}``."""
        return f"{self.base}/repos/{repo.full_name}"

    def _tmpl(self, repo: FakeRepo) -> tuple[str, str, str, str, str]:
        t = self._templates.get(repo.id)
        if t is None:
            p, h = self.prefix(repo), f"{WEB}/{repo.full_name}"
            head = (
                f'{{"url":"{p}/issues/%d","repository_url":"{p}",'
                f'"labels_url":"{p}/issues/%d/labels{{/name}}",'
                f'"comments_url":"{p}/issues/%d/comments",'
                f'"events_url":"{p}/issues/%d/events","html_url":"{h}/%s/%d",'
                '"id":%d,"node_id":"%s","number":%d,"title":%s,"user":'
            )
            pr = (
                f'"draft":%s,"pull_request":{{"url":"{p}/pulls/%d","html_url":"{h}/pull/%d",'
                f'"diff_url":"{h}/pull/%d.diff","patch_url":"{h}/pull/%d.patch",'
                '"merged_at":%s},'
            )
            tail = (
                f'"reactions":{{"url":"{p}/issues/%d/reactions",{REACTIONS},'
                f'"timeline_url":"{p}/issues/%d/timeline",'
                '"performed_via_github_app":null,"state_reason":%s}'
            )
            small = (
                f'{{"url":"{p}/issues/%d","repository_url":"{p}","html_url":"{h}/%s/%d",'
                '"id":%d,"node_id":"%s","number":%d,"title":%s,"user":'
            )
            small_pr = f'"pull_request":{{"url":"{p}/pulls/%d","html_url":"{h}/pull/%d"}},'
            t = self._templates[repo.id] = (head, pr, tail, small, small_pr)
        return t

    # ----- issues

    def item(self, repo: FakeRepo, it: Item, *, closed_by: bool = False) -> str:
        """An issue/PR as the list endpoint returns it (``closed_by`` for the single GET)."""
        head, pr, tail, _, _ = self._tmpl(repo)
        n = it.number
        kind = "pull" if it.is_pr else "issues"
        parts = [
            head % (n, n, n, n, kind, n, it.id, it.node_id, n, js(it.title)),
            self.user_obj(it.user),
            ',"labels":[',
            ",".join([self.label_obj(repo, name) for name in it.labels]),
            '],"state":"',
            it.state,
            '","locked":',
            "true" if it.locked else "false",
            ',"assignee":',
            self.user_obj(it.assignees[0] if it.assignees else None),
            ',"assignees":[',
            ",".join([self.user_obj(a) for a in it.assignees]),
            '],"milestone":null,"comments":',
            str(it.comments),
            ',"created_at":"',
            iso(it.created_at),
            '","updated_at":"',
            iso(it.updated_at),
            '","closed_at":',
            _iso_or_null(it.closed_at),
            ',"author_association":"',
            it.author_association,
            '","active_lock_reason":',
            js(it.active_lock_reason),
            ",",
        ]
        if it.is_pr:
            parts.append(
                pr % ("true" if it.draft else "false", n, n, n, n, _iso_or_null(it.merged_at))
            )
        parts += ['"body":', js(it.body), ","]
        if closed_by:
            parts += ['"closed_by":', self.user_obj(it.closed_by), ","]
        parts.append(tail % (n, n, js(it.state_reason)))
        return "".join(parts)

    def item_small(self, repo: FakeRepo, it: Item) -> str:
        """The compact issue object embedded in repository events."""
        _, _, _, small, small_pr = self._tmpl(repo)
        n = it.number
        parts = [
            small % (n, "pull" if it.is_pr else "issues", n, it.id, it.node_id, n, js(it.title)),
            self.user_small(it.user),
            ',"state":"',
            it.state,
            '","locked":',
            "true" if it.locked else "false",
            ',"comments":',
            str(it.comments),
            ',"created_at":"',
            iso(it.created_at),
            '","updated_at":"',
            iso(it.updated_at),
            '","closed_at":',
            _iso_or_null(it.closed_at),
            ',"author_association":"',
            it.author_association,
            '",',
        ]
        if it.is_pr:
            parts.append(small_pr % (n, n))
        parts += ['"state_reason":', js(it.state_reason), "}"]
        return "".join(parts)

    # ----- events and comments

    def event(self, repo: FakeRepo, ev: Event, *, with_issue: bool, app_json: str = "null") -> str:
        """An issue event; repository-wide listings embed the issue (``with_issue``)."""
        p = self.prefix(repo)
        node = modern_node_id(_EVENT_PREFIX.get(ev.event, "E"), repo.id, ev.id)
        commit = "null" if ev.commit_id is None else f'"{ev.commit_id}"'
        commit_url = "null" if ev.commit_id is None else f'"{p}/commits/{ev.commit_id}"'
        parts = [
            f'{{"id":{ev.id},"node_id":"{node}","url":"{p}/issues/events/{ev.id}","actor":',
            self.user_obj(ev.actor),
            f',"event":"{ev.event}","commit_id":{commit},"commit_url":{commit_url},'
            f'"created_at":"{iso(ev.created_at)}",',
        ]
        if ev.label is not None:
            color = repo.labels[ev.label].color if ev.label in repo.labels else "ededed"
            parts.append(f'"label":{{"name":{js(ev.label)},"color":"{color}"}},')
        if ev.event == "renamed":
            parts.append(f'"rename":{{"from":{js(ev.rename_from)},"to":{js(ev.rename_to)}}},')
        parts.append(f'"performed_via_github_app":{app_json}')
        if with_issue:
            item = repo.items.get(ev.number)
            if item is not None:
                parts += [',"issue":', self.item_small(repo, item)]
        parts.append("}")
        return "".join(parts)

    def comment(self, repo: FakeRepo, c: Comment, app_json: str = "null") -> str:
        """An issue comment."""
        p = self.prefix(repo)
        node = modern_node_id("IC", repo.id, c.id)
        return "".join(
            (
                f'{{"url":"{p}/issues/comments/{c.id}",'
                f'"html_url":"{WEB}/{repo.full_name}/issues/{c.number}#issuecomment-{c.id}",'
                f'"issue_url":"{p}/issues/{c.number}","id":{c.id},"node_id":"{node}","user":',
                self.user_obj(c.user),
                f',"created_at":"{iso(c.created_at)}","updated_at":"{iso(c.updated_at)}",'
                f'"author_association":"{c.author_association}","body":{js(c.body)},'
                f'"reactions":{{"url":"{p}/issues/comments/{c.id}/reactions",{REACTIONS},'
                f'"performed_via_github_app":{app_json}}}',
            )
        )
