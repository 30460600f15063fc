"""Writes to the store. Each function runs inside the caller's transaction, so a
page of rows and the checkpoint that covers it commit (or vanish) together."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.sql.expression import Insert

from kubesift.store.schema import (
    item_labels,
    items,
    label_events,
    labels,
    release_notes,
    repositories,
    sync_state,
)
from kubesift.timeutil import utcnow_iso

Row = Mapping[str, Any]


def without_nul(rows: Iterable[Row]) -> list[dict[str, Any]]:
    """The rows with NUL characters dropped from their strings.

    GitHub text (titles, bodies, label descriptions) may contain U+0000, which PostgreSQL
    refuses in text columns; SQLite would keep it. Dropping it stores the same on both.
    """
    return [
        {
            k: v.replace("\x00", "") if isinstance(v, str) and "\x00" in v else v
            for k, v in r.items()
        }
        for r in rows
    ]


def dialect_insert(conn: Connection, table: Any) -> Insert:
    """An INSERT that supports ``on_conflict_do_*`` on SQLite and PostgreSQL alike."""
    mod = postgresql if conn.dialect.name == "postgresql" else sqlite
    return mod.insert(table)


def ensure_repository(
    conn: Connection, full_name: str, *, github_id: int | None = None, api_url: str | None = None
) -> int:
    """The id of the repository row for ``owner/name``, created on first use."""
    found = conn.execute(
        select(repositories.c.id).where(repositories.c.full_name == full_name)
    ).scalar()
    if found is not None:
        if github_id is not None or api_url is not None:
            values = {k: v for k, v in (("github_id", github_id), ("api_url", api_url)) if v}
            conn.execute(update(repositories).where(repositories.c.id == found).values(**values))
        return int(found)
    owner, _, name = full_name.partition("/")
    result = conn.execute(
        repositories.insert().values(
            full_name=full_name,
            owner=owner,
            name=name,
            github_id=github_id,
            api_url=api_url,
            first_seen_at=utcnow_iso(),
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def upsert_labels(conn: Connection, repo_id: int, defs: Iterable[Row]) -> dict[str, int]:
    """Insert or refresh label definitions; returns name -> label id for the given names."""
    unique = {d["name"]: d for d in defs}
    if not unique:
        return {}
    rows = without_nul(
        {
            "repository_id": repo_id,
            "name": name,
            "color": d.get("color"),
            "description": d.get("description"),
        }
        for name, d in unique.items()
    )
    stmt = dialect_insert(conn, labels)
    stmt = stmt.on_conflict_do_update(  # type: ignore[attr-defined]
        index_elements=["repository_id", "name"],
        set_={"color": stmt.excluded.color, "description": stmt.excluded.description},  # type: ignore[attr-defined]
    )
    conn.execute(stmt, rows)
    found = conn.execute(
        select(labels.c.name, labels.c.id).where(
            labels.c.repository_id == repo_id, labels.c.name.in_(list(unique))
        )
    )
    return {name: int(lid) for name, lid in found}


def upsert_items(
    conn: Connection,
    repo_id: int,
    rows: Sequence[Row],
    labels_by_number: Mapping[int, Sequence[Row]] | None = None,
) -> dict[int, int]:
    """Insert or update items by (repository, number); returns number -> item id.

    When ``labels_by_number`` is given, each listed item's label set is replaced by
    exactly those labels, so a label removed on GitHub disappears here too.
    """
    if not rows:
        return {}
    payload = without_nul({**r, "repository_id": repo_id} for r in rows)
    stmt = dialect_insert(conn, items)
    updatable = [c for c in payload[0] if c not in ("repository_id", "number")]
    set_ = {c: getattr(stmt.excluded, c) for c in updatable}  # type: ignore[attr-defined]
    if "closed_by" in set_:
        # Listings never carry closed_by; keep what a single GET or a closed event told us.
        set_["closed_by"] = func.coalesce(set_["closed_by"], items.c.closed_by)
    stmt = stmt.on_conflict_do_update(  # type: ignore[attr-defined]
        index_elements=["repository_id", "number"], set_=set_
    )
    conn.execute(stmt, payload)
    numbers = [int(r["number"]) for r in rows]
    found = conn.execute(
        select(items.c.number, items.c.id).where(
            items.c.repository_id == repo_id, items.c.number.in_(numbers)
        )
    )
    ids = {int(n): int(i) for n, i in found}
    if labels_by_number is not None:
        _replace_item_labels(conn, repo_id, ids, labels_by_number)
    return ids


def _replace_item_labels(
    conn: Connection,
    repo_id: int,
    ids: Mapping[int, int],
    labels_by_number: Mapping[int, Sequence[Row]],
) -> None:
    label_ids = upsert_labels(
        conn, repo_id, (d for defs in labels_by_number.values() for d in defs)
    )
    touched = [ids[n] for n in labels_by_number if n in ids]
    if touched:
        conn.execute(delete(item_labels).where(item_labels.c.item_id.in_(touched)))
    links = {
        (ids[n], label_ids[d["name"]])
        for n, defs in labels_by_number.items()
        if n in ids
        for d in defs
    }
    if links:
        conn.execute(
            item_labels.insert(), [{"item_id": i, "label_id": lab} for i, lab in sorted(links)]
        )


def insert_label_events(conn: Connection, repo_id: int, rows: Sequence[Row]) -> int:
    """Insert label events, ignoring ones already stored; returns how many were offered."""
    if not rows:
        return 0
    stmt = dialect_insert(conn, label_events).on_conflict_do_nothing(  # type: ignore[attr-defined]
        index_elements=["repository_id", "github_id"]
    )
    conn.execute(stmt, without_nul({**r, "repository_id": repo_id} for r in rows))
    return len(rows)


def set_closed_by(conn: Connection, repo_id: int, rows: Sequence[Row]) -> None:
    """Record who closed items, from ``closed`` events matching the item's last close time."""
    for row in rows:
        conn.execute(
            update(items)
            .where(
                items.c.repository_id == repo_id,
                items.c.number == row["number"],
                items.c.closed_at == row["closed_at"],
            )
            .values(closed_by=row["closed_by"])
        )


