"""Reading triage back: incidents with their decisions, explanations and answers; counts.
Shared by ``kubesift alerts list``, the HTTP API and the dashboard."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from kubesift.errors import UserError
from kubesift.store.schema import (
    alert_feedback,
    alert_incidents,
    alert_models,
    alert_outbox,
    alert_signals,
    alert_templates,
)

DECISIONS = ("page", "digest", "record", "drop")


def _latest_answers() -> Any:
    """Each answered incident's latest answer (id, needs_human): the one that counts."""
    fb = alert_feedback.c
    last = select(func.max(fb.id)).group_by(fb.incident_id).scalar_subquery()
    return select(fb.incident_id, fb.needs_human).where(fb.id.in_(last)).subquery()


def _missed() -> Any:
    """Incidents whose latest answer says a human was needed, but that were not paged:
    the pages kubesift missed."""
    latest = _latest_answers()
    return (
        select(latest.c.incident_id)
        .join(alert_incidents, alert_incidents.c.id == latest.c.incident_id)
        .where(latest.c.needs_human.is_(True), alert_incidents.c.decision != "page")
    )


def incidents(
    conn: Connection,
    *,
    limit: int = 50,
    decision: str | None = None,
    offset: int = 0,
    missed: bool = False,
) -> list[dict[str, Any]]:
    """The newest incidents first, each with its decision, why, the answers given and
    whether it was a missed page; ``missed`` keeps only those."""
    inc = alert_incidents.c
    query = select(alert_incidents).order_by(inc.opened_at.desc(), inc.id.desc())
    if decision:
        query = query.where(inc.decision == decision)
    if missed:
        query = query.where(inc.id.in_(_missed()))
    rows = conn.execute(query.limit(limit).offset(offset)).all()
    answers = _answers(conn, [r.id for r in rows])
    sent = _sent(conn, [r.id for r in rows])
    return [_incident(r, answers, sent) for r in rows]


def incident(conn: Connection, incident_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(alert_incidents).where(alert_incidents.c.id == incident_id)).first()
    if row is None:
        return None
    return _incident(row, _answers(conn, [row.id]), _sent(conn, [row.id]))


def _incident(
    r: Any, answers: dict[int, list[dict[str, Any]]], sent: dict[int, str]
) -> dict[str, Any]:
    return {
        "id": r.id,
        "name": r.name,
        "source": r.source,
        "severity": r.severity,
        "namespace": r.namespace,
        "workload": r.workload,
        "text": r.text,
        "runbook": r.runbook,
        "opened_at": r.opened_at,
        "closed_at": r.closed_at,
        "signals": r.signals,
        "flaps": r.flaps,
        "decision": r.decision,
        "shadow": bool(r.shadow),
        "paged_at": sent.get(r.id),
        "score": r.score,
        "threshold": r.threshold,
        "model": r.model,
        "why": json.loads(r.explanation),
        "feedback": answers.get(r.id, []),
        "missed_page": _was_missed(r.decision, answers.get(r.id, [])),
    }


def _was_missed(decision: str, answers: list[dict[str, Any]]) -> bool:
    return bool(answers) and answers[-1]["needs_human"] and decision != "page"


