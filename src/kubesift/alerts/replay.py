"""Replay a generated stream through the real receiver path and measure the decisions.

The stream goes through the same ingest, store and model code a live receiver runs, in
time order, with simulated people on call: they answer every page, half of the digest,
and audit a tenth of what was only recorded; a share of their answers is wrong on
purpose. The reconciler's step retrains (and may promote or roll back) once a simulated
day. Figures are taken on the later half of the stream, against the generator's truth,
beside what "page everything" and Alertmanager's grouping alone would have sent.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from kubesift.alerts import feedback, learning, signals
from kubesift.alerts.grouping import alertmanager_notifications
from kubesift.alerts.ingest import Settings, Triage
from kubesift.alerts.quiet import Quiet
from kubesift.errors import AlertInputError
from kubesift.store.schema import alert_incidents, alert_outbox, alert_signals
from kubesift.timeutil import from_epoch, parse_iso

DAY = 86400.0


@dataclass
class People:
    """How the simulated people on call answer."""

    wrong: float = 0.1
    digest_share: float = 0.5
    audit_share: float = 0.1
    seed: int = 11


@dataclass
class Replay:
    incidents: dict[int, bool] = field(default_factory=dict)  # incident -> truth
    episodes: dict[int, tuple[float, bool, int]] = field(default_factory=dict)  # first, truth, inc
    alerts: dict[tuple[str, str], list[Any]] = field(default_factory=dict)  # (key, starts)
    models: list[str] = field(default_factory=list)


def _epoch(value: str) -> float:
    return parse_iso(value).timestamp()


def parse(record: dict[str, Any]) -> list[signals.Signal]:
    source, payload = record.get("source"), record.get("payload")
    if source == "alertmanager":
        return signals.from_alertmanager(payload)
    if source == "k8s":
        return signals.from_k8s(payload)
    if source == "log":
        return signals.from_fluentbit(payload)
    raise AlertInputError(f"unknown record source {source!r}")


def run(
    engine: Engine,
    records: Iterable[dict[str, Any]],
    *,
    people: People | None = None,
    shadow: bool = False,
    retrain_every: float = DAY,
    on_record: Callable[[int], None] = lambda _n: None,
    quiet: Quiet | None = None,
) -> tuple[dict[str, Any], Replay]:
    people = people or People()
    rng = random.Random(people.seed)
    triage = Triage(Settings(shadow=shadow, model_refresh=0.0, quiet=quiet or Quiet()))
    state = Replay()
    answers: list[tuple[float, int, int, bool, str]] = []
    meta: dict[str, Any] = {}
    next_train = 0.0
    for n, rec in enumerate(records):
        if rec.get("kind") == "meta":
            meta = rec
            continue
        t = _epoch(rec["at"])
        next_train = next_train or t + retrain_every
        _answer_due(engine, answers, t)
        if t >= next_train:
            step = learning.retrain(engine, at=rec["at"], min_new=10)
            if step.action == "promoted":
                state.models.append(rec["at"])
            learning.rollback(engine)
            next_train += retrain_every
        _one(engine, triage, rec, t, state, answers, rng, people)
        on_record(n)
    _answer_due(engine, answers, float("inf"))
    return figures(engine, state, meta), state


def _one(engine: Engine, triage: Triage, rec: dict[str, Any], t: float, state: Replay,
         answers: list[Any], rng: random.Random, people: People) -> None:  # fmt: skip
    found = parse(rec)
    with engine.begin() as conn:
        out = triage.ingest(conn, found)
        decided = {
            r.id: r.decision
            for r in conn.execute(
                select(alert_incidents.c.id, alert_incidents.c.decision).where(
                    alert_incidents.c.id.in_(out.opened)
                )
            )
        }
        incident = None
        if rec.get("episode") and found:
            incident = conn.execute(
                select(alert_signals.c.incident_id).where(alert_signals.c.dedup == found[0].dedup)
            ).scalar()
    truth = bool(rec.get("truth"))
    for inc in out.opened:
        state.incidents[inc] = truth if rec.get("episode") else False
        _schedule(answers, rng, people, t, inc, decided[inc], state.incidents[inc])
    if rec.get("episode"):
        ep = rec["episode"]
        if ep not in state.episodes and found and found[0].status == "firing":
            state.episodes[ep] = (t, truth, incident or 0)
        if incident and truth:
            state.incidents[incident] = True
    for s in found:
        if s.source == "alertmanager" and s.severity != "none":
            starts = s.dedup.split(":", 3)[3]
            span = state.alerts.setdefault(
                (s.key, starts), [s.namespace, s.name, _epoch(starts), 0.0, s.key]
            )
            if s.status == "resolved":
                span[3] = _epoch(s.at)


def _schedule(answers: list[Any], rng: random.Random, people: People, t: float, inc: int,
              decision: str, truth: bool) -> None:  # fmt: skip
    said = truth if rng.random() >= people.wrong else not truth
    if decision == "page":
        heapq.heappush(answers, (t + 1200, inc, len(answers), said, "replay"))
    elif decision == "digest" and rng.random() < people.digest_share:
        heapq.heappush(answers, (t + 6 * 3600, inc, len(answers), said, "replay"))
    elif decision == "record" and rng.random() < people.audit_share:
        heapq.heappush(answers, (t + DAY, inc, len(answers), said, "replay"))


def _answer_due(engine: Engine, answers: list[Any], t: float) -> None:
    due = []
    while answers and answers[0][0] <= t:
        due.append(heapq.heappop(answers))
    if not due:
        return
    with engine.begin() as conn:
        for at, inc, _, said, via in due:
            when = from_epoch(min(at, 4e9))
            feedback.record(conn, inc, said, via=via, user="on-call", at=when)


def figures(engine: Engine, state: Replay, meta: dict[str, Any]) -> dict[str, Any]:
    """Pages, recall, precision and drift recovery on the later half of the stream."""
    half = _epoch(meta["drift_at"]) if meta.get("drift_at") else 0.0
    with engine.connect() as conn:
        rows = conn.execute(
            select(alert_incidents.c.id, alert_incidents.c.opened_at)
        ).all()  # fmt: skip
        paged = set(
            conn.execute(
                select(alert_outbox.c.incident_id).where(alert_outbox.c.kind == "page")
            ).scalars()
        )
    opened = {r.id: _epoch(r.opened_at) for r in rows}
    later = [i for i, at in opened.items() if at >= half]
    ours = [i for i in later if i in paged]
    needed = [(inc, at) for at, truth, inc in state.episodes.values() if truth and at >= half]
    missed = sum(1 for inc, _ in needed if inc not in paged)
    episodes_later = sum(1 for at, _, _ in state.episodes.values() if at >= half)
    spans = [tuple(v) for v in state.alerts.values()]
    everything = sum(1 for v in spans if v[2] >= half)
    grouping = sum(1 for at in alertmanager_notifications(spans) if at >= half)
    true_pages = sum(1 for i in ours if state.incidents.get(i))
    return {
        "episodes_later_half": episodes_later,
        "incidents_later_half": len(later),
        "pages_kubesift": len(ours),
        "pages_everything": everything,
        "pages_grouping": grouping,
        "fewer_pages_than_grouping": round(1 - len(ours) / grouping, 4) if grouping else 0.0,
        "fewer_pages_than_everything": round(1 - len(ours) / everything, 4) if everything else 0.0,
        "recall_needs_human": round(1 - missed / len(needed), 4) if needed else 1.0,
        "missed_per_1000_alerts": round(1000 * missed / max(episodes_later, 1), 2),
        "precision_of_pages": round(true_pages / len(ours), 4) if ours else 0.0,
        "models_promoted": len(state.models),
        **_recovery(opened, paged, state, half),
    }  # fmt: skip


def _recovery(opened: dict[int, float], paged: set[int], state: Replay,
              half: float) -> dict[str, float]:  # fmt: skip
    """Page precision per day after the drift, and how many days until it is back within
    0.05 of the week before."""

    def precision(lo: float, hi: float) -> float | None:
        ids = [i for i, at in opened.items() if lo <= at < hi and i in paged]
        return sum(bool(state.incidents.get(i)) for i in ids) / len(ids) if ids else None

    before = precision(half - 7 * DAY, half)
    days = None
    for d in range(0, 30):
        now = precision(half + (d - 2) * DAY, half + (d + 1) * DAY)
        if now is None:
            break
        if before is not None and now >= before - 0.05 and d >= 1:
            days = d
            break
    return {
        "precision_week_before_drift": round(before, 4) if before is not None else 0.0,
        "precision_first_day_after_drift": round(precision(half, half + DAY) or 0.0, 4),
        "days_to_recover_precision": float(days) if days is not None else -1.0,
    }
