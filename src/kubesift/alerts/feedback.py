"""Feedback from the people on call: explicit answers, silences, and the labels it makes.

Explicit feedback (CLI, HTTP, Slack) says whether an incident needed a human. Implicit
feedback is weaker: a silence created for it, or it resolved within minutes with nobody
acting (recorded by the ingest). An incident's label is its newest explicit answer, else
its newest implicit one; the training example is the feature snapshot frozen when it
was decided, never anything computed later.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from kubesift.alerts.model import Example
from kubesift.alerts.signals import iso
from kubesift.errors import AlertInputError, UserError
from kubesift.store.schema import alert_feedback, alert_incidents, alert_signals
from kubesift.timeutil import parse_iso, utcnow_iso

ANSWERS = {
    "important": True, "needs-human": True, "yes": True, "ack": True, "page": True,
    "not-important": False, "not_important": False, "noise": False, "no": False,
}  # fmt: skip
VIAS = ("cli", "http", "web", "slack", "silence", "resolved", "replay")
IMPLICIT_WEIGHT = 0.5


class UnknownIncident(UserError):
    """Feedback names an incident the store does not have (HTTP 404)."""


def answer_of(label: Any) -> bool:
    if isinstance(label, bool):
        return label
    value = ANSWERS.get(str(label).strip().lower())
    if value is None:
        raise AlertInputError(
            f"unknown feedback {label!r} (one of: important, not-important, ack, noise)"
        )
    return value


def record(
    conn: Connection,
    incident: int,
    needs_human: bool,
    *,
    via: str,
    user: str = "",
    note: str = "",
    at: str | None = None,
    explicit: bool = True,
) -> int:
    """Store one answer about ``incident``; raises :class:`UnknownIncident`."""
    found = conn.execute(
        select(alert_incidents.c.id).where(alert_incidents.c.id == incident)
    ).first()
    if found is None:
        raise UnknownIncident(f"no incident {incident} (see `kubesift alerts list`)")
    if via not in VIAS:
        raise AlertInputError(f"unknown feedback channel {via!r}")
    made = conn.execute(
        alert_feedback.insert().values(
            incident_id=incident, needs_human=needs_human, explicit=explicit, via=via,
            user=user[:255], at=at or utcnow_iso(), note=note[:2000],
        )
    )  # fmt: skip
    return int(made.inserted_primary_key[0])  # type: ignore[index]


def incident_for_key(conn: Connection, key: str) -> int:
    """The newest incident of an alert fingerprint, Event uid or group key."""
    sig = alert_signals.c
    found = conn.execute(
        select(sig.incident_id)
        .where(sig.key == key, sig.incident_id.is_not(None))
        .order_by(sig.id.desc())
        .limit(1)
    ).first()
    if found is None:
        raise UnknownIncident(f"no incident for alert {key!r}")
    return int(found.incident_id)


def examples(conn: Connection, until: str | None = None) -> list[Example]:
    """One training example per judged incident (answers given up to ``until``)."""
    fb, inc = alert_feedback.c, alert_incidents.c
    query = (
        select(fb.incident_id, fb.needs_human, fb.explicit, inc.opened_at, inc.features,
               inc.severity)
        .join(alert_incidents, inc.id == fb.incident_id)
        .order_by(fb.incident_id, fb.explicit, fb.at, fb.id)
    )  # fmt: skip
    if until:
        query = query.where(fb.at <= until)
    latest: dict[int, Any] = {}
    for row in conn.execute(query):
        latest[row.incident_id] = row  # explicit answers sort last, so they win
    return [
        Example(
            at=parse_iso(r.opened_at).timestamp(),
            features=json.loads(r.features),
            severity=r.severity,
            needs_human=bool(r.needs_human),
            weight=1.0 if r.explicit else IMPLICIT_WEIGHT,
        )
        for r in latest.values()
    ]


def matches(matchers: list[Mapping[str, Any]], labels: Mapping[str, str]) -> bool:
    """Alertmanager's silence matchers (name, value, isRegex, isEqual) against labels."""
    for m in matchers:
        value = labels.get(str(m.get("name", "")), "")
        wanted = str(m.get("value", ""))
        hit = re.fullmatch(wanted, value) is not None if m.get("isRegex") else value == wanted
        if hit != bool(m.get("isEqual", True)):
            return False
    return True


def apply_silence(conn: Connection, silence: Mapping[str, Any]) -> list[int]:
    """Mark the incidents a silence covers as not needing a human (implicit); their ids."""
    matchers = silence.get("matchers")
    starts = silence.get("startsAt")
    if not isinstance(matchers, list) or not matchers or not isinstance(starts, str):
        raise AlertInputError("a silence needs 'matchers' (a non-empty list) and 'startsAt'")
    at = iso(starts, "startsAt")
    sig, inc = alert_signals.c, alert_incidents.c
    rows = conn.execute(
        select(sig.incident_id, sig.labels)
        .join(alert_incidents, inc.id == sig.incident_id)
        .where(sig.source == "alertmanager", inc.opened_at <= at)
        .where((inc.closed_at.is_(None)) | (inc.closed_at >= at))
    )
    hit = sorted({r.incident_id for r in rows if matches(matchers, json.loads(r.labels))})
    who = str(silence.get("createdBy") or "")
    for incident in hit:
        record(conn, incident, False, via="silence", user=who, note=str(
            silence.get("comment") or "silenced"), at=at, explicit=False)  # fmt: skip
    return hit
