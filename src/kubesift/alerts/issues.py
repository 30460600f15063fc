"""Recurring incidents into GitHub issues: one issue per alert on a workload that keeps
coming back and needed someone, opened once and updated with a comment as it recurs.

Which incidents recur and what the issue says are pure functions; the store remembers
which issue tracks which group, so a re-run updates instead of opening another.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import case, func, select
from sqlalchemy.engine import Engine

from kubesift.store.schema import alert_feedback, alert_incidents, alert_issues, alert_outbox
from kubesift.store.writes import dialect_insert
from kubesift.timeutil import shift, utcnow_iso

MARKER = "<!-- kubesift-alerts: {key} -->"


@dataclass(frozen=True)
class Recurring:
    key: str  # namespace/workload/name
    name: str
    namespace: str
    workload: str
    occurrences: int
    paged: int
    needed: int  # answers saying it needed a human
    first_at: str
    last_at: str
    text: str
    runbook: str


class Issues(Protocol):
    def create_issue(self, repo: str, title: str, body: str, labels: list[str]) -> int: ...

    def create_comment(self, repo: str, number: int, body: str) -> None: ...


def worth_an_issue(r: Recurring, min_count: int) -> bool:
    """Recurring, and someone had to look at it: paged, or said to need a human."""
    return r.occurrences >= min_count and (r.paged > 0 or r.needed > 0)


def title(r: Recurring) -> str:
    where = "/".join(p for p in (r.namespace, r.workload) if p) or "the cluster"
    return f"Recurring alert: {r.name} on {where}"


def body(r: Recurring) -> str:
    lines = [
        f"`{r.name}` fired **{r.occurrences}** times on `{r.namespace}/{r.workload}` "
        f"between {r.first_at} and {r.last_at}; {r.paged} paged someone and "
        f"{r.needed} were answered as needing a human.",
        "",
        f"> {r.text}",
    ]
    if r.runbook:
        lines += ["", f"Runbook: {r.runbook}"]
    lines += ["", "Opened by kubesift alert triage; it comments here when it recurs.",
              MARKER.format(key=r.key)]  # fmt: skip
    return "\n".join(lines)


def update(r: Recurring, before: int) -> str:
    return (f"It fired {r.occurrences - before} more time(s) (now {r.occurrences} since "
            f"{r.first_at}; last {r.last_at}).")  # fmt: skip


def recurring(engine: Engine, since: str) -> list[Recurring]:
    inc = alert_incidents.c
    paged = select(alert_outbox.c.incident_id).where(alert_outbox.c.kind == "page")
    needed = select(alert_feedback.c.incident_id).where(
        alert_feedback.c.needs_human, alert_feedback.c.explicit
    )
    query = (
        select(
            inc.namespace, inc.workload, inc.name, func.count().label("n"),
            func.sum(case((inc.id.in_(paged), 1), else_=0)).label("paged"),
            func.sum(case((inc.id.in_(needed), 1), else_=0)).label("needed"),
            func.min(inc.opened_at).label("first"), func.max(inc.opened_at).label("last"),
            func.max(inc.text).label("text"), func.max(inc.runbook).label("runbook"),
        )
        .where(inc.opened_at >= since, inc.decision != "drop")
        .group_by(inc.namespace, inc.workload, inc.name)
    )  # fmt: skip
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        Recurring(
            f"{r.namespace}/{r.workload}/{r.name}",
            r.name,
            r.namespace,
            r.workload,
            int(r.n),
            int(r.paged or 0),
            int(r.needed or 0),
            r.first,
            r.last,
            r.text,
            r.runbook,
        )
        for r in rows
    ]


def sync(
    engine: Engine, gh: Issues | None, repo: str, *, days: float = 7.0, min_count: int = 3,
    now: str | None = None, labels: Sequence[str] = ("kind/bug",),
) -> list[dict[str, Any]]:  # fmt: skip
    """Open or update the issues; what was (or, with ``gh`` None, would be) done."""
    since = shift(now or utcnow_iso(), -days * 86400)
    tracked = _tracked(engine)
    done = []
    for r in sorted(recurring(engine, since), key=lambda r: -r.occurrences):
        if not worth_an_issue(r, min_count):
            continue
        known = tracked.get(r.key)
        if known is not None and known[1] >= r.occurrences:
            continue
        action = "updated" if known else "opened"
        number = known[0] if known else 0
        if gh is not None:
            if known:
                gh.create_comment(repo, number, update(r, known[1]))
            else:
                number = gh.create_issue(repo, title(r), body(r), list(labels))
            _remember(engine, r, repo, number)
        done.append({"action": action if gh else f"would be {action}", "issue": number,
                     "key": r.key, "occurrences": r.occurrences, "title": title(r)})  # fmt: skip
    return done


def _tracked(engine: Engine) -> dict[str, tuple[int, int]]:
    with engine.connect() as conn:
        rows = conn.execute(select(alert_issues)).all()
    return {r.group_key: (r.number, r.occurrences) for r in rows}


def _remember(engine: Engine, r: Recurring, repo: str, number: int) -> None:
    with engine.begin() as conn:
        stmt = dialect_insert(conn, alert_issues).values(
            group_key=r.key, repo=repo, number=number, occurrences=r.occurrences,
            updated_at=utcnow_iso(),
        )  # fmt: skip
        stmt = stmt.on_conflict_do_update(  # type: ignore[attr-defined]
            index_elements=["group_key"],
            set_={"occurrences": r.occurrences, "updated_at": utcnow_iso()},
        )
        conn.execute(stmt)


class GitHubIssues:
    """``Issues`` over kubesift's GitHub client."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def create_issue(self, repo: str, title: str, body: str, labels: list[str]) -> int:
        made = self.client.request(
            "POST", f"/repos/{repo}/issues",
            json_body={"title": title, "body": body, "labels": labels},
        )  # fmt: skip
        return int(made.data["number"])

    def create_comment(self, repo: str, number: int, body: str) -> None:
        self.client.request("POST", f"/repos/{repo}/issues/{number}/comments",
                            json_body={"body": body})  # fmt: skip
