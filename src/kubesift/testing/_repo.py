"""One repository held by the fake: items, sorted indexes, events, comments, labels."""

from __future__ import annotations

import random
from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from operator import attrgetter

from kubesift.testing.model import Comment, Event, Item, Label, legacy_node_id

SORTS = ("created", "updated", "comments")
STATES = ("open", "closed", "all")
SYNTH_COMMENT_BASE = 1_000_000_000
_event_id = attrgetter("id")

IdSource = Callable[[str], int]


@dataclass(frozen=True, slots=True)
class ListQuery:
    """Validated parameters of an issues listing."""

    state: str = "open"
    sort: str = "created"
    direction: str = "desc"
    since: int | None = None
    labels: frozenset[str] = frozenset()


def sort_key(item: Item, sort: str) -> int:
    """The value an item is ordered by for ``sort``."""
    if sort == "created":
        return item.created_at
    if sort == "updated":
        return item.updated_at
    return item.comments


class FakeRepo:
    """A repository's state. Not thread-safe by itself: the fake holds a lock around it."""

    def __init__(
        self,
        owner: str,
        name: str,
        repo_id: int,
        *,
        created_at: int,
        seed: int = 0,
        people: tuple[str, ...] = ("octocat",),
    ) -> None:
        self.owner, self.name, self.id = owner, name, repo_id
        self.created_at = created_at
        self.seed = seed
        self.people = people or ("octocat",)
        self.items: dict[int, Item] = {}
        self.by_id: dict[int, Item] = {}
        self.gone: dict[int, str] = {}
        self.moved: dict[int, tuple[int, int]] = {}
        self.labels: dict[str, Label] = {}
        self._label_lc: dict[str, str] = {}
        self.events: list[Event] = []
        self.item_events: dict[int, list[Event]] = {}
        self.comments: dict[int, Comment] = {}
        self.item_comments: dict[int, list[Comment]] = {}
        self._indexes: dict[tuple[str, str], list[tuple[int, int]]] = {}
        self.max_number = 0
        self.pushed_at = created_at

    @property
    def full_name(self) -> str:
        """``owner/name``."""
        return f"{self.owner}/{self.name}"

    # ----- labels

    def find_label(self, name: str) -> str | None:
        """The canonical name of a label, matched case-insensitively."""
        return self._label_lc.get(name.lower())

    def label(self, name: str) -> Label:
        """The label ``name``, created (color ``ededed``) if the repository lacks it."""
        found = self.find_label(name)
        if found is not None:
            return self.labels[found]
        ident = 900_000_000 + self.id % 1000 * 100_000 + len(self.labels)
        label = Label(name, "ededed", None, ident, legacy_node_id("Label", ident))
        self.add_label_def(label)
        return label

    def add_label_def(self, label: Label) -> None:
        """Register a label definition."""
        self.labels[label.name] = label
        self._label_lc[label.name.lower()] = label.name

    # ----- items and indexes

    def add_item(self, item: Item) -> None:
        """Insert a new item (its number must be unused)."""
        self.items[item.number] = item
        self.by_id[item.id] = item
        self.max_number = max(self.max_number, item.number)
        for (sort, state), idx in self._indexes.items():
            if state in ("all", item.state):
                insort(idx, (sort_key(item, sort), item.id))

    def drop_item(self, number: int) -> Item:
        """Remove an item with its events and comments; returns it."""
        item = self.items.pop(number)
        del self.by_id[item.id]
        for (sort, state), idx in self._indexes.items():
            if state in ("all", item.state):
                self._index_remove(idx, (sort_key(item, sort), item.id))
        if self.item_events.pop(number, None):
            self.events = [e for e in self.events if e.number != number]
        for c in self.item_comments.pop(number, []):
            self.comments.pop(c.id, None)
        return item

    def snapshot(self, item: Item) -> tuple[int, int, int, str]:
        """The fields indexes depend on, taken before a mutation."""
        return item.created_at, item.updated_at, item.comments, item.state

    def reindex(self, item: Item, old: tuple[int, int, int, str]) -> None:
        """Move an item in every built index after its keys changed."""
        old_keys = {"created": old[0], "updated": old[1], "comments": old[2]}
        for (sort, state), idx in self._indexes.items():
            was = state in ("all", old[3])
            now = state in ("all", item.state)
            new_key = sort_key(item, sort)
            if was and now and old_keys[sort] == new_key:
                continue
            if was:
                self._index_remove(idx, (old_keys[sort], item.id))
            if now:
                insort(idx, (new_key, item.id))

    @staticmethod
    def _index_remove(idx: list[tuple[int, int]], entry: tuple[int, int]) -> None:
        pos = bisect_left(idx, entry)
        if pos < len(idx) and idx[pos] == entry:
            del idx[pos]

    def index(self, sort: str, state: str) -> list[tuple[int, int]]:
        """The (key, id) list for ``sort`` over items in ``state``, built on first use."""
        idx = self._indexes.get((sort, state))
        if idx is None:
            idx = sorted(
                (sort_key(it, sort), it.id)
                for it in self.items.values()
                if state in ("all", it.state)
            )
            self._indexes[(sort, state)] = idx
        return idx

    def iter_items(self, q: ListQuery, after: tuple[int, int] | None = None) -> Iterator[Item]:
        """Items matching ``q`` in the requested order, strictly after the ``after`` key."""
        idx = self.index(q.sort, q.state)
        bounded = q.since is not None and q.sort == "updated"
        if q.direction == "asc":
            start = bisect_left(idx, (q.since, -1)) if bounded and q.since is not None else 0
            if after is not None:
                start = max(start, bisect_right(idx, after))
            positions = range(start, len(idx))
        else:
            start = bisect_left(idx, after) - 1 if after is not None else len(idx) - 1
            positions = range(start, -1, -1)
        by_id, since, wanted = self.by_id, q.since, q.labels
        for pos in positions:
            key, ident = idx[pos]
            if bounded and since is not None and key < since:
                if q.direction == "desc":
                    return
                continue
            item = by_id[ident]
            if since is not None and item.updated_at < since:
                continue
            if wanted and not wanted <= {name.lower() for name in item.labels}:
                continue
            yield item

    def count(self, q: ListQuery) -> int | None:
        """How many items match, when that is cheap to know (for page links)."""
        if q.labels:
            return None
        idx = self.index(q.sort, q.state)
        if q.since is None:
            return len(idx)
        if q.sort == "updated":
            return len(idx) - bisect_left(idx, (q.since, -1))
        return None

    # ----- events

    def add_event(self, event: Event) -> None:
        """Append an event (ids only grow)."""
        self.events.append(event)
        self.item_events.setdefault(event.number, []).append(event)

    def load_events(self, events: list[Event]) -> None:
        """Take a generated, id-ordered event list."""
        self.events = events
        self.item_events = {}
        for event in events:
            self.item_events.setdefault(event.number, []).append(event)

    def iter_events_desc(self, before_id: int | None = None) -> Iterator[Event]:
        """Repository events newest first, strictly older than ``before_id``."""
        events = self.events
        if before_id is None:
            start = len(events) - 1
        else:
            start = bisect_left(events, before_id, key=_event_id) - 1
        for pos in range(start, -1, -1):
            yield events[pos]

    def find_event(self, event_id: int) -> Event | None:
        """One event by id."""
        pos = bisect_left(self.events, event_id, key=_event_id)
        if pos < len(self.events) and self.events[pos].id == event_id:
            return self.events[pos]
        return None

    # ----- comments

    def comments_of(self, item: Item) -> list[Comment]:
        """The comments of an item; generated items get theirs synthesised on first use."""
        found = self.item_comments.get(item.number)
        if found is None:
            found = self.item_comments[item.number] = self._synthesise(item)
            for c in found:
                self.comments[c.id] = c
        return found

    def _synthesise(self, item: Item) -> list[Comment]:
        count = min(item.comments, 999)
        if count == 0:
            return []
        rng = random.Random(self.seed * 1_000_003 + item.number)
        span = max(item.updated_at - item.created_at, count)
        times = sorted(item.created_at + rng.randrange(span) for _ in range(count))
        out = []
        for i, when in enumerate(times):
            user, body = _comment_text(rng, item, self.people)
            ident = SYNTH_COMMENT_BASE + item.number * 1000 + i
            out.append(
                Comment(
                    ident,
                    item.number,
                    user,
                    body,
                    when,
                    when,
                    "MEMBER" if user in self.people else "CONTRIBUTOR",
                )
            )
        return out


