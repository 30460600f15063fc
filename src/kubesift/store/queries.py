"""Read-only queries other packages need."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from kubesift.errors import UserError
from kubesift.store.schema import items, label_events, labels, release_notes, repositories
from kubesift.store.writes import get_sync_state

#: The largest id a row can have (both stores' 64-bit signed integers).
MAX_ROW_ID = 2**63 - 1


def row_id(value: object, what: str) -> int:
    """``value`` as a row id: a whole number from 1 to :data:`MAX_ROW_ID` (a 23-digit id
    is refused here rather than overflowing the database driver)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ROW_ID:
        raise UserError(f"{what} must be a whole number from 1 to {MAX_ROW_ID}, not {value!r}")
    return value


@dataclass(frozen=True)
class RepoSummary:
    full_name: str
    issues: int
    pull_requests: int
    open: int
    gone: int
    labels: int
    label_events: int
    release_notes: int
    first_created: str | None
    last_updated: str | None
    issues_watermark: str | None
    events_watermark: str | None
    last_sync: str | None
    in_progress: bool


def _count(conn: Connection, table: object, *where: object) -> int:
    return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar() or 0)  # type: ignore[arg-type]


def repository_id(conn: Connection, full_name: str) -> int | None:
    found = conn.execute(
        select(repositories.c.id).where(repositories.c.full_name == full_name)
    ).scalar()
    return int(found) if found is not None else None


def summarize(conn: Connection) -> list[RepoSummary]:
    """One summary line per repository in the store."""
    out = []
    for repo_id, full_name in conn.execute(
        select(repositories.c.id, repositories.c.full_name).order_by(repositories.c.full_name)
    ):
        live = (items.c.repository_id == repo_id, items.c.gone_at.is_(None))
        dates = conn.execute(
            select(func.min(items.c.created_at), func.max(items.c.updated_at)).where(*live)
        ).one()
        issues_state = get_sync_state(conn, repo_id, "issues")
        events_state = get_sync_state(conn, repo_id, "events")
        notes = _count(
            conn,
            release_notes.join(items, items.c.id == release_notes.c.item_id),
            items.c.repository_id == repo_id,
            release_notes.c.status == "note",
        )
        out.append(
            RepoSummary(
                full_name=full_name,
                issues=_count(conn, items, *live, items.c.kind == "issue"),
                pull_requests=_count(conn, items, *live, items.c.kind == "pr"),
                open=_count(conn, items, *live, items.c.state == "open"),
                gone=_count(
                    conn, items, items.c.repository_id == repo_id, items.c.gone_at.isnot(None)
                ),
                labels=_count(conn, labels, labels.c.repository_id == repo_id),
                label_events=_count(conn, label_events, label_events.c.repository_id == repo_id),
                release_notes=notes,
                first_created=dates[0],
                last_updated=dates[1],
                issues_watermark=issues_state.get("watermark"),
                events_watermark=events_state.get("watermark"),
                last_sync=issues_state.get("completed_at"),
                in_progress=bool(issues_state.get("cursor") or events_state.get("cursor")),
            )
        )
    return out


#: The most rows one page of a list holds.
MAX_PAGE = 200
#: The last page any list may ask for (an offset SQLite's 64-bit integers hold).
MAX_PAGES = 1_000_000


def page_args(page: int, per_page: int) -> tuple[int, int]:
    """(limit, offset) for a 1-based page; sizes capped so no request loads a table."""
    if not 1 <= page <= MAX_PAGES or not 1 <= per_page <= MAX_PAGE:
        raise UserError(
            f"page must be between 1 and {MAX_PAGES:,} and per_page between 1 and {MAX_PAGE}"
        )
    return per_page, (page - 1) * per_page
