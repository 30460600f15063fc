"""Signals into the store: deduplicated, grouped into incidents, decided, queued to page.

One transaction per batch holds the signals, the incidents they open or update, each
decision with its feature snapshot, and the outbox rows of the pages to send: a receiver
killed at any point has either all of a batch or none of it, and a page is queued once
per incident (the outbox is unique by incident).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import Connection, Row

from kubesift.alerts import model as models
from kubesift.alerts.features import features
from kubesift.alerts.history import history
from kubesift.alerts.policy import decide
from kubesift.alerts.quiet import Quiet
from kubesift.alerts.signals import Signal
from kubesift.alerts.templates import Miner, Template
from kubesift.store.schema import (
    alert_feedback,
    alert_incidents,
    alert_models,
    alert_outbox,
    alert_signals,
    alert_templates,
)
from kubesift.store.writes import dialect_insert
from kubesift.timeutil import parse_iso, shift, stamp

#: A signal joins the incident of its group if that incident saw a signal this recently.
WINDOW = 4 * 3600
#: An incident resolved this soon after it opened, with nobody's feedback, did not need
#: anyone (a weak, implicit label).
QUICK_RESOLVE = 600


@dataclass
class Settings:
    window: float = WINDOW
    shadow: bool = False
    quick_resolve: float = QUICK_RESOLVE
    model_refresh: float = 2.0  # seconds between looks for a newly promoted model
    quiet: Quiet = field(default_factory=Quiet)  # kubesift.toml's [alerts.quiet]


@dataclass
class Outcome:
    stored: int = 0
    duplicates: int = 0
    opened: list[int] = field(default_factory=list)
    pages: list[int] = field(default_factory=list)
    ignored: int = 0  # stored, and by [alerts.quiet] part of no incident
    held: int = 0  # stored, waiting for more of their group (open_after)


class Triage:
    """The receiver's state: settings, the production model, the log template miner."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.model = models.cold_start()
        self.model_id = 0
        self.miner = Miner()
        self._loaded = False
        self._looked = -1e18

    def load(self, conn: Connection) -> None:
        """The production model and the known log templates (once, then on model change)."""
        now = time.monotonic()
        if self._loaded and now - self._looked < self.settings.model_refresh:
            return
        self._looked = now
        row = conn.execute(
            select(alert_models.c.id, alert_models.c.body)
            .where(alert_models.c.status == "production")
            .order_by(alert_models.c.id.desc())
            .limit(1)
        ).first()
        if row is not None and row.id != self.model_id:
            self.model, self.model_id = models.TriageModel.from_json(row.body), row.id
        elif row is None and self.model_id:
            self.model, self.model_id = models.cold_start(), 0
        if not self._loaded:
            for t in conn.execute(select(alert_templates).order_by(alert_templates.c.id)):
                self.miner.restore(Template(t.id, t.tokens.split(" "), t._mapping["count"]))
            self._loaded = True

    @property
    def model_name(self) -> str:
        return f"{self.model.kind}-{self.model_id}" if self.model_id else "prior-0"

    def ingest(self, conn: Connection, signals: Sequence[Signal]) -> Outcome:
        self.load(conn)
        out = Outcome()
        now = stamp()
        touched: dict[int, Template] = {}
        for s in signals:
            if not _insert(conn, s, now):
                out.duplicates += 1
                continue
            out.stored += 1
            if s.source == "k8s-event" and s.labels.get("type") != "Warning":
                continue  # Normal events are context (a rollout), not incidents
            # Templated after the duplicate check, so a re-sent line does not count twice,
            # and before the incident, whose fire-time counts see this line's template.
            template = self._template(s, touched)
            if template is not None:
                conn.execute(_TEMPLATE, {"d": s.dedup, "template": template})
            if self.settings.quiet.ignored(s.namespace, s.name) is not None:
                out.ignored += 1
                continue
            self._incident(conn, s, template, out)
        _save_templates(conn, touched.values(), now)
        return out

    def _template(self, s: Signal, touched: dict[int, Template]) -> int | None:
        if s.source != "log":
            return None
        t = self.miner.add(s.text)
        touched[t.id] = t
        return t.id

    def _incident(self, conn: Connection, s: Signal, template: int | None, out: Outcome) -> None:
        name = f"{s.name} T{template}" if template else s.name
        key = "/".join((s.cluster, s.namespace, s.workload, name))
        found = conn.execute(
            _FIND, {"key": key, "since": shift(s.at, -self.settings.window)}
        ).first()
        if s.status == "resolved":
            if found is not None:
                self._resolve(conn, found, s)
                _link(conn, s, found.id)
            return
        if found is None:
            waiting = 1
            quiet = self.settings.quiet
            if quiet.holds(s.source, s.severity):
                waiting = conn.execute(
                    select(func.count()).where(*_waiting(s, template, quiet.within_minutes))
                ).scalar_one()
                if waiting < quiet.open_after:
                    out.held += 1  # stored, unlinked: it counts when the next one comes
                    return
            incident, paged = self._open(conn, s, name, key, waiting)
            if waiting > 1:
                conn.execute(
                    update(alert_signals)
                    .where(*_waiting(s, template, quiet.within_minutes))
                    .values(incident_id=incident)
                )
            out.opened.append(incident)
            if paged:
                out.pages.append(incident)
        else:
            incident = found.id
            if self._join(conn, found, s):
                out.pages.append(incident)
        _link(conn, s, incident)

    def _open(
        self, conn: Connection, s: Signal, name: str, key: str, waiting: int = 1
    ) -> tuple[int, bool]:
        snapshot = features(
            source=s.source, name=name, severity=s.severity, namespace=s.namespace,
            workload=s.workload, at=parse_iso(s.at), history=history(conn, s, name),
        )  # fmt: skip
        score, why = self.model.score(snapshot)
        d = decide(
            name=s.name, severity=s.severity, score=score, page=self.model.page,
            digest=self.model.digest, shadow=self.settings.shadow, source=s.source,
        )  # fmt: skip
        made = conn.execute(
            alert_incidents.insert().values(
                group_key=key, source=s.source, name=name, severity=s.severity,
                namespace=s.namespace, workload=s.workload, cluster=s.cluster,
                text=s.text[:2000], runbook=s.runbook, opened_at=s.at, last_at=s.at,
                closed_at=None, open_keys=json.dumps([s.key]), signals=waiting, flaps=0,
                decision=d.action, shadow=self.settings.shadow and d.action != "page",
                score=round(score, 6), threshold=self.model.page, model=self.model_name,
                features=json.dumps(snapshot, sort_keys=True),
                explanation=json.dumps({
                    "reason": d.reason, "weights": why, "grouped": self._grouped(s, name),
                    **({"opened": self.settings.quiet.opened_because(waiting)}
                       if waiting > 1 else {}),
                }),
            )
        )  # fmt: skip
        incident = int(made.inserted_primary_key[0])  # type: ignore[index]
        if d.sends_page:
            _queue(conn, incident, "page")
        return incident, d.sends_page

    def _grouped(self, s: Signal, name: str) -> str:
        """Why the signals of an incident are one: what they share, and how close."""
        where = "/".join(p for p in (s.cluster, s.namespace, s.workload) if p) or "-"
        what = "the same log template" if s.source == "log" else "the same name"
        return (
            f"{where}, {name}: signals with {what} on the same workload, each within "
            f"{self.settings.window / 3600:g} h of the one before"
        )

    def _join(self, conn: Connection, found: Row[Any], s: Signal) -> bool:
        """One more signal for an open (or recently closed) incident; a critical one
        pages an incident that had been held back. True when that queued a page."""
        keys = set(json.loads(found.open_keys))
        reopened = found.closed_at is not None
        keys.add(s.key)
        values: dict[str, object] = {
            "open_keys": json.dumps(sorted(keys)),
            "signals": alert_incidents.c.signals + 1,
            "last_at": max(s.at, found.last_at),
            "closed_at": None,
        }
        if reopened:
            values["flaps"] = alert_incidents.c.flaps + 1
        escalate = s.severity == "critical" and found.decision not in ("page", "drop")
        if escalate:
            values.update(decision="page", severity="critical")
        conn.execute(
            update(alert_incidents).where(alert_incidents.c.id == found.id).values(**values)
        )
        return escalate and _queue(conn, found.id, "page")

    def _resolve(self, conn: Connection, found: Row[Any], s: Signal) -> None:
        keys = set(json.loads(found.open_keys))
        keys.discard(s.key)
        closed = s.at if not keys else None
        conn.execute(
            update(alert_incidents)
            .where(alert_incidents.c.id == found.id)
            .values(open_keys=json.dumps(sorted(keys)), closed_at=closed,
                    last_at=max(s.at, found.last_at))
        )  # fmt: skip
        if closed and _paged(conn, found.id):
            _queue(conn, found.id, "resolved")
        quick = shift(found.opened_at, self.settings.quick_resolve)
        if closed and closed <= quick and not _judged(conn, found.id):
            conn.execute(
                alert_feedback.insert().values(
                    incident_id=found.id, needs_human=False, explicit=False, via="resolved",
                    user="", at=closed, note="resolved within minutes, nobody acted",
                )
            )  # fmt: skip


