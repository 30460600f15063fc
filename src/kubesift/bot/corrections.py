"""Recording a human's label change: the feedback that online precision and the next
model's training read (a human removal becomes a negative example)."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from kubesift.bot import events, records
from kubesift.bot.handling import JobContext, Outcome
from kubesift.github.actors import is_human_verdict


def record_change(ctx: JobContext, change: events.LabelChange) -> Outcome:
    """A person's label change (or Prow's, applying a person's command) becomes a
    correction; the bot's own changes and other bots' (``k8s-triage-robot``'s…) are not
    human verdicts and feed neither online precision nor the canary and rollback steps."""
    if events.is_self(change.actor, ctx.pool.identities()):
        return Outcome("own change")
    if not is_human_verdict(change.actor or "", change.actor_is_bot):
        return Outcome("another bot's change")

    def record(conn: Connection) -> None:
        records.record_correction(conn, ctx.delivery_id, change)

    return Outcome("correction", record)