def _comment_text(rng: random.Random, item: Item, people: tuple[str, ...]) -> tuple[str, str]:
    roll = rng.random()
    if roll < 0.25:
        return "k8s-ci-robot", rng.choice(
            (
                "@{u}: The following test **failed**, say `/retest` to rerun all failed tests.",
                "[APPROVALNOTIFIER] This PR is **APPROVED**\n\nThis pull-request has been "
                "approved by: *{u}*",
                "Hi @{u}. Thanks for your PR.\n\nI'm waiting for a kubernetes member to verify "
                "that this patch is reasonable to test.",
            )
        ).format(u=item.user)
    if roll < 0.55:
        return rng.choice(people), rng.choice(
            (
                "/lgtm",
                "/approve",
                "/retest",
                "/lgtm\n/approve",
                "/kind bug",
                "/sig node",
                "/triage accepted",
                "/priority backlog",
            )
        )
    if roll < 0.8:
        return item.user, rng.choice(
            ("Thanks, updated.", "PTAL", "Addressed the comments.", "/retest", "Rebased on master.")
        )
    return rng.choice(people), rng.choice(
        (
            "LGTM, one nit.",
            "Can you add a unit test?",
            "Is this a regression from the last release?",
            "Does this need a release note?",
        )
    )


__all__ = ["SORTS", "STATES", "FakeRepo", "IdSource", "ListQuery", "sort_key"]
