"""The canary controller: once the canary has enough judged labels, promote it or abort
it by online precision (the verdict is :func:`policy.canary_verdict`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kubesift.errors import UserError
from kubesift.learn import registry
from kubesift.learn.online import Online
from kubesift.reconcile import policy
from kubesift.reconcile.controllers.context import Context, online_of, production_version
from kubesift.reconcile.records import Decision
from kubesift.timeutil import parse_iso, stamp


def canary(ctx: Context) -> list[Decision]:
    pointer = registry.read_canary(ctx.models_dir)
    if pointer is None:
        return [Decision("canary", "none", "no canary running")]
    try:
        cand = registry.find(ctx.models_dir, str(pointer["name"]), str(pointer["version"]))
    except UserError:
        registry.end_canary(ctx.models_dir)
        subject = f"{pointer.get('name')}@{pointer.get('version')}"
        return [Decision("canary", "aborted", "the canary's model version is gone", subject)]
    prod = production_version(ctx)
    ref = registry.ref(cand)
    since = str(pointer.get("started_at") or "")
    c = online_of(ctx, ref, since)
    p = online_of(ctx, registry.ref(prod), since) if prod else Online(0, 0)
    age = (datetime.now(UTC) - parse_iso(since)).total_seconds() if since else 0.0
    action, reason = policy.canary_verdict(
        c, p, ctx.desired.canary, ctx.desired.rollback.min_precision, age
    )
    details: dict[str, Any] = {
        "candidate": [c.judged, c.wrong],
        "production": [p.judged, p.wrong],
        "since": since,
    }
    if action == "wait":
        return [Decision("canary", "waiting", reason, ref, details)]
    registry.end_canary(ctx.models_dir)
    if action == "abort":
        return [Decision("canary", "aborted", reason, ref, details)]
    registry.promote(ctx.models_dir, cand.name, cand.version)
    details |= {"at": stamp(), "from": registry.ref(prod) if prod else None}
    return [Decision("canary", "promoted", reason, ref, details)]