def _waiting(s: Signal, template: int | None, minutes: float) -> list[Any]:
    """Where clauses for the stored signals of ``s``'s group still waiting for an incident
    (``s`` among them) in the ``minutes`` before it."""
    sig = alert_signals.c
    same_template = sig.template_id.is_(None) if template is None else sig.template_id == template
    return [
        sig.source == s.source, sig.cluster == s.cluster[:255],
        sig.namespace == s.namespace[:255], sig.workload == s.workload[:255],
        sig.name == s.name[:255], same_template, sig.status == "firing",
        sig.incident_id.is_(None), sig.at >= shift(s.at, -minutes * 60), sig.at <= s.at,
    ]  # fmt: skip


_FIND = (
    select(alert_incidents)
    .where(
        alert_incidents.c.group_key == bindparam("key"),
        alert_incidents.c.last_at >= bindparam("since"),
    )
    .order_by(alert_incidents.c.id.desc())
    .limit(1)
)
_LINK = (
    update(alert_signals)
    .where(alert_signals.c.dedup == bindparam("d"))
    .values(incident_id=bindparam("incident"))
)
_TEMPLATE = (
    update(alert_signals)
    .where(alert_signals.c.dedup == bindparam("d"))
    .values(template_id=bindparam("template"))
)
_INSERTS: dict[str, Any] = {}  # one INSERT .. ON CONFLICT DO NOTHING per dialect, built once


