"""Out: pages (Slack incoming webhook with feedback buttons, or a generic JSON webhook) and
the digest of what was held back.

A paged incident that resolves gets a follow-up message. Pages come from the outbox the
ingest fills in the same transaction as the incident, so
a page is queued exactly once, however often Alertmanager re-sends. Delivery is claimed
(committed) before the POST and marked sent after the target's 2xx; a process killed
between the two re-sends that one page after the restart, with the same
``Idempotency-Key`` (one per incident) and ``X-Kubesift-Redelivery: true`` (Slack's text
says so), so a receiver can drop it and a person can tell. Webhook URLs are secrets:
never logged, never stored in errors.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from kubesift.alerts import queries
from kubesift.escape import slack_link, slack_text
from kubesift.store.schema import alert_incidents, alert_outbox
from kubesift.timeutil import utcnow_iso

log = logging.getLogger("kubesift.alerts")
MAX_ATTEMPTS = 8
IN_FLIGHT = "in flight"  # claimed, outcome unknown (the process may have died sending)
DIGEST_LINES = 40


@dataclass(frozen=True)
class Target:
    url: str
    kind: str = "webhook"  # webhook | slack

    def __repr__(self) -> str:  # the URL is a secret
        return f"Target(kind={self.kind!r})"


def page_blocks(incident: dict[str, Any], related: dict[str, list[str]]) -> dict[str, Any]:
    """A Slack Block Kit message: what, why, related Events and log lines, runbook, and the
    buttons whose callback is the feedback. Every text from the alert, Event or log is
    escaped for Slack (no mention, ping or link can come from data); the one link is built
    here, and only to an http(s) runbook."""
    why = incident["why"]
    esc = slack_text
    reasons = ", ".join(f"{esc(k)} ({w:+.2f})" for k, w in why.get("weights", [])) or "-"
    where = esc(_where(incident))
    lines = [
        f"*{esc(incident['name'])}* ({esc(incident['severity'])}) in `{where}`",
        esc(incident["text"]),
        f"*Why:* {esc(why.get('reason', ''))}; score {incident['score']:.2f}. "
        f"Weighed most: {reasons}",
    ]
    if related.get("events"):
        lines.append("*Events:*\n" + "\n".join(f"• {esc(e[:200])}" for e in related["events"]))
    if related.get("logs"):
        lines.append("*Logs:*\n" + "\n".join(f"• `{esc(e[:200])}`" for e in related["logs"]))
    runbook = slack_link(incident.get("runbook"), "Runbook")
    if runbook:
        lines.append(runbook)
    buttons = [
        ("Important", "important", "primary"),
        ("Not important", "not-important", "danger"),
        ("Ack", "ack", None),
    ]
    return {
        "text": f"{esc(incident['name'])} in {where}: {esc(incident['text'])}",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)[:2900]}},
            {
                "type": "actions",
                "block_id": f"kubesift-incident-{incident['id']}",
                "elements": [
                    {"type": "button", "action_id": f"kubesift_{value}",
                     "text": {"type": "plain_text", "text": label},
                     "value": f"{incident['id']}:{value}", **({"style": style} if style else {})}
                    for label, value, style in buttons
                ],
            },
        ],
    }  # fmt: skip


def _where(incident: dict[str, Any]) -> str:
    return "/".join(p for p in (incident["namespace"], incident["workload"]) if p) or "cluster"


def page_json(incident: dict[str, Any], related: dict[str, list[str]]) -> dict[str, Any]:
    return {"kind": "page", "incident": incident, "related": related}


def resolved_message(incident: dict[str, Any], slack: bool) -> dict[str, Any]:
    """The follow-up to a page: the incident is over (incoming webhooks cannot edit the
    page itself, so it is a reply in the same channel)."""
    esc = slack_text if slack else str
    text = (f"Resolved: {esc(incident['name'])} in {esc(_where(incident))} (#{incident['id']}, "
            f"paged {incident['opened_at']}, over {incident['closed_at']})")  # fmt: skip
    return {"text": text} if slack else {"kind": "resolved", "incident": incident}


def digest_text(incidents: list[dict[str, Any]], slack: bool = False) -> str:
    """The digest's lines; ``slack``: names and places escaped for Slack."""
    esc = slack_text if slack else str
    head = f"kubesift digest: {len(incidents)} incident(s) held back from paging"
    rows = [
        f"• #{i['id']} {esc(i['name'])} {esc(i['namespace'])}/{esc(i['workload'])} "
        f"score {i['score']:.2f}"
        for i in incidents[:DIGEST_LINES]
    ]
    more = len(incidents) - DIGEST_LINES
    return "\n".join([head, *rows, *([f"… and {more} more"] if more > 0 else [])])


