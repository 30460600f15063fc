"""The rollback controller: a production model whose online precision falls below the
floor gives way to the one it replaced (the verdict is :func:`policy.rollback_verdict`)."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from kubesift.learn import registry
from kubesift.reconcile import policy
from kubesift.reconcile.controllers.context import Context, online_of, production_version
from kubesift.reconcile.records import Decision, decisions_about
from kubesift.timeutil import stamp


def rollback(ctx: Context) -> list[Decision]:
    prod = production_version(ctx)
    if prod is None:
        return [Decision("rollback", "none", "no production model")]
    ref = registry.ref(prod)
    since, previous = _promoted_at(ctx.engine, prod)
    stats = online_of(ctx, ref, since)
    action, reason = policy.rollback_verdict(stats, ctx.desired.rollback, previous)
    details = {"online": [stats.judged, stats.wrong], "since": since}
    if action != "rollback" or previous is None:
        return [Decision("rollback", action, reason, ref, details)]
    name, _, version = previous.partition("@")
    back = registry.promote(ctx.models_dir, name, version)
    registry.end_canary(ctx.models_dir)
    at = stamp()
    return [
        Decision("rollback", "rolled-back", reason, ref, details | {"to": previous, "at": at}),
        Decision(
            "rollback",
            "restored",
            f"production again after {ref} was rolled back",
            registry.ref(back),
            {"at": at, "from": ref},
        ),
    ]


def _promoted_at(engine: Engine, version: registry.ModelVersion) -> tuple[str | None, str | None]:
    """When ``version`` last became production, and what it replaced when it was
    promoted (a restore after a rollback keeps the model that came before)."""
    found = decisions_about(engine, registry.ref(version), ("promoted", "restored"))
    if not found:
        return None, None
    previous = next((d["details"].get("from") for d in found if d["action"] == "promoted"), None)
    return found[0]["details"].get("at"), previous