def _answers(conn: Connection, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = {}
    if not ids:
        return found
    fb = alert_feedback.c
    for r in conn.execute(select(alert_feedback).where(fb.incident_id.in_(ids)).order_by(fb.id)):
        found.setdefault(r.incident_id, []).append(
            {"needs_human": bool(r.needs_human), "explicit": bool(r.explicit), "via": r.via,
             "user": r.user, "at": r.at, "note": r.note}
        )  # fmt: skip
    return found


def _sent(conn: Connection, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    ob = alert_outbox.c
    rows = conn.execute(
        select(ob.incident_id, ob.sent_at).where(ob.incident_id.in_(ids), ob.kind == "page")
    )
    return {r.incident_id: r.sent_at or "queued" for r in rows}


def signals_of(conn: Connection, incident: int, limit: int = 20) -> list[dict[str, Any]]:
    sig = alert_signals.c
    rows = conn.execute(
        select(sig.source, sig.name, sig.status, sig.at, sig.text, sig.pod, sig.occurrences)
        .where(sig.incident_id == incident)
        .order_by(sig.at.desc())
        .limit(limit)
    )
    return [dict(r._mapping) for r in rows]


def signals(conn: Connection, limit: int = 50) -> list[dict[str, Any]]:
    """The newest signals received, each with the incident it joined (None: context only,
    such as a Normal Event)."""
    sig = alert_signals.c
    rows = conn.execute(
        select(sig.id, sig.source, sig.key, sig.name, sig.severity, sig.status, sig.at,
               sig.received_at, sig.namespace, sig.workload, sig.pod, sig.text,
               sig.occurrences, sig.truncated, sig.template_id, sig.incident_id)
        .order_by(sig.id.desc())
        .limit(limit)
    )  # fmt: skip
    return [dict(r._mapping) for r in rows]


def related(conn: Connection, incident: dict[str, Any], limit: int = 5) -> dict[str, list[str]]:
    """Warning Events and error log lines about the incident's workload just before it."""
    if not incident.get("workload"):
        return {"events": [], "logs": []}
    sig = alert_signals.c
    out: dict[str, list[str]] = {}
    for source, key in (("k8s-event", "events"), ("log", "logs")):
        rows = conn.execute(
            select(sig.name, sig.text, sig.occurrences)
            .where(
                sig.namespace == incident["namespace"], sig.workload == incident["workload"],
                sig.source == source, sig.at <= incident["opened_at"],
            )
            .order_by(sig.at.desc())
            .limit(limit)
        )  # fmt: skip
        out[key] = [
            f"{r.name} (x{r.occurrences}): {r.text}" if source == "k8s-event" else r.text
            for r in rows
        ]
    return out


def summary(conn: Connection) -> dict[str, Any]:
    """Counts by decision and source, answers, and the production model's figures."""
    inc, sig = alert_incidents.c, alert_signals.c
    decisions: dict[Any, Any] = dict(
        conn.execute(select(inc.decision, func.count()).group_by(inc.decision)).all()
    )
    sources: dict[Any, Any] = dict(
        conn.execute(select(sig.source, func.count()).group_by(sig.source)).all()
    )
    fb = alert_feedback.c
    answers: dict[Any, Any] = dict(
        conn.execute(select(fb.via, func.count()).group_by(fb.via)).all()
    )
    model = conn.execute(
        select(alert_models.c.id, alert_models.c.metrics, alert_models.c.created_at)
        .where(alert_models.c.status == "production")
        .order_by(alert_models.c.id.desc())
        .limit(1)
    ).first()
    return {
        "signals": {str(k): int(v) for k, v in sources.items()},
        "incidents": {str(k): int(v) for k, v in decisions.items()},
        "feedback": {str(k): int(v) for k, v in answers.items()},
        "model": {"id": model.id, "created_at": model.created_at,
                  "metrics": json.loads(model.metrics)} if model else None,
    }  # fmt: skip


def quality(conn: Connection) -> dict[str, Any]:
    """How the decisions fared against the answers people gave (each incident's latest
    answer, explicit or implied by a silence): precision of pages, recall of the incidents
    that needed a human, and the pages missed. A figure with nothing to judge it is None,
    with the reason in ``why``."""
    inc = alert_incidents.c
    latest = _latest_answers()
    rows = conn.execute(
        select(inc.decision, latest.c.needs_human, func.count())
        .select_from(alert_incidents.outerjoin(latest, latest.c.incident_id == inc.id))
        .group_by(inc.decision, latest.c.needs_human)
    ).all()
    count: dict[tuple[str, Any], int] = {(str(d), n): int(c) for d, n, c in rows}
    pages = sum(c for (d, _), c in count.items() if d == "page")
    pages_answered = sum(c for (d, n), c in count.items() if d == "page" and n is not None)
    pages_needed = count.get(("page", True), 0)
    needed = sum(c for (_, n), c in count.items() if n is True)
    missed = needed - pages_needed
    answered = sum(c for (_, n), c in count.items() if n is not None)
    return {
        "incidents": sum(count.values()),
        "answered": answered,
        "pages": pages,
        "pages_answered": pages_answered,
        "precision": round(pages_needed / pages_answered, 4) if pages_answered else None,
        "needed": needed,
        "recall": round(pages_needed / needed, 4) if needed else None,
        "missed_pages": missed,
        "why": {
            "precision": None if pages_answered else
            f"no answers yet: {pages:,} pages, 0 answered",
            "recall": None if needed else
            f"no incident answered 'needed a human' yet ({answered:,} of "
            f"{sum(count.values()):,} answered)",
        },
    }  # fmt: skip


def inbox(
    conn: Connection,
    *,
    limit: int = 50,
    offset: int = 0,
    decision: str | None = None,
    missed: bool = False,
) -> dict[str, Any]:
    """The Alerts view (``kubesift alerts list --json`` and the dashboard's API): incidents
    newest first, how many there are (the decisions add up to it), the answers' verdict
    on them, and the most frequent log templates."""
    if decision and decision not in DECISIONS:
        raise UserError(f"decision must be {', '.join(DECISIONS)}, not {decision!r}")
    rows = incidents(conn, limit=limit, offset=offset, decision=decision, missed=missed)
    judged = quality(conn)
    counts = summary(conn)
    by_decision = counts["incidents"]
    if missed:
        total = judged["missed_pages"]
    else:
        total = by_decision.get(decision, 0) if decision else sum(by_decision.values())
    return {
        "total": int(total),
        "rows": rows,
        "decisions": {d: by_decision.get(d, 0) for d in DECISIONS},
        "quality": judged,
        "summary": counts,
        "templates": templates(conn, 10) if offset == 0 else [],
    }


def templates(conn: Connection, limit: int = 20) -> list[dict[str, Any]]:
    """The log templates seen most often (Drain-style, from the alert receivers)."""
    t = alert_templates.c
    query = select(t.id, t.tokens, t.count, t.first_at, t.last_at).order_by(t.count.desc())
    return [dict(r._mapping) for r in conn.execute(query.limit(limit))]


def headlines(view: dict[str, Any]) -> list[str]:
    """The inbox's figures as the lines the CLI prints and the demo says: the decisions
    adding up to the incidents, then the answers' verdict (or why there is none)."""
    d, q = view["decisions"], view["quality"]
    parts = " + ".join(f"{d[k]:,} {WORDS[k]}" for k in DECISIONS)
    lines = [f"{q['incidents']:,} incidents = {parts}"]
    for key, what in (("precision", "precision of pages"), ("recall", "recall of needed a human")):
        value = q[key]
        lines.append(f"{what}: {value:.2f}" if value is not None else f"{what}: {q['why'][key]}")
    lines.append(f"missed pages (needed a human, not paged): {q['missed_pages']:,}")
    return lines


WORDS = {"page": "paged", "digest": "in a digest", "record": "recorded", "drop": "dropped"}
