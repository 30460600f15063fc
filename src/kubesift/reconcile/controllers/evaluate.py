"""The evaluate controller: judge a trained candidate against production offline, on the
newest slice of data neither has seen (the verdict is :func:`policy.compare`)."""

from __future__ import annotations

from kubesift.learn import registry
from kubesift.reconcile import judge, policy
from kubesift.reconcile.controllers.context import Context, candidate_in, production_version
from kubesift.reconcile.records import Decision


def evaluate(ctx: Context) -> list[Decision]:
    cand = candidate_in(ctx, "trained")
    if cand is None:
        return [Decision("evaluate", "none", "no candidate awaits evaluation")]
    ref = registry.ref(cand)
    prod = production_version(ctx)
    if prod is None:
        return [
            Decision("evaluate", "accepted", "there is no production model to compare with", ref)
        ]
    dataset = ctx.dataset()
    split = judge.later_split(str(cand.metadata["split"]), prod.metadata.get("split"))
    ctx.note(f"evaluate: {ref} against {registry.ref(prod)} on the slice {split}")
    c = judge.slice_scores(dataset, split, *registry.judged_model(cand))
    p = judge.slice_scores(dataset, split, *registry.judged_model(prod))
    verdict = policy.compare(c, p, ctx.desired.promotion)
    details = {
        "split": split,
        "production": registry.ref(prod),
        "table": verdict.table,
        "vetoes": verdict.vetoes,
    }
    action = "accepted" if verdict.accept else "refused"
    return [Decision("evaluate", action, verdict.reason, ref, details)]