def _insert(conn: Connection, s: Signal, now: str) -> bool:
    stmt = _INSERTS.get(conn.dialect.name)
    if stmt is None:
        # RETURNING tells a skipped row from an inserted one on both dialects (psycopg's
        # rowcount for ON CONFLICT DO NOTHING is not reliable).
        stmt = (
            dialect_insert(conn, alert_signals)
            .on_conflict_do_nothing(index_elements=["dedup"])  # type: ignore[attr-defined]
            .returning(alert_signals.c.id)
        )
        _INSERTS[conn.dialect.name] = stmt
    row = dict(
        dedup=s.dedup, source=s.source, key=s.key[:512], name=s.name[:255],
        severity=s.severity, status=s.status, at=s.at, received_at=now,
        namespace=s.namespace[:255], workload=s.workload[:255], pod=s.pod[:255],
        node=s.node[:255], cluster=s.cluster[:255], text=s.text, link=s.link[:2048],
        labels=json.dumps(dict(s.labels), sort_keys=True), occurrences=s.occurrences,
        group_key=s.group[:1024], truncated=s.truncated, template_id=None,
        incident_id=None,
    )  # fmt: skip
    return conn.execute(stmt, row).first() is not None


def _link(conn: Connection, s: Signal, incident: int) -> None:
    conn.execute(_LINK, {"d": s.dedup, "incident": incident})


def _queue(conn: Connection, incident: int, kind: str) -> bool:
    stmt = dialect_insert(conn, alert_outbox).values(
        incident_id=incident, kind=kind, created_at=stamp(), attempts=0
    )
    stmt = stmt.on_conflict_do_nothing(index_elements=["incident_id", "kind"])  # type: ignore[attr-defined]
    return conn.execute(stmt.returning(alert_outbox.c.id)).first() is not None


def _paged(conn: Connection, incident: int) -> bool:
    row = conn.execute(
        select(alert_outbox.c.id).where(
            alert_outbox.c.incident_id == incident, alert_outbox.c.kind == "page"
        )
    ).first()
    return row is not None


def _judged(conn: Connection, incident: int) -> bool:
    row = conn.execute(
        select(alert_feedback.c.id).where(alert_feedback.c.incident_id == incident).limit(1)
    ).first()
    return row is not None


def _save_templates(conn: Connection, templates: Iterable[Template], now: str) -> None:
    for t in templates:
        stmt = dialect_insert(conn, alert_templates).values(
            id=t.id, tokens=t.text, count=t.count, first_at=now, last_at=now
        )
        stmt = stmt.on_conflict_do_update(  # type: ignore[attr-defined]
            index_elements=["id"], set_={"tokens": t.text, "count": t.count, "last_at": now}
        )
        conn.execute(stmt)
