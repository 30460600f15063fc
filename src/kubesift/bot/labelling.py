"""Labelling a new or edited item: score it, plan the labels (humans first), add them,
keep the one comment, and record every decision."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from kubesift.bot import comment as comments
from kubesift.bot import events, records
from kubesift.bot.gh import ItemOps
from kubesift.bot.handling import JobContext, Outcome
from kubesift.bot.model import Scored
from kubesift.bot.policy import Plan, RepoSettings, human_removed, plan
from kubesift.ci.pr import PRReport, pr_report
from kubesift.collect.releasenotes import extract_release_note
from kubesift.learn.features import clip_item


def model_input(target: events.Target) -> dict[str, Any] | None:
    """What the model reads: a PR's release note (None when it is NONE), else title and
    body, cut to what features read (a 20 MB body is not worth scoring in full)."""
    text, source = target.body.strip(), "text"
    title: str | None = target.title
    if target.kind == "pr":
        note = extract_release_note(target.body)
        if note.status == "none":
            return None
        if note.status == "note" and note.text:
            text, source, title = note.text, "release-note", None
    item = {
        "text": text or target.title or "(empty)",
        "title": title,
        "author": target.author,
        "kind": target.kind,
        "input": source,
    }
    return clip_item(item)


def label_item(ctx: JobContext, target: events.Target) -> Outcome:
    identities = ctx.pool.identities()
    if events.is_self(target.sender, identities):
        return Outcome("own change")
    with ctx.engine.connect() as conn:
        settings = records.get_settings(conn, target.repo)
    dry = ctx.options.dry_run or settings.dry_run is True
    talk = ctx.options.comment if settings.comment is None else settings.comment
    gh = ctx.pool.for_installation(target.installation_id)
    item = model_input(target)
    ci = _ci(ctx, target)
    if item is None:
        if not dry:
            body = comments.render(None, target.author, ci=ci) if ci else None
            comments.sync_comment(gh, target.repo, target.number, body, identities)
        return Outcome("release note NONE")
    scored = ctx.model.score(item, key=f"{target.repo}#{target.number}")
    decided = _plan(ctx, gh, target, scored, settings)
    if not dry and decided.add:
        gh.add_labels(target.repo, target.number, list(decided.add))
    if talk and not dry:
        body = comments.render(decided, target.author, model=scored.described(), ci=ci)
        comments.sync_comment(gh, target.repo, target.number, body, identities)

    def record(conn: Connection) -> None:
        records.record_decisions(
            conn,
            ctx.job_id,
            target.repo,
            target.number,
            target.kind,
            decided,
            dry_run=dry,
            model=scored.model,
        )

    return Outcome(f"added {len(decided.add)}" + (" (dry run)" if dry else ""), record)


def _ci(ctx: JobContext, target: events.Target) -> PRReport | None:
    """What the PR's failed presubmits are known to be, when CI results are in the store."""
    if target.kind != "pr":
        return None
    with ctx.engine.connect() as conn:
        report = pr_report(conn, target.repo, target.number)
    return None if report.empty else report


def _plan(
    ctx: JobContext, gh: ItemOps, target: events.Target, scored: Scored, settings: RepoSettings
) -> Plan:
    current = gh.labels(target.repo, target.number)
    history = gh.label_history(target.repo, target.number)
    with ctx.engine.connect() as conn:
        history += records.corrections_for(conn, target.repo, target.number)
    removed = human_removed(history, ctx.pool.identities())
    return plan(scored.scores, scored.labels, scored.words, current, removed, settings)
