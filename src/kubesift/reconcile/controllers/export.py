"""The export controller: bring every desired repository's mirror up to date."""

from __future__ import annotations

from kubesift.errors import KubesiftError, UserError
from kubesift.reconcile.controllers.context import Context
from kubesift.reconcile.records import Decision


def export(ctx: Context) -> list[Decision]:
    if not ctx.desired.repositories:
        return [Decision("export", "none", "no repositories in the desired state")]
    if ctx.export is None:
        raise UserError("export needs GitHub access, which this run was not given")
    out = []
    for repo in ctx.desired.repositories:
        ctx.note(f"export: updating {repo}")
        try:
            report = ctx.export(repo)
        except KubesiftError as exc:
            # Train on the data already stored; the next pass tries again.
            out.append(Decision("export", "error", exc.message, repo))
            continue
        figures = report.as_dict()
        if report.unchanged:
            reason = f"unchanged (304), {report.requests} request(s)"
        else:
            reason = (
                f"{report.items:,} items and {report.events:,} label events stored, "
                f"{report.requests} requests"
            )
        out.append(
            Decision(
                "export", "unchanged" if report.unchanged else "updated", reason, repo, figures
            )
        )
    ctx.forget_dataset()
    return out
