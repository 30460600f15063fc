"""The promote controller: an accepted candidate starts a canary (``canary.share`` > 0)
or becomes production at once."""

from __future__ import annotations

from kubesift.learn import registry
from kubesift.reconcile.controllers.context import Context, candidate_in, production_version
from kubesift.reconcile.records import Decision
from kubesift.timeutil import stamp


def promote(ctx: Context) -> list[Decision]:
    cand = candidate_in(ctx, "accepted")
    if cand is None:
        return [Decision("promote", "none", "no accepted candidate")]
    ref = registry.ref(cand)
    prod = production_version(ctx)
    share = ctx.desired.canary.share
    at = stamp()
    if prod is not None and share > 0:
        registry.start_canary(ctx.models_dir, cand, share, at)
        return [
            Decision(
                "promote",
                "canary-started",
                f"the bot sends {share:.0%} of items to {ref}; production stays "
                f"{registry.ref(prod)} until online precision decides",
                ref,
                {"at": at, "share": share, "production": registry.ref(prod)},
            )
        ]
    registry.promote(ctx.models_dir, cand.name, cand.version)
    registry.end_canary(ctx.models_dir)
    before = registry.ref(prod) if prod else None
    return [
        Decision(
            "promote",
            "promoted",
            "accepted offline" + ("" if prod else " (first model)") + " and no canary configured",
            ref,
            {"at": at, "from": before},
        )
    ]
