"""Online precision: how the bot's label decisions fared with the humans who came after.

The one definition that ``kubesift bot stats``, the reconciler's canary and its rollback
all read (they used to count differently):

* a label the bot **added** is judged once a human has changed the item's labels: *removed*
  when a human's last change to that label on that item was a removal, else *kept*; while
  no human has touched the item's labels it is not judged (no feedback is not a verdict:
  with no answers at all, precision and recall are unknown, never 100 %);
* a **shadow** decision (dry-run: the bot would have added the label) is judged against
  the final human labels: *kept* when a human's last change to that label added it,
  *removed* (wrong) when humans changed the item's labels but did not end up adding this
  one, and not judged yet while no human has touched the item's labels;
* a label humans added to an item the bot decided on, that the bot did not suggest, is
  *missed* (recall).

An item/label counts once; a real addition wins over a shadow one. :func:`tally` is the pure
rule on plain rows; :func:`label_stats` reads the rows from the store.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.engine import Connection

from kubesift.store.schema import bot_corrections, bot_decisions

Key = tuple[str, int, str]  # repo, number, label

#: (repo, number, label, action, dry_run) as in ``bot_decisions``
DecisionRow = tuple[str, int, str, str, bool]
#: (repo, number, label, action) as in ``bot_corrections``, oldest first
CorrectionRow = tuple[str, int, str, str]


@dataclass(frozen=True)
class LabelStats:
    label: str
    added: int  # added, or would have been added in shadow mode
    kept: int
    removed: int
    missed: int

    @property
    def judged(self) -> int:
        return self.kept + self.removed

    @property
    def precision(self) -> float | None:
        return self.kept / self.judged if self.judged else None

    @property
    def recall(self) -> float | None:
        found = self.kept + self.missed
        return self.kept / found if found else None


@dataclass(frozen=True)
class Online:
    """A model's judged decisions and how many of them were wrong."""

    judged: int
    wrong: int

    @property
    def precision(self) -> float | None:
        return (self.judged - self.wrong) / self.judged if self.judged else None

    def describe(self) -> str:
        p = self.precision
        return "no judgements" if p is None else f"{p:.3f} on {self.judged} labels"


def tally(
    decisions: Iterable[DecisionRow], corrections: Iterable[CorrectionRow]
) -> list[LabelStats]:
    """Per label, sorted by name: the rule in this module's docstring."""
    added: dict[Key, bool] = {}  # key -> shadow?
    decided: set[tuple[str, int]] = set()
    for repo, number, label, action, dry_run in decisions:
        decided.add((repo, number))
        if action == "added":
            key = (repo, number, label)
            added[key] = added.get(key, True) and bool(dry_run)
    last: dict[Key, str] = {}
    touched: set[tuple[str, int]] = set()
    for repo, number, label, action in corrections:
        last[(repo, number, label)] = action
        touched.add((repo, number))
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for key, shadow in added.items():
        c = counts[key[2]]
        c[0] += 1
        verdict = (_shadow_verdict if shadow else _added_verdict)(key, last, touched)
        if verdict is not None:
            c[1 if verdict else 2] += 1
    for key, action in last.items():
        if action == "labeled" and key not in added and key[:2] in decided:
            counts[key[2]][3] += 1
    return [LabelStats(label, *c) for label, c in sorted(counts.items())]


def _added_verdict(key: Key, last: dict[Key, str], touched: set[tuple[str, int]]) -> bool | None:
    if last.get(key) == "unlabeled":
        return False
    return True if key[:2] in touched else None


def _shadow_verdict(key: Key, last: dict[Key, str], touched: set[tuple[str, int]]) -> bool | None:
    if last.get(key) == "labeled":
        return True
    return False if key[:2] in touched else None


def label_stats(
    conn: Connection,
    *,
    repo: str | None = None,
    model: str | None = None,
    since: str | None = None,
) -> list[LabelStats]:
    """:func:`tally` over the store's decisions (of ``repo`` / ``model`` / made since
    ``since``, when given) and every human correction on those repositories."""
    d, c = bot_decisions, bot_corrections
    dq = select(d.c.repo, d.c.number, d.c.label, d.c.action, d.c.dry_run)
    cq = select(c.c.repo, c.c.number, c.c.label, c.c.action).order_by(c.c.id)
    if repo:
        dq = dq.where(d.c.repo == repo)
        cq = cq.where(c.c.repo == repo)
    if model:
        dq = dq.where(d.c.model == model)
    if since:
        dq = dq.where(d.c.created_at >= since)
    decisions = [
        (str(r), int(n), str(lab), str(a), bool(dr)) for r, n, lab, a, dr in conn.execute(dq)
    ]
    corrections = [(str(r), int(n), str(lab), str(a)) for r, n, lab, a in conn.execute(cq)]
    return tally(decisions, corrections)


def overall(stats: Sequence[LabelStats]) -> Online:
    """All labels together: what the canary and rollback decisions compare."""
    return Online(sum(s.judged for s in stats), sum(s.removed for s in stats))


def stats_rows(stats: Sequence[LabelStats]) -> list[dict[str, object]]:
    return [
        {
            "label": s.label,
            "added": s.added,
            "kept": s.kept,
            "removed": s.removed,
            "missed": s.missed,
            "judged": s.judged,  # 0: no human feedback yet, and precision is None
            "precision": s.precision,
            "recall": s.recall,
        }
        for s in stats
    ]


def weekly(
    decisions: Iterable[tuple[str, DecisionRow]], corrections: Sequence[CorrectionRow]
) -> list[tuple[str, list[LabelStats]]]:
    """:func:`tally` per week the decisions were made in (``(week, row)`` pairs, weeks as
    ``2026-W49``), each judged by every correction: a week's precision keeps improving
    as humans get to its items, as the one-number figure does."""
    by_week: dict[str, list[DecisionRow]] = defaultdict(list)
    for week, row in decisions:
        by_week[week].append(row)
    return [(week, tally(rows, corrections)) for week, rows in sorted(by_week.items())]


def label_stats_by_week(
    conn: Connection, *, model: str | None = None, since: str | None = None
) -> list[tuple[str, list[LabelStats]]]:
    """:func:`weekly` over the store's decisions (of ``model``, made since ``since``)."""
    d, c = bot_decisions, bot_corrections
    dq = select(d.c.created_at, d.c.repo, d.c.number, d.c.label, d.c.action, d.c.dry_run)
    if model:
        dq = dq.where(d.c.model == model)
    if since:
        dq = dq.where(d.c.created_at >= since)
    rows = [
        (_week(str(at)), (str(r), int(n), str(lab), str(a), bool(dr)))
        for at, r, n, lab, a, dr in conn.execute(dq)
    ]
    repos = sorted({row[0] for _, row in rows})
    cq = select(c.c.repo, c.c.number, c.c.label, c.c.action).order_by(c.c.id)
    corrections = [
        (str(r), int(n), str(lab), str(a))
        for r, n, lab, a in conn.execute(cq.where(c.c.repo.in_(repos)))
    ]
    return weekly(rows, corrections)


def _week(stamp: str) -> str:
    year, week, _ = date.fromisoformat(stamp[:10]).isocalendar()
    return f"{year}-W{week:02d}"
