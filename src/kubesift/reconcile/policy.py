"""The reconciler's decisions as plain functions on plain data (no store, no files)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kubesift.learn.online import Online
from kubesift.reconcile.desired import Canary, Desired, Promotion, Rollback

_EPS = 1e-9


def human_age(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"


# -- train: is production stale? ----------------------------------------------------------------


@dataclass(frozen=True)
class Staleness:
    stale: bool
    reason: str


def staleness(
    desired: Desired,
    production: Mapping[str, Any] | None,
    age_seconds: float | None,
    labelled_now: int,
    data_hash_now: str,
) -> Staleness:
    """Whether to train a candidate: no model, another spec, too old, or new labels."""
    if production is None:
        return Staleness(True, "no production model yet")
    wanted = desired.model_spec()
    have = {
        "model": production.get("model"),
        "tasks": list(production.get("tasks") or []),
        "families": list(production.get("families") or []),
        "target_precision": production.get("target_precision"),
        "source": production.get("source", "release-notes"),
        # Versions from before forward calibration promised what they did not deliver.
        "calibration": production.get("calibration", "out-of-fold"),
    }
    changed = sorted(k for k in wanted if wanted[k] != have[k])
    if changed:
        diff = "; ".join(f"{k}: {have[k]!r} → {wanted[k]!r}" for k in changed)
        return Staleness(True, f"production does not match the desired model ({diff})")
    labelled_then = production.get("labelled")
    new = None if labelled_then is None else labelled_now - int(labelled_then)
    if new is not None and new >= desired.freshness.min_new_labels:
        return Staleness(
            True,
            f"{new:,} new labelled examples since production was trained "
            f"(≥ {desired.freshness.min_new_labels:,})",
        )
    too_old = age_seconds is not None and age_seconds > desired.freshness.max_age
    if too_old and production.get("data_hash") != data_hash_now:
        return Staleness(
            True,
            f"production is {human_age(age_seconds or 0)} old "
            f"(max {human_age(desired.freshness.max_age)}) and the data changed",
        )
    news = "an unknown number of" if new is None else f"{new:,}"
    age = "" if age_seconds is None else f"{human_age(age_seconds)} old, "
    same = " (the data is unchanged)" if too_old else ""
    return Staleness(
        False,
        f"production is fresh: {age}{news} new labelled examples "
        f"(retrain at {desired.freshness.min_new_labels:,} or after "
        f"{human_age(desired.freshness.max_age)}){same}",
    )


# -- evaluate: is the candidate at least as good offline? ---------------------------------------


@dataclass(frozen=True)
class SliceScores:
    """One model's F1 per label and micro-F1 per family on the evaluation slice."""

    labels: dict[str, tuple[float, int]]  # key → (F1, support)
    families: dict[str, float]  # family → micro-F1


@dataclass(frozen=True)
class Verdict:
    accept: bool
    reason: str
    vetoes: list[str] = field(default_factory=list)
    table: list[dict[str, Any]] = field(default_factory=list)


def compare(candidate: SliceScores, production: SliceScores, policy: Promotion) -> Verdict:
    """Accept only if no label (with support ≥ ``min_support``) loses more than
    ``max_label_f1_drop`` F1 and no family's micro-F1 drops by more than
    ``max_family_f1_drop``. A label the candidate no longer predicts counts as F1 0."""
    vetoes: list[str] = []
    table: list[dict[str, Any]] = []
    for key, (p_f1, support) in sorted(production.labels.items()):
        c_f1 = candidate.labels.get(key, (0.0, support))[0]
        counts = support >= policy.min_support
        dropped = p_f1 - c_f1 > policy.max_label_f1_drop + _EPS
        table.append(
            {
                "what": key,
                "production": p_f1,
                "candidate": c_f1,
                "support": support,
                "veto": counts and dropped,
            }
        )
        if counts and dropped:
            vetoes.append(
                f"{key} F1 {p_f1:.3f} → {c_f1:.3f} "
                f"(−{p_f1 - c_f1:.3f} > {policy.max_label_f1_drop:g})"
            )
    for family, p_micro in sorted(production.families.items()):
        if family not in candidate.families:
            continue
        c_micro = candidate.families[family]
        dropped = p_micro - c_micro > policy.max_family_f1_drop + _EPS
        table.append(
            {
                "what": f"family {family} micro-F1",
                "production": p_micro,
                "candidate": c_micro,
                "support": None,
                "veto": dropped,
            }
        )
        if dropped:
            vetoes.append(f"family {family} micro-F1 {p_micro:.4f} → {c_micro:.4f}")
    if vetoes:
        shown = "; ".join(vetoes[:3]) + (f"; and {len(vetoes) - 3} more" if len(vetoes) > 3 else "")
        return Verdict(False, f"worse than production: {shown}", vetoes, table)
    fam = ", ".join(
        f"{f} {production.families[f]:.3f} → {candidate.families[f]:.3f}"
        for f in sorted(production.families)
        if f in candidate.families
    )
    return Verdict(
        True,
        f"no label lost more than {policy.max_label_f1_drop:g} F1"
        + (f"; family micro-F1 {fam}" if fam else ""),
        [],
        table,
    )


