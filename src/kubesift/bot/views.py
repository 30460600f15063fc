"""The bot views: what ``kubesift bot decisions --json`` and the dashboard's Bot page
both show (the week's activity and the decisions, each marked when a human corrected
it), each computed here once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.engine import Connection

from kubesift.github.names import item_url
from kubesift.store.queries import page_args
from kubesift.store.schema import bot_corrections, bot_decisions, repositories
from kubesift.timeutil import days_ago as _since


def bot_activity(conn: Connection, days: float = 7.0) -> dict[str, Any]:
    d, c = bot_decisions.c, bot_corrections.c
    since = _since(days)
    by_action: dict[Any, Any] = dict(
        conn.execute(
            select(d.action, func.count()).where(d.created_at >= since).group_by(d.action)
        ).all()
    )
    corrections = conn.execute(
        select(func.count()).select_from(bot_corrections).where(c.created_at >= since)
    ).scalar()
    return {
        "days": days,
        "decisions": {str(k): int(v) for k, v in by_action.items()},
        "corrections": int(corrections or 0),
    }


def decisions(
    conn: Connection,
    *,
    page: int = 1,
    per_page: int = 50,
    repo: str | None = None,
    label: str | None = None,
    action: str | None = None,
) -> dict[str, Any]:
    """The bot's decisions, newest first, each marked when a human corrected it."""
    limit, offset = page_args(page, per_page)
    d, c = bot_decisions.c, bot_corrections.c
    where = [x for x in (
        d.repo == repo if repo else None,
        d.label == label if label else None,
        d.action == action if action else None,
    ) if x is not None]  # fmt: skip
    total = conn.execute(select(func.count()).select_from(bot_decisions).where(*where)).scalar()
    corrected = (
        select(func.count())
        .select_from(bot_corrections)
        .where(and_(c.repo == d.repo, c.number == d.number, c.label == d.label))
        .scalar_subquery()
    )
    api = (
        select(repositories.c.api_url)
        .where(repositories.c.full_name == d.repo)
        .limit(1)
        .scalar_subquery()
    )
    query = (
        select(d.id, d.repo, d.number, d.kind, d.label, d.score, d.action, d.dry_run, d.model,
               d.created_at, corrected.label("corrections"), api.label("api_url"))
        .where(*where)
        .order_by(d.id.desc())
        .limit(limit)
        .offset(offset)
    )  # fmt: skip
    rows = [
        {
            **dict(r._mapping),
            "corrected": int(r.corrections or 0) > 0,
            "url": item_url(r.repo, r.kind, r.number, r.api_url),
        }
        for r in conn.execute(query)
    ]
    for row in rows:
        row.pop("corrections", None)
        row.pop("api_url", None)
    return {"total": int(total or 0), "page": page, "per_page": per_page, "rows": rows}
