"""Which labels to add: calibrated thresholds, per-repository settings, and humans first."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from kubesift.bot.events import is_self


@dataclass(frozen=True)
class RepoSettings:
    """A repository's bot settings; ``None`` fields fall back to the process defaults."""

    families: tuple[str, ...] = ()  # empty: every family the model predicts
    target_precision: float | None = None
    comment: bool | None = None
    dry_run: bool | None = None


@dataclass(frozen=True)
class Suggestion:
    label: str
    score: float
    words: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    """What the bot decided for one item."""

    suggested: tuple[Suggestion, ...]  # passed every bar, in score order
    add: tuple[str, ...]  # suggested and not yet on the item
    present: tuple[str, ...]  # suggested and already there
    held_back: tuple[str, ...] = field(default=())  # suggested but a human removed it


def family_of(label: str) -> str:
    return label.split("/", 1)[0] if "/" in label else label


def passes(label: str, score: float, chosen: bool, settings: RepoSettings) -> bool:
    """A label passes when the model chose it (its calibrated threshold) and, with a
    repository target precision, its (calibrated) probability is at least that target."""
    if not chosen:
        return False
    if settings.families and family_of(label) not in settings.families:
        return False
    return settings.target_precision is None or score >= settings.target_precision


def plan(
    scores: Mapping[str, float],
    chosen: Sequence[str],
    words: Mapping[str, Sequence[str]],
    current: Iterable[str],
    human_removed: Iterable[str],
    settings: RepoSettings,
) -> Plan:
    """Only add: never remove anything, never re-add what a human removed."""
    have = {n.lower() for n in current}
    removed = {n.lower() for n in human_removed}
    picked = [n for n in chosen if passes(n, float(scores.get(n, 0.0)), True, settings)]
    picked.sort(key=lambda n: -float(scores.get(n, 0.0)))
    suggested = tuple(
        Suggestion(n, float(scores.get(n, 0.0)), tuple(words.get(n, ()))) for n in picked
    )
    present = tuple(n for n in picked if n.lower() in have)
    held = tuple(n for n in picked if n.lower() not in have and n.lower() in removed)
    add = tuple(n for n in picked if n.lower() not in have and n.lower() not in removed)
    return Plan(suggested, add, present, held)


def human_removed(events: Iterable[tuple[str, str, str]], identities: frozenset[str]) -> set[str]:
    """Labels whose last change, in (event, label, actor) order, is a removal by someone
    other than the bot."""
    last: dict[str, tuple[str, str]] = {}
    for event, label, actor in events:
        last[label.lower()] = (event, actor)
    return {
        label
        for label, (event, actor) in last.items()
        if event == "unlabeled" and not is_self(actor, identities)
    }
