"""Reading triage back: incidents with their decisions, explanations and answers; counts.
Shared by ``kubesift alerts list``, the HTTP API and the dashboard."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from kubesift.store.schema import (
    alert_feedback,
    alert_incidents,
    alert_models,
    alert_outbox,
    alert_signals,
)


def incidents(
    conn: Connection, *, limit: int = 50, decision: str | None = None, offset: int = 0
) -> list[dict[str, Any]]:
    """The newest incidents first, each with its decision, why, and the answers given."""
    inc = alert_incidents.c
    query = select(alert_incidents).order_by(inc.opened_at.desc(), inc.id.desc())
    if decision:
        query = query.where(inc.decision == decision)
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
    }


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
