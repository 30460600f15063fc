"""Plain records of the fake GitHub: users, labels, issues/PRs, events, comments.

These hold data, not JSON: the fake renders them into GitHub's JSON shapes on request
(``kubesift.testing._encode``). Timestamps are integer epoch seconds (UTC).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field


def legacy_node_id(type_name: str, ident: int) -> str:
    """GitHub's legacy global node id, e.g. ``MDQ6VXNlcjE=`` for ``04:User1``."""
    return base64.b64encode(f"{len(type_name):02d}:{type_name}{ident}".encode()).decode()


def modern_node_id(prefix: str, repo_id: int, ident: int) -> str:
    """A node id in GitHub's newer style (``I_kwDO…``, ``PR_kwDO…``, ``LE_lADO…``)."""
    raw = repo_id.to_bytes(5, "big") + ident.to_bytes(6, "big")
    return f"{prefix}_kwDO" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


@dataclass(slots=True)
class User:
    """A GitHub account; ``type`` is ``User``, ``Bot`` or ``Organization``."""

    login: str
    id: int
    type: str = "User"
    site_admin: bool = False

    @property
    def node_id(self) -> str:
        """Legacy node id as the REST API still returns it for users."""
        return legacy_node_id(self.type, self.id)


@dataclass(slots=True)
class Label:
    """A repository label (``default`` is GitHub's "created with the repo" flag)."""

    name: str
    color: str
    description: str | None
    id: int
    node_id: str
    default: bool = False


@dataclass(slots=True)
class Item:
    """An issue or pull request as the issues API sees it.

    ``labels`` is the current label set, sorted case-insensitively as GitHub lists them.
    ``closed_by`` is only rendered by the single-issue GET, as on GitHub.
    """

    number: int
    id: int
    node_id: str
    is_pr: bool
    title: str
    body: str | None
    user: str
    labels: tuple[str, ...]
    state: str
    created_at: int
    updated_at: int
    state_reason: str | None = None
    closed_at: int | None = None
    closed_by: str | None = None
    merged_at: int | None = None
    comments: int = 0
    assignees: tuple[str, ...] = ()
    author_association: str = "CONTRIBUTOR"
    draft: bool = False
    locked: bool = False
    active_lock_reason: str | None = None


@dataclass(slots=True)
class Event:
    """An issue event (``labeled``, ``unlabeled``, ``closed``, ``merged``, ``renamed``…)."""

    id: int
    number: int
    event: str
    actor: str
    created_at: int
    label: str | None = None
    rename_from: str | None = None
    rename_to: str | None = None
    commit_id: str | None = None
    app_id: int | None = None


@dataclass(slots=True)
class Comment:
    """An issue comment."""

    id: int
    number: int
    user: str
    body: str
    created_at: int
    updated_at: int
    author_association: str = "CONTRIBUTOR"
    app_id: int | None = None


@dataclass(slots=True)
class Transfer:
    """A number whose item moved to another repository (answers 301)."""

    number: int
    target: str
    target_number: int
    item: Item


@dataclass
class GeneratedRepo:
    """A generated repository: items, their label history, and the gaps between numbers.

    ``items`` holds the items that exist, by increasing number; ``events`` holds their
    issue events by increasing id (which is also time order). Numbers in ``deleted`` answer
    410, in ``transferred`` 301 and in ``inaccessible`` 404. ``release_notes`` maps each PR
    number to the text of its ``release-note`` block (``"NONE"`` and friends included).
    When added to a :class:`~kubesift.testing.FakeGitHub` the fake takes ownership of these
    objects and mutates them in place.
    """

    owner: str
    name: str
    repo_id: int
    seed: int
    created_at: int
    items: list[Item]
    events: list[Event]
    labels: dict[str, Label]
    users: dict[str, User]
    deleted: set[int] = field(default_factory=set)
    transferred: dict[int, Transfer] = field(default_factory=dict)
    inaccessible: set[int] = field(default_factory=set)
    release_notes: dict[int, str] = field(default_factory=dict)
    maintainers: tuple[str, ...] = ()

    @property
    def full_name(self) -> str:
        """``owner/name``."""
        return f"{self.owner}/{self.name}"

    @property
    def max_number(self) -> int:
        """The largest number ever used, gaps included."""
        top = max((i.number for i in self.items[-1:]), default=0)
        gaps = self.deleted | self.inaccessible | set(self.transferred)
        return max([top, *gaps]) if gaps else top

    def by_number(self) -> dict[int, Item]:
        """Items keyed by number."""
        return {item.number: item for item in self.items}

    def events_by_number(self) -> dict[int, list[Event]]:
        """Events grouped per item, each list in id (time) order."""
        out: dict[int, list[Event]] = {}
        for event in self.events:
            out.setdefault(event.number, []).append(event)
        return out
