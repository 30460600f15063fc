"""Online precision: one table of cases, read the same by ``kubesift bot stats`` and by the
reconciler's canary and rollback (they used to disagree on shadow decisions)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import insert
from sqlalchemy.engine import Engine

from kubesift.config import load_settings
from kubesift.learn import online
from kubesift.learn.online import LabelStats, Online, tally
from kubesift.reconcile.controllers.context import Context, online_of
from kubesift.reconcile.desired import desired_from
from kubesift.store import open_store
from kubesift.store.schema import bot_corrections, bot_decisions
from tests.conftest import run_cli

R = "o/r"
BUG = "kind/bug"

# (name, decisions (number, label, action, dry_run), corrections (number, label, action),
#  expected kind/bug (added, kept, removed, missed))
CASES = [
    # No human has touched the item's labels: no verdict (not "kept": no answers is no 100 %).
    ("added, no human since", [(1, BUG, "added", False)], [], (1, 0, 0, 0)),
    ("added, a human changed another label", [(1, BUG, "added", False)],
     [(1, "priority/important-soon", "labeled")], (1, 1, 0, 0)),
    ("added, human removed", [(1, BUG, "added", False)], [(1, BUG, "unlabeled")], (1, 0, 1, 0)),
    (
        "added, removed then re-added",
        [(1, BUG, "added", False)],
        [(1, BUG, "unlabeled"), (1, BUG, "labeled")],
        (1, 1, 0, 0),
    ),
    # Shadow decisions are judged against the final human labels.
    ("shadow, no human yet", [(1, BUG, "added", True)], [], (1, 0, 0, 0)),
    ("shadow, human added it", [(1, BUG, "added", True)], [(1, BUG, "labeled")], (1, 1, 0, 0)),
    (
        "shadow, human labelled otherwise",
        [(1, BUG, "added", True)],
        [(1, "kind/feature", "labeled")],
        (1, 0, 1, 0),
    ),
    (
        "shadow, human added then removed",
        [(1, BUG, "added", True)],
        [(1, BUG, "labeled"), (1, BUG, "unlabeled")],
        (1, 0, 1, 0),
    ),
    # A real addition wins over a shadow one for the same item and label.
    (
        "shadow then added",
        [(1, BUG, "added", True), (1, BUG, "added", False)],
        [(1, "priority/important-soon", "labeled")],
        (1, 1, 0, 0),
    ),
    # Recall: a label humans added to a decided item that the bot did not suggest.
    ("missed", [(1, "kind/feature", "added", False)], [(1, BUG, "labeled")], (0, 0, 0, 1)),
    ("held back then added by a human", [(1, BUG, "held_back", False)], [(1, BUG, "labeled")],
     (0, 0, 0, 1)),
    ("not decided, not missed", [(2, "kind/feature", "added", False)], [(1, BUG, "labeled")],
     None),
]  # fmt: skip


def _expected(stats: list[LabelStats]) -> tuple[int, int, int, int] | None:
    found = [s for s in stats if s.label == BUG]
    return (found[0].added, found[0].kept, found[0].removed, found[0].missed) if found else None


@pytest.mark.parametrize(("decisions", "corrections", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_the_rule(
    decisions: list[tuple[int, str, str, bool]],
    corrections: list[tuple[int, str, str]],
    expected: tuple[int, int, int, int] | None,
) -> None:
    stats = tally(
        [(R, n, lab, a, dr) for n, lab, a, dr in decisions],
        [(R, n, lab, a) for n, lab, a in corrections],
    )
    assert _expected(stats) == expected


def _seed(engine: Engine, model: str) -> None:
    """Every case of the table at once, each on its own items (case i uses 100·i + n)."""
    rows, fixes = [], []
    for i, (_, decisions, corrections, _e) in enumerate(CASES):
        for n, label, action, dry in decisions:
            rows.append(
                {"repo": R, "number": 100 * i + n, "kind": "pr", "label": label, "score": 0.9,
                 "action": action, "dry_run": dry, "model": model,
                 "created_at": "2026-01-01T00:00:00.000000Z"}
            )  # fmt: skip
        for n, label, action in corrections:
            fixes.append(
                {"delivery_id": f"d{len(fixes)}", "repo": R, "number": 100 * i + n,
                 "label": label, "action": action, "actor": "alice",
                 "created_at": "2026-01-02T00:00:00.000000Z"}
            )  # fmt: skip
    with engine.begin() as conn:
        conn.execute(insert(bot_decisions), rows)
        conn.execute(insert(bot_corrections), fixes)


def test_bot_stats_and_the_reconciler_read_the_same_numbers(home: Path) -> None:
    engine = open_store(load_settings())
    _seed(engine, "sift-linear@v1")
    added = sum(e[0] for *_x, e in CASES if e)
    kept = sum(e[1] for *_x, e in CASES if e)
    removed = sum(e[2] for *_x, e in CASES if e)
    with engine.connect() as conn:
        stats = online.label_stats(conn, repo=R)
    bug = next(s for s in stats if s.label == BUG)
    assert (bug.added, bug.kept, bug.removed) == (added, kept, removed)

    # `kubesift bot stats --json` (a real process) prints those figures...
    out = run_cli("bot", "stats", "--json", "--repo", R)
    assert out.returncode == 0, out.stderr
    printed = {r["label"]: r for r in json.loads(out.stdout)["labels"]}
    assert (printed[BUG]["kept"], printed[BUG]["removed"]) == (kept, removed)
    assert printed[BUG]["precision"] == pytest.approx(kept / (kept + removed))

    # ...and the canary/rollback controllers judge the model on the same ones.
    ctx = Context(engine, home / "models", desired_from({}))
    judged = online_of(ctx, "sift-linear@v1", "2025-12-31T00:00:00.000000Z")
    feature = next(s for s in stats if s.label == "kind/feature")
    assert judged == Online(bug.judged + feature.judged, bug.removed + feature.removed)
    assert judged.precision == pytest.approx(online.overall(stats).precision)
    # Decisions before `since` do not count, nor do another model's.
    assert online_of(ctx, "sift-linear@v1", "2026-06-01T00:00:00.000000Z") == Online(0, 0)
    assert online_of(ctx, "other@v2", None) == Online(0, 0)


def test_no_answer_is_no_feedback_not_100_percent() -> None:
    """The bot labelled two items and no human has said anything: precision and recall are
    unknown (the dashboard once showed 100 % / 100 %)."""
    stats = tally([(R, 1, BUG, "added", False), (R, 2, BUG, "added", False)], [])
    assert [(s.added, s.judged, s.precision, s.recall) for s in stats] == [(2, 0, None, None)]
    assert online.overall(stats).describe() == "no judgements"


def test_weekly_precision_judges_each_week_by_every_later_correction() -> None:
    decisions = [
        ("2026-W48", ("o/r", 1, "kind/bug", "added", False)),
        ("2026-W48", ("o/r", 2, "kind/bug", "added", False)),
        ("2026-W49", ("o/r", 3, "kind/bug", "added", False)),
        ("2026-W49", ("o/r", 4, "kind/bug", "added", False)),
    ]
    # #2's label was removed; #3's removed, then put back by a human: it was right; no
    # human touched #1's or #4's labels: not judged yet.
    corrections = [
        ("o/r", 2, "kind/bug", "unlabeled"),
        ("o/r", 3, "kind/bug", "unlabeled"),
        ("o/r", 3, "kind/bug", "labeled"),
    ]
    weeks = online.weekly(decisions, corrections)
    assert [w for w, _ in weeks] == ["2026-W48", "2026-W49"]
    [w48], [w49] = (stats for _, stats in weeks)
    assert (w48.kept, w48.removed, w48.precision) == (0, 1, 0.0)
    assert (w49.kept, w49.removed, w49.precision) == (1, 0, 1.0)
    assert online._week("2026-12-06T02:40:00Z") == "2026-W49"
    assert online._week("2027-01-01T00:00:00Z") == "2026-W53"
