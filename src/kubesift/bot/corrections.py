"""Recording a human's label change: the feedback that online precision and the next
model's training read (a human removal becomes a negative example)."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from kubesift.bot import events, records
from kubesift.bot.handling import JobContext, Outcome


def record_change(ctx: JobContext, change: events.LabelChange) -> Outcome:
    if events.is_self(change.actor, ctx.pool.identities()):
        return Outcome("own change")

    def record(conn: Connection) -> None:
        records.record_correction(conn, ctx.delivery_id, change)

    return Outcome("correction", record)
