"""Bot records in the store: per-repository settings, decisions and human corrections
(online precision over them is :mod:`kubesift.learn.online`)."""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.engine import Connection

from kubesift.bot.events import LabelChange
from kubesift.bot.policy import Plan, RepoSettings
from kubesift.store.schema import bot_corrections, bot_decisions, bot_settings
from kubesift.store.writes import dialect_insert, ensure_repository, insert_label_events
from kubesift.timeutil import stamp, utcnow_iso


def get_settings(conn: Connection, repo: str) -> RepoSettings:
    row = conn.execute(select(bot_settings).where(bot_settings.c.repo == repo)).mappings().first()
    if row is None:
        return RepoSettings()
    families = tuple(f for f in (row["families"] or "").split(",") if f)
    return RepoSettings(families, row["target_precision"], row["comment"], row["dry_run"])


def put_settings(conn: Connection, repo: str, settings: RepoSettings) -> None:
    values = {
        "families": ",".join(settings.families),
        "target_precision": settings.target_precision,
        "comment": settings.comment,
        "dry_run": settings.dry_run,
        "updated_at": utcnow_iso(),
    }
    stmt = dialect_insert(conn, bot_settings).values(repo=repo, **values)
    conn.execute(
        stmt.on_conflict_do_update(index_elements=["repo"], set_=values)  # type: ignore[attr-defined]
    )


def all_settings(conn: Connection) -> dict[str, RepoSettings]:
    repos = conn.execute(select(bot_settings.c.repo).order_by(bot_settings.c.repo)).scalars()
    return {str(r): get_settings(conn, str(r)) for r in repos}


def record_decisions(
    conn: Connection,
    job_id: int | None,
    repo: str,
    number: int,
    kind: str,
    plan: Plan,
    *,
    dry_run: bool,
    model: str,
) -> None:
    """One row per suggested label: added, already present, or held back for a human."""
    now = stamp()
    rows = [
        {
            "job_id": job_id,
            "repo": repo,
            "number": number,
            "kind": kind,
            "label": s.label,
            "score": s.score,
            "action": "added"
            if s.label in plan.add
            else "present"
            if s.label in plan.present
            else "held_back",
            "dry_run": dry_run,
            "model": model,
            "created_at": now,
        }
        for s in plan.suggested
    ]
    if rows:
        conn.execute(bot_decisions.insert(), rows)


def record_correction(conn: Connection, delivery_id: str, change: LabelChange) -> None:
    """A human's label change; also a ``label_events`` row, which ``learn`` datasets read
    (a human removal becomes a negative example, see ``learn.dataset.provenance``)."""
    now = stamp()
    stmt = dialect_insert(conn, bot_corrections).values(
        delivery_id=delivery_id,
        repo=change.repo,
        number=change.number,
        label=change.label,
        action=change.action,
        actor=change.actor,
        created_at=now,
    )
    stmt = stmt.on_conflict_do_nothing(index_elements=["delivery_id"])  # type: ignore[attr-defined]
    if conn.execute(stmt.returning(bot_corrections.c.id)).first() is None:
        return  # a redelivery (a row came back only if one was inserted; see queue.enqueue)
    repo_id = ensure_repository(conn, change.repo)
    event = {
        "github_id": -int(hashlib.sha1(delivery_id.encode()).hexdigest()[:7], 16),
        "item_number": change.number,
        "event": change.action,
        "label": change.label,
        "actor": change.actor,
        "actor_is_bot": change.actor_is_bot,
        "created_at": change.at or utcnow_iso(),
    }
    insert_label_events(conn, repo_id, [event])


def corrections_for(conn: Connection, repo: str, number: int) -> list[tuple[str, str, str]]:
    """(event, label, actor) of recorded human changes on one item, oldest first."""
    rows = conn.execute(
        select(bot_corrections.c.action, bot_corrections.c.label, bot_corrections.c.actor)
        .where(bot_corrections.c.repo == repo, bot_corrections.c.number == number)
        .order_by(bot_corrections.c.id)
    )
    return [(str(a), str(lab), str(actor or "")) for a, lab, actor in rows]