class Notifier:
    """Sends what the outbox holds and the periodic digest."""

    def __init__(self, engine: Engine, target: Target | None, client: httpx.Client) -> None:
        self.engine = engine
        self.target = target
        self.client = client
        self.wake = threading.Event()

    def send_pages(self) -> int:
        """Deliver every queued page; the number delivered."""
        if self.target is None:
            return 0
        ob = alert_outbox.c
        with self.engine.connect() as conn:
            pending = conn.execute(
                select(ob.id, ob.incident_id, ob.kind, ob.attempts, ob.error)
                .where(ob.sent_at.is_(None), ob.attempts < MAX_ATTEMPTS)
                .order_by(ob.id)
                .limit(100)
            ).all()
        sent = 0
        for row in pending:
            sent += self._deliver(row.id, row.incident_id, row.kind, row.error == IN_FLIGHT)
        return sent

    def _deliver(self, outbox_id: int, incident_id: int, kind: str, again: bool) -> int:
        with self.engine.begin() as conn:
            found = queries.incident(conn, incident_id)
            if found is None:
                return 0
            related = queries.related(conn, found)
            conn.execute(
                update(alert_outbox).where(alert_outbox.c.id == outbox_id).values(error=IN_FLIGHT)
            )
        slack = self.target is not None and self.target.kind == "slack"
        if kind == "resolved":
            body = resolved_message(found, slack)
        else:
            body = page_blocks(found, related) if slack else page_json(found, related)
        if again and slack:
            body["text"] = "(re-sent after a restart, may repeat) " + body["text"]
        error = self._post(body, f"kubesift-{kind}-{incident_id}", again)
        values: dict[str, Any] = {"attempts": alert_outbox.c.attempts + 1, "error": error}
        if error is None:
            values["sent_at"] = utcnow_iso()
        with self.engine.begin() as conn:
            conn.execute(
                update(alert_outbox).where(alert_outbox.c.id == outbox_id).values(**values)
            )
        return int(error is None)

    def _post(self, body: dict[str, Any], key: str, again: bool = False) -> str | None:
        assert self.target is not None
        headers = {"Idempotency-Key": key}
        if again:
            headers["X-Kubesift-Redelivery"] = "true"
        try:
            answer = self.client.post(self.target.url, json=body, headers=headers)
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__} while posting"
        if answer.status_code >= 300:
            return f"the target answered {answer.status_code}"
        return None

    def send_digest(self) -> int:
        """One message listing the incidents held back since the last digest."""
        inc = alert_incidents.c
        with self.engine.connect() as conn:
            ids = conn.execute(
                select(inc.id).where(inc.decision == "digest", inc.digested_at.is_(None),
                                     ~inc.shadow).order_by(inc.id)
            ).scalars().all()  # fmt: skip
            held = [i for i in (queries.incident(conn, n) for n in ids) if i is not None]
        if not held or self.target is None:
            return 0
        slack = self.target.kind == "slack"
        text = digest_text(held, slack)
        body = {"text": text} if slack else {"kind": "digest", "text": text,
                                                                   "incidents": held}  # fmt: skip
        if self._post(body, f"kubesift-digest-{ids[0]}-{ids[-1]}") is not None:
            return 0
        with self.engine.begin() as conn:
            conn.execute(update(alert_incidents).where(inc.id.in_(ids))
                         .values(digested_at=utcnow_iso()))  # fmt: skip
        return len(held)

    def run(self, stop: threading.Event, digest_every: float) -> None:
        """Send pages as they are queued; a digest every ``digest_every`` seconds."""
        last_digest = 0.0
        while not stop.is_set():
            self.wake.wait(2.0)
            self.wake.clear()
            try:
                self.send_pages()
                if digest_every and time.monotonic() - last_digest >= digest_every:
                    self.send_digest()
                    last_digest = time.monotonic()
            except Exception:  # keep sending; the outbox keeps what failed
                log.exception("sending pages failed")
