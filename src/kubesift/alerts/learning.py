"""Retrain, judge, promote and roll back the needs-a-human model (the reconciler's step).

A candidate is trained on every answer so far. It replaces production only when, on the
newest slice of answers (which neither model was fitted on for this comparison), it keeps
recall of needs-a-human at the target and pages no more than production does. Production
is rolled back when the answers that came in after its promotion show it missed people:
suppressed incidents that someone then said needed a human.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.engine import Connection, Engine

from kubesift.alerts import feedback
from kubesift.alerts import model as models
from kubesift.store.schema import alert_feedback, alert_incidents, alert_models
from kubesift.timeutil import parse_iso, utcnow_iso

TARGET_RECALL = 0.99
HOLDOUT = 0.2
MIN_NEW_ANSWERS = 20
#: Production's online recall below this (on at least MIN_JUDGED answers) rolls it back.
ROLLBACK_RECALL = 0.95
MIN_JUDGED = 20


@dataclass(frozen=True)
class Step:
    action: str  # none | trained | promoted | rejected | rolled-back
    reason: str
    model: int = 0
    details: dict[str, Any] | None = None


def production(conn: Connection) -> tuple[int, models.TriageModel, str]:
    """The production model's id, model and creation time (0, the prior, '' when none)."""
    row = conn.execute(
        select(alert_models)
        .where(alert_models.c.status == "production")
        .order_by(alert_models.c.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return 0, models.cold_start(), ""
    return row.id, models.TriageModel.from_json(row.body), row.created_at


def evaluate(model: models.TriageModel, held: list[models.Example]) -> dict[str, float]:
    scores = [model.score(e.features)[0] for e in held]
    return models.forward_figures(
        scores,
        [e.needs_human for e in held],
        [e.severity == "critical" for e in held],
        model.page,
    )


def judge(cand: dict[str, float], prod: dict[str, float], target: float) -> tuple[bool, str]:
    """Promote only a candidate that keeps recall and does not page more. The answers
    carry mistakes and the slice is small, so recall may trail by one missed incident."""
    slack = 1.0 / max(cand.get("positives", 0.0), 1.0)
    floor = min(target, prod["recall"]) - slack
    if cand["recall"] < floor:
        return False, f"recall {cand['recall']:.3f} on the newest answers is below {floor:.3f}"
    if cand["paged_share"] > prod["paged_share"] and prod["recall"] >= target:
        return False, (
            f"pages {cand['paged_share']:.1%} of incidents, production {prod['paged_share']:.1%}"
        )
    return True, (
        f"recall {cand['recall']:.3f}, pages {cand['paged_share']:.1%} "
        f"(production: recall {prod['recall']:.3f}, pages {prod['paged_share']:.1%})"
    )


def save(conn: Connection, model: models.TriageModel, status: str, metrics: dict[str, Any],
         reason: str, at: str | None = None) -> int:  # fmt: skip
    made = conn.execute(
        alert_models.insert().values(
            created_at=at or utcnow_iso(), status=status, body=model.to_json(),
            metrics=json.dumps(metrics, sort_keys=True), reason=reason,
        )
    )  # fmt: skip
    return int(made.inserted_primary_key[0])  # type: ignore[index]


def promote(conn: Connection, model_id: int) -> None:
    conn.execute(
        update(alert_models).where(alert_models.c.status == "production").values(status="retired")
    )
    conn.execute(
        update(alert_models).where(alert_models.c.id == model_id).values(status="production")
    )


def retrain(
    engine: Engine, *, at: str | None = None, force: bool = False,
    target: float = TARGET_RECALL, min_new: int = MIN_NEW_ANSWERS,
) -> Step:  # fmt: skip
    """Train a candidate when enough new answers arrived; promote it if it is better.
    ``at`` is now (a replay passes its own clock)."""
    with engine.begin() as conn:
        prod_id, prod, since = production(conn)
        examples = feedback.examples(conn)
        fresh = _answers_since(conn, since)
        if not force and prod_id and fresh < min_new:
            return Step("none", f"{fresh} new answers since model {prod_id} (needs {min_new})")
        if not models.enough(examples):
            return Step("none", f"{len(examples)} judged incidents: the severity prior stays")
        ordered = sorted(examples, key=lambda e: e.at)
        cut = int(len(ordered) * (1 - HOLDOUT))
        now = parse_iso(at).timestamp() if at else ordered[-1].at
        trial = models.train(ordered[:cut], now=ordered[cut - 1].at, target_recall=target)
        held = _credible(trial, ordered[cut:])
        cand_m, prod_m = evaluate(trial, held), evaluate(prod, held)
        ok, why = judge(cand_m, prod_m, target)
        final = models.train(ordered, now=now, target_recall=target)
        metrics = {"holdout": cand_m, "production_holdout": prod_m, **final.meta}
        model_id = save(conn, final, "production" if ok else "rejected", metrics, why, at)
        if ok:
            promote(conn, model_id)
            return Step("promoted", why, model_id, metrics)
        return Step("rejected", why, model_id, metrics)


def _credible(model: models.TriageModel, held: list[models.Example]) -> list[models.Example]:
    """The held-out answers less those the candidate confidently contradicts: a share of
    answers is wrong, and judging on them would reward repeating the mistakes."""
    if model.kind != "logistic":
        return held
    doubtful = models.clean([(model.score(e.features)[0], e) for e in held])
    return [e for i, e in enumerate(held) if i not in doubtful]


def _answers_since(conn: Connection, since: str) -> int:
    query = select(func.count()).select_from(alert_feedback)
    if since:
        query = query.where(alert_feedback.c.at > since)
    return int(conn.execute(query).scalar_one())


def online_recall(conn: Connection, since: str) -> tuple[int, int]:
    """(caught, needed) over explicit answers given after ``since``: of the incidents
    people said needed a human, how many were paged."""
    fb, inc = alert_feedback.c, alert_incidents.c
    rows = conn.execute(
        select(inc.decision)
        .join(alert_incidents, inc.id == fb.incident_id)
        .where(and_(fb.explicit, fb.needs_human, inc.opened_at > since))
    ).all()
    return sum(r.decision == "page" for r in rows), len(rows)


def rollback(
    engine: Engine, *, floor: float = ROLLBACK_RECALL, min_judged: int = MIN_JUDGED
) -> Step:
    """Back to the previous model when production measurably misses pages online."""
    with engine.begin() as conn:
        prod_id, _, since = production(conn)
        if not prod_id:
            return Step("none", "no trained model in production")
        caught, needed = online_recall(conn, since)
        if needed < min_judged:
            return Step("none", f"{needed} answers since model {prod_id} (needs {min_judged})")
        recall = caught / needed
        if recall >= floor:
            return Step("none", f"model {prod_id}: online recall {recall:.3f} >= {floor}")
        before = conn.execute(
            select(alert_models.c.id)
            .where(alert_models.c.status == "retired", alert_models.c.id < prod_id)
            .order_by(alert_models.c.id.desc())
            .limit(1)
        ).first()
        conn.execute(
            update(alert_models).where(alert_models.c.id == prod_id).values(status="rejected")
        )
        if before is not None:
            promote(conn, before.id)
        back = f"model {before.id}" if before is not None else "the severity prior"
        return Step(
            "rolled-back",
            f"model {prod_id} caught {caught} of {needed} incidents that needed a human "
            f"({recall:.3f} < {floor}); back to {back}",
            prod_id,
        )