def upsert_release_notes(conn: Connection, rows: Sequence[Row]) -> None:
    if not rows:
        return
    stmt = dialect_insert(conn, release_notes)
    cols = [c for c in rows[0] if c not in ("item_id", "source")]
    stmt = stmt.on_conflict_do_update(  # type: ignore[attr-defined]
        index_elements=["item_id", "source"],
        set_={c: getattr(stmt.excluded, c) for c in cols},  # type: ignore[attr-defined]
    )
    conn.execute(stmt, without_nul(rows))


def delete_release_notes(conn: Connection, item_ids: Sequence[int], source: str) -> None:
    if item_ids:
        conn.execute(
            delete(release_notes).where(
                release_notes.c.item_id.in_(list(item_ids)), release_notes.c.source == source
            )
        )


def mark_gone(
    conn: Connection, repo_id: int, number: int, state: str, *, moved_to: str | None = None
) -> None:
    """Record that ``number`` is deleted, transferred or inaccessible, keeping what we had."""
    now = utcnow_iso()
    existing = conn.execute(
        select(items.c.id).where(items.c.repository_id == repo_id, items.c.number == number)
    ).scalar()
    if existing is None:
        conn.execute(
            items.insert().values(
                repository_id=repo_id,
                number=number,
                kind="issue",
                state=state,
                author_is_bot=False,
                source="github",
                fetched_at=now,
                gone_at=now,
                moved_to=moved_to,
            )
        )
        return
    conn.execute(
        update(items)
        .where(items.c.id == existing)
        .values(state=state, gone_at=now, moved_to=moved_to, fetched_at=now)
    )


def get_sync_state(conn: Connection, repo_id: int, resource: str) -> dict[str, Any]:
    row = (
        conn.execute(
            select(sync_state).where(
                sync_state.c.repository_id == repo_id, sync_state.c.resource == resource
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else {}


def put_sync_state(conn: Connection, repo_id: int, resource: str, **values: Any) -> None:
    """Merge ``values`` into the checkpoint of (repository, resource)."""
    values = {**values, "updated_at": utcnow_iso()}
    row = {"repository_id": repo_id, "resource": resource, **values}
    stmt = dialect_insert(conn, sync_state).values(**row)
    stmt = stmt.on_conflict_do_update(  # type: ignore[attr-defined]
        index_elements=["repository_id", "resource"], set_=values
    )
    conn.execute(stmt)
