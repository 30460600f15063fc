"""The worker: lease a job, predict, act on GitHub (unless dry-run), record, finish.

Every step is idempotent (labels only added when missing, the one comment found by its
marker and edited in place), so a job re-run after a crash or a lost lease does no harm.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from kubesift.bot import comment as comments
from kubesift.bot import events, queue, records
from kubesift.bot.gh import GitHubPool, ItemOps
from kubesift.bot.model import Model
from kubesift.bot.policy import Plan, RepoSettings, human_removed, plan
from kubesift.collect.releasenotes import extract_release_note

log = logging.getLogger("kubesift.bot")


@dataclass(frozen=True)
class BotOptions:
    dry_run: bool = False
    comment: bool = True
    lease_seconds: float = 60.0
    retry_delay: float = 5.0
    max_attempts: int = 8
    poll: float = 0.5


def worker_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{threading.get_ident() % 100000}"


def model_input(target: events.Target) -> dict[str, Any] | None:
    """What the model reads: a PR's release note (None when it is NONE), else title and body."""
    text = f"{target.title}\n\n{target.body}".strip()
    if target.kind == "pr":
        note = extract_release_note(target.body)
        if note.status == "none":
            return None
        if note.status == "note" and note.text:
            text = note.text
    return {
        "text": text or target.title or "(empty)",
        "title": target.title,
        "author": target.author,
        "kind": target.kind,
    }


class Worker:
    def __init__(self, engine: Engine, pool: GitHubPool, model: Model, options: BotOptions) -> None:
        self.engine = engine
        self.pool = pool
        self.model = model
        self.options = options
        self.name = worker_name()
        self.wake = threading.Event()
        self._lease_lock = threading.Lock()

    # ----------------------------------------------------------------- loop

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            if not self.run_once():
                self.wake.wait(self.options.poll)
                self.wake.clear()

    def run_once(self) -> bool:
        with self._lease_lock:
            job = queue.lease(self.engine, self.name, self.options.lease_seconds)
        if job is None:
            return False
        self.handle(job)
        return True

    def drain(self) -> int:
        done = 0
        while self.run_once():
            done += 1
        return done

    def handle(self, job: queue.Job) -> None:
        try:
            self.process(job)
        except Exception as exc:  # every failure is retried with backoff
            delay = queue.backoff(job.attempts, self.options.retry_delay)
            status = queue.retry(
                self.engine,
                job,
                self.name,
                f"{type(exc).__name__}: {exc}",
                delay,
                self.options.max_attempts,
            )
            log.warning(
                "delivery %s failed (%s), %s: %s", job.delivery_id, job.attempts, status, exc
            )

    # ----------------------------------------------------------------- one job

    def process(self, job: queue.Job) -> None:
        work = events.parse(job.event, json.loads(job.payload))
        if isinstance(work, events.LabelChange):
            self._finish(job, self._correction(job, work))
        elif isinstance(work, events.Target):
            self._label(job, work)
        else:
            self._finish(job, "ignored")

    def _finish(self, job: queue.Job, outcome: str, after: Any = None) -> None:
        with self.engine.begin() as conn:
            if after is not None:
                after(conn)
            queue.finish(conn, job, self.name, outcome)

    def _correction(self, job: queue.Job, change: events.LabelChange) -> str:
        if events.is_self(change.actor, self.pool.identities()):
            return "own change"
        with self.engine.begin() as conn:
            records.record_correction(conn, job.delivery_id, change)
        return "correction"

    def _settings(self, repo: str) -> RepoSettings:
        with self.engine.connect() as conn:
            return records.get_settings(conn, repo)

    def _label(self, job: queue.Job, target: events.Target) -> None:
        identities = self.pool.identities()
        if events.is_self(target.sender, identities):
            return self._finish(job, "own change")
        settings = self._settings(target.repo)
        dry = self.options.dry_run or settings.dry_run is True
        talk = self.options.comment if settings.comment is None else settings.comment
        gh = self.pool.for_installation(target.installation_id)
        item = model_input(target)
        if item is None:
            if not dry:
                sync_comment(gh, target.repo, target.number, None, identities)
            return self._finish(job, "release note NONE")
        scored = self.model.score(item, key=f"{target.repo}#{target.number}")
        decided = self._plan(gh, target, scored, settings, identities)
        if not dry and decided.add:
            gh.add_labels(target.repo, target.number, list(decided.add))
        if talk and not dry:
            body = comments.render(decided, target.author, model=scored.model)
            sync_comment(gh, target.repo, target.number, body, identities)

        def record(conn: Any) -> None:
            records.record_decisions(
                conn,
                job.id,
                target.repo,
                target.number,
                target.kind,
                decided,
                dry_run=dry,
                model=scored.model,
            )

        self._finish(job, f"added {len(decided.add)}" + (" (dry run)" if dry else ""), record)

    def _plan(
        self,
        gh: ItemOps,
        target: events.Target,
        scored: Any,
        settings: RepoSettings,
        identities: frozenset[str],
    ) -> Plan:
        current = gh.labels(target.repo, target.number)
        history = gh.label_history(target.repo, target.number)
        with self.engine.connect() as conn:
            history += records.corrections_for(conn, target.repo, target.number)
        removed = human_removed(history, identities)
        return plan(scored.scores, scored.labels, scored.words, current, removed, settings)


def sync_comment(
    gh: ItemOps, repo: str, number: int, body: str | None, identities: frozenset[str]
) -> str:
    """Create, edit (only when changed) or delete the one marker comment; extra marker
    comments left by a race are deleted. Returns what was done."""
    own = comments.find_own(gh.comments(repo, number), identities)
    if body is None:
        for c in own:
            gh.delete_comment(repo, int(c["id"]))
        return "deleted" if own else "nothing"
    if not own:
        gh.create_comment(repo, number, body)
        own = comments.find_own(gh.comments(repo, number), identities)
        _dedupe(gh, repo, own)
        return "created"
    _dedupe(gh, repo, own)
    if own[0].get("body") != body:
        gh.edit_comment(repo, int(own[0]["id"]), body)
        return "edited"
    return "unchanged"


def _dedupe(gh: ItemOps, repo: str, own: list[Mapping[str, Any]]) -> None:
    for extra in own[1:]:
        gh.delete_comment(repo, int(extra["id"]))