# -- train: what to do about it -------------------------------------------------------------------

#: A candidate's state from the actions recorded about it; the later stage wins.
CANDIDATE_STATES = (
    ("rolled-back", "rolled back"),
    ("aborted", "aborted"),
    ("refused", "refused"),
    ("promoted", "promoted"),
    ("canary-started", "canary"),
    ("accepted", "accepted"),
)
IN_FLIGHT = frozenset({"trained", "accepted", "canary"})


def candidate_state(actions: set[str]) -> str:
    """``trained`` until a later stage was recorded about the candidate."""
    for action, state in CANDIDATE_STATES:
        if action in actions:
            return state
    return "trained"


def in_flight(pending: tuple[str, str] | None) -> str | None:
    """Why not to train now because a candidate (``(ref, state)``) is still being judged."""
    if pending is not None and pending[1] in IN_FLIGHT:
        return f"candidate {pending[0]} is in flight ({pending[1]})"
    return None


@dataclass(frozen=True)
class TrainPlan:
    """The train controller's decision: ``train`` (pinning production first, or making
    the first model production right away) or ``none`` with the reason."""

    action: str  # train | none
    reason: str
    subject: str | None = None
    pin_production: bool = False
    first_model: bool = False


def train_plan(
    verdict: Staleness,
    production: str | None,
    pinned: bool,
    pending: tuple[str, str] | None,
    pending_same: bool,
) -> TrainPlan:
    """What to do once no candidate is in flight. ``pending`` is the newest candidate
    (``(ref, state)``, refused or aborted), ``pending_same`` whether retraining now would
    repeat it (same spec, same data), ``pinned`` whether production.json exists."""
    if not verdict.stale:
        return TrainPlan("none", verdict.reason, production)
    if pending is not None and pending_same:
        return TrainPlan(
            "none",
            f"{verdict.reason}, but {pending[0]} was trained as desired on this same data and "
            f"{pending[1]}; waiting for new data",
            pending[0],
        )
    return TrainPlan(
        "train",
        verdict.reason,
        production,
        pin_production=production is not None and not pinned,
        first_model=production is None,
    )


# -- canary and rollback: online precision from human feedback ----------------------------------


def canary_verdict(
    candidate: Online,
    production: Online,
    policy: Canary,
    floor: float,
    age_seconds: float = 0.0,
) -> tuple[str, str]:
    """("wait" | "promote" | "abort", reason). Production's precision is the yardstick
    when it has enough judgements; otherwise the rollback floor is. A canary that is
    still short of judgements after ``max_wait`` is aborted: unproven, it never serves all."""
    if candidate.judged < policy.min_judged and age_seconds > policy.max_wait:
        return "abort", (
            f"canary has only {candidate.judged} of {policy.min_judged} judged labels after "
            f"{human_age(age_seconds)} (max wait {human_age(policy.max_wait)}); production kept"
        )
    if candidate.judged < policy.min_judged:
        return "wait", (
            f"canary has {candidate.judged} of {policy.min_judged} judged labels "
            f"(production {production.describe()})"
        )
    cp = candidate.precision or 0.0
    if production.judged >= policy.min_judged:
        ref, what = (production.precision or 0.0) - policy.max_precision_drop, "production"
        detail = f"production {production.describe()}, allowed drop {policy.max_precision_drop:g}"
    else:
        ref, what = floor, "the rollback floor"
        detail = f"production has {production.judged} judged labels; floor {floor:g}"
    if cp + _EPS >= ref:
        return "promote", f"canary online precision {cp:.3f} holds against {what} ({detail})"
    return "abort", f"canary online precision {cp:.3f} is below {what} ({detail})"


def rollback_verdict(production: Online, policy: Rollback, previous: str | None) -> tuple[str, str]:
    """("none" | "rollback" | "hold", reason)."""
    p = production.precision
    if production.judged < policy.min_judged or p is None:
        return "none", (
            f"production has {production.judged} of {policy.min_judged} judged labels "
            "needed to judge it online"
        )
    if p + _EPS >= policy.min_precision:
        return "none", f"production online precision {p:.3f} ≥ {policy.min_precision:g}"
    if previous is None:
        return "hold", (
            f"production online precision {p:.3f} < {policy.min_precision:g}, but there is "
            "no earlier production model to roll back to"
        )
    return "rollback", (
        f"production online precision {p:.3f} < {policy.min_precision:g}: back to {previous}"
    )
