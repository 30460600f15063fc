"""New CI results for a PR: label it as if it had just changed, so its one comment gains
(or refreshes) the section on what its failed presubmits are known to be.

Queued by ``kubesift ci import --notify-bot`` (:func:`enqueue`) for each PR whose
presubmit failed, and by GitHub's ``status`` / ``check_run`` webhooks when a commit's CI
finishes (:func:`refresh_status`: the PRs the event names, and those whose stored runs
tested that commit). The PR is read from GitHub, so a closed or merged one is left alone;
the comment is edited only when its text changes (the one-comment rule), and never in
shadow mode.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from kubesift.bot import events, labelling, queue
from kubesift.bot.handling import JobContext, Outcome
from kubesift.store.schema import bot_jobs, ci_runs

#: The most PRs one commit's status refreshes (a commit shared by many PRs is rare; a
#: flood of them must not become a flood of GitHub calls).
MAX_PRS_PER_STATUS = 10


def refresh(ctx: JobContext, work: events.CIUpdate) -> Outcome:
    gh = ctx.pool.for_installation(work.installation_id)
    data = gh.item(work.repo, work.number)
    if data.get("state") != "open" or "pull_request" not in data:
        return Outcome("not an open PR")
    target = events.Target(
        repo=work.repo,
        number=work.number,
        kind="pr",
        title=str(data.get("title") or ""),
        body=str(data.get("body") or ""),
        author=str((data.get("user") or {}).get("login") or ""),
        sender="",
        installation_id=work.installation_id,
    )
    return labelling.label_item(ctx, target)


def refresh_status(ctx: JobContext, work: events.CIStatus) -> Outcome:
    prs = prs_for(ctx.engine, work)
    if not prs:
        return Outcome(f"no PR known for {work.sha[:12]}")
    outcomes = [
        refresh(ctx, events.CIUpdate(work.repo, number, work.installation_id)) for number in prs
    ]
    records = [o.record for o in outcomes if o.record is not None]

    def record(conn: Connection) -> None:
        for write in records:
            write(conn)

    text = "; ".join(f"#{n}: {o.text}" for n, o in zip(prs, outcomes, strict=True))
    return Outcome(f"{work.context or 'status'} {work.state} → {text}", record if records else None)


def prs_for(engine: Engine, work: events.CIStatus) -> list[int]:
    """The PRs a finished status concerns: those the event names, then those with a stored
    run of the commit (newest first), at most :data:`MAX_PRS_PER_STATUS`."""
    found = list(work.prs)
    with engine.connect() as conn:
        rows = conn.execute(
            select(ci_runs.c.pr)
            .where(
                ci_runs.c.sha == work.sha, ci_runs.c.repo == work.repo, ci_runs.c.pr.is_not(None)
            )
            .group_by(ci_runs.c.pr)
            .order_by(ci_runs.c.pr.desc())
        )
        found += [int(pr) for (pr,) in rows if pr not in found]
    return found[:MAX_PRS_PER_STATUS]


def enqueue(engine: Engine, prs: Iterable[tuple[str, int, str]]) -> int:
    """Queue a CI update per (repo, PR, newest failed run path); one per run, ever."""
    queued = 0
    with engine.begin() as conn:
        for repo, number, run in prs:
            payload = events.ci_payload(repo, number, _installation(conn, repo))
            queued += queue.enqueue(
                conn,
                f"kubesift-ci:{repo}#{number}:{run}",
                events.CI_EVENT,
                json.dumps(payload),
                action="ci_failed",
                repo=repo,
                number=number,
            )
    return queued


def _installation(conn: object, repo: str) -> int | None:
    """The App installation the bot last saw for ``repo`` (None with a plain token)."""
    row = conn.execute(  # type: ignore[attr-defined]
        select(bot_jobs.c.payload)
        .where(bot_jobs.c.repo == repo, bot_jobs.c.event != events.CI_EVENT)
        .order_by(bot_jobs.c.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return events.installation_of(json.loads(row[0]))
