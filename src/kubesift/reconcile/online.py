"""Online precision of a model version from the bot's records: labels it added (not in
dry-run) and whether a human removed them afterwards (``bot_corrections``)."""

from __future__ import annotations

from sqlalchemy import and_, desc, select
from sqlalchemy.engine import Engine

from kubesift.reconcile.policy import Online
from kubesift.store.schema import bot_corrections, bot_decisions


def online(engine: Engine, model: str, since: str | None = None) -> Online:
    """Added labels by ``model`` (name@version) since ``since``; removed = a human's last
    change to that label on that item was a removal."""
    d, c = bot_decisions, bot_corrections
    last = (
        select(c.c.action)
        .where(and_(c.c.repo == d.c.repo, c.c.number == d.c.number, c.c.label == d.c.label))
        .order_by(desc(c.c.id))
        .limit(1)
        .scalar_subquery()
    )
    query = select(d.c.repo, d.c.number, d.c.label, last.label("last")).where(
        d.c.model == model, d.c.action == "added", d.c.dry_run.is_(False)
    )
    if since:
        query = query.where(d.c.created_at >= since)
    outcome: dict[tuple[str, int, str], bool] = {}
    with engine.connect() as conn:
        for repo, number, label, action in conn.execute(query):
            outcome[(repo, number, label)] = action == "unlabeled"
    return Online(len(outcome), sum(outcome.values()))
