"""A promotion by hand (the dashboard's button, ``kubesift models promote``), recorded as
the reconciler records its own: the rollback controller then watches the version the same
way (its online precision since it became production, and the model to go back to)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

from kubesift.errors import UserError
from kubesift.learn import registry
from kubesift.reconcile.records import Decision, record
from kubesift.timeutil import stamp


def promote_by_hand(
    engine: Engine, models_dir: Path, name: str, version: str, via: str
) -> registry.ModelVersion:
    """Make ``name/version`` production after checking its files; ``via`` says who asked
    (kept in the decision). Promoting the pinned production version again changes nothing."""
    found = registry.find(models_dir, name, version)
    try:
        registry.verify(found)
    except registry.ModelError as exc:  # a damaged version is refused, not deployed
        raise UserError(f"not promoted: {exc}") from exc
    try:
        before: str | None = registry.ref(registry.production(models_dir))
    except (UserError, registry.ModelError):  # none yet, or its pointer names a lost one
        before = None
    ref = registry.ref(found)
    pinned = (models_dir / registry.PRODUCTION).exists()
    if before == ref and pinned:
        return found
    if before == ref:  # production only as the newest version: pin it, so training won't move it
        before = None
    registry.promote(models_dir, found.name, found.version)
    canary = registry.read_canary(models_dir) or {}
    if (canary.get("name"), canary.get("version")) == (found.name, found.version):
        registry.end_canary(models_dir)  # it is production now, not a trial beside it
    reason = f"promoted by hand ({via})" + (f"; production was {before}" if before else "")
    record(
        engine,
        None,
        Decision("manual", "promoted", reason, ref, {"at": stamp(), "from": before, "via": via}),
    )
    return found
