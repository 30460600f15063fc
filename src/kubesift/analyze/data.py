"""Load the store into data frames (one query per table) and filter them.

Every frame uses plain columns; times are tz-naive UTC ``datetime64`` values.
Items that are gone (deleted, transferred, inaccessible) are never loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

import pandas as pd
from sqlalchemy import Select, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from kubesift.errors import UserError
from kubesift.store.queries import repository_id
from kubesift.store.schema import item_labels, items, label_events, labels, release_notes
from kubesift.userregex import UserRegex, compile_user

ITEM_COLUMNS = [
    "id",
    "repository_id",
    "number",
    "kind",
    "state",
    "author",
    "created_at",
    "closed_at",
    "merged_at",
    "closed_by",
]
TIME_COLUMNS = ("created_at", "closed_at", "merged_at")


@dataclass(frozen=True)
class Frames:
    """The store's rows as data frames.

    ``items``: one row per live item (``ITEM_COLUMNS``); ``labels``: ``item_id``, ``label``
    (the current label set); ``events``: label events with ``repository_id``, ``item_number``,
    ``event``, ``label``, ``actor``, ``actor_is_bot``, ``created_at``; ``notes``: release
    notes with ``item_id``, ``source``, ``status``, ``release``.
    """

    items: pd.DataFrame
    labels: pd.DataFrame
    events: pd.DataFrame
    notes: pd.DataFrame

    @property
    def empty(self) -> bool:
        return self.items.empty


#: The dates a filter may name (pandas' timestamps end in 2262; GitHub began in 2008).
EARLIEST, LATEST = date(1970, 1, 1), date(2200, 12, 31)


@dataclass(frozen=True)
class Filters:
    """What subset of the store an analysis looks at."""

    kinds: tuple[str, ...] = ("issue", "pr")
    repo: str | None = None
    since: date | None = None
    until: date | None = None
    include: tuple[str, ...] = field(default_factory=tuple)
    exclude: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and not EARLIEST <= value <= LATEST:
                raise UserError(
                    f"{name} {value} is outside {EARLIEST.isoformat()} to {LATEST.isoformat()}"
                )


def _frame(conn: Connection, stmt: Select[tuple[object, ...]], columns: list[str]) -> pd.DataFrame:
    result = conn.execute(stmt)
    return pd.DataFrame.from_records(list(result), columns=columns)


def _times(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    for col in columns:
        frame[col] = pd.to_datetime(frame[col], utc=True, format="ISO8601").dt.tz_localize(None)
    return frame


def load_frames(conn: Connection, repo: str | None = None) -> Frames:
    """Read items, labels, label events and release notes, one query per table.

    Raises ``UserError`` when ``repo`` is given and is not in the store.
    """
    repo_id = None
    if repo is not None:
        repo_id = repository_id(conn, repo)
        if repo_id is None:
            raise UserError(f"{repo} is not in the store; run `kubesift export --repo {repo}`")
    item_where: list[ColumnElement[bool]] = [items.c.gone_at.is_(None)]
    if repo_id is not None:
        item_where.append(items.c.repository_id == repo_id)
    item_frame = _frame(
        conn, select(*(items.c[c] for c in ITEM_COLUMNS)).where(*item_where), ITEM_COLUMNS
    )
    label_stmt = (
        select(item_labels.c.item_id, labels.c.name)
        .join(labels, labels.c.id == item_labels.c.label_id)
        .join(items, items.c.id == item_labels.c.item_id)
        .where(*item_where)
    )
    event_cols = ["repository_id", "item_number", "event", "label", "actor", "actor_is_bot"]
    event_stmt = select(*(label_events.c[c] for c in [*event_cols, "created_at"]))
    if repo_id is not None:
        event_stmt = event_stmt.where(label_events.c.repository_id == repo_id)
    note_stmt = (
        select(
            release_notes.c.item_id,
            release_notes.c.source,
            release_notes.c.status,
            release_notes.c.release,
        )
        .join(items, items.c.id == release_notes.c.item_id)
        .where(*item_where)
    )
    return Frames(
        items=_times(item_frame, *TIME_COLUMNS),
        labels=_frame(conn, label_stmt, ["item_id", "label"]),
        events=_times(_frame(conn, event_stmt, [*event_cols, "created_at"]), "created_at"),
        notes=_frame(conn, note_stmt, ["item_id", "source", "status", "release"]),
    )


def _compile(patterns: tuple[str, ...], option: str) -> list[UserRegex]:
    return [compile_user(p, f"{option} {p!r}", smart_case=False) for p in patterns]


def _matching_items(label_frame: pd.DataFrame, patterns: list[UserRegex]) -> pd.Series:
    labels = label_frame["label"].astype(str).tolist()
    hit = pd.Series(False, index=label_frame.index)
    for p in patterns:
        hit |= pd.Series([p.search(label) for label in labels], index=label_frame.index)
    return label_frame.loc[hit, "item_id"]


def apply_filters(frames: Frames, filters: Filters) -> Frames:
    """The frames restricted to the filters' kinds, dates and label regexes."""
    it = frames.items
    keep = it["kind"].isin(filters.kinds)
    if filters.since is not None:
        keep &= it["created_at"] >= pd.Timestamp(filters.since)
    if filters.until is not None:
        keep &= it["created_at"] < pd.Timestamp(filters.until) + pd.Timedelta(days=1)
    include = _compile(filters.include, "--include")
    exclude = _compile(filters.exclude, "--exclude")
    if include:
        keep &= it["id"].isin(_matching_items(frames.labels, include))
    if exclude:
        keep &= ~it["id"].isin(_matching_items(frames.labels, exclude))
    kept = it[keep]
    numbers = pd.MultiIndex.from_frame(kept[["repository_id", "number"]])
    ev = frames.events
    ev_keys = pd.MultiIndex.from_frame(ev[["repository_id", "item_number"]])
    return replace(
        frames,
        items=kept.reset_index(drop=True),
        labels=frames.labels[frames.labels["item_id"].isin(kept["id"])].reset_index(drop=True),
        events=ev[ev_keys.isin(numbers)].reset_index(drop=True),
        notes=frames.notes[frames.notes["item_id"].isin(kept["id"])].reset_index(drop=True),
    )
