"""New CI results for a PR: label it as if it had just changed, so its one comment gains
(or refreshes) the section on what its failed presubmits are known to be.

Queued by ``kubesift ci import --notify-bot`` (:func:`enqueue`) for each PR whose
presubmit failed; the PR is read from GitHub, so a closed or merged one is left alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.engine import Engine

from kubesift.bot import events, labelling, queue
from kubesift.bot.handling import JobContext, Outcome
from kubesift.store.schema import bot_jobs


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
