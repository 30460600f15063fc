"""The worker: lease a job, route it to its behaviour, commit the outcome, retry failures.

Behaviours live in their own modules (:mod:`~kubesift.bot.labelling`,
:mod:`~kubesift.bot.corrections`); every step they take is idempotent (labels only added
when missing, the one comment found by its marker and edited in place), so a job re-run
after a crash or a lost lease does no harm. A failure is retried with backoff, except one
that cannot get better by waiting (the item is gone: GitHub answers 404), which ends the
job as failed with its reason at once.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine

from kubesift.bot import ci_update, corrections, events, labelling, queue
from kubesift.bot.gh import GitHubPool
from kubesift.bot.handling import BotOptions, JobContext, Outcome
from kubesift.bot.model import Model
from kubesift.errors import NotFoundError

log = logging.getLogger("kubesift.bot")

#: Which behaviour handles which kind of work (what :func:`events.parse` returns).
ROUTES: dict[type, Callable[[JobContext, Any], Outcome]] = {
    events.Target: labelling.label_item,
    events.LabelChange: corrections.record_change,
    events.CIUpdate: ci_update.refresh,
    events.CIStatus: ci_update.refresh_status,
}

__all__ = ["ROUTES", "BotOptions", "Worker", "worker_name"]


def worker_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{threading.get_ident() % 100000}"


class Worker:
    def __init__(self, engine: Engine, pool: GitHubPool, model: Model, options: BotOptions) -> None:
        self.engine = engine
        self.pool = pool
        self.model = model
        self.options = options
        self.name = worker_name()
        self.wake = threading.Event()
        self._lease_lock = threading.Lock()

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
            self._finish(job, self.process(job))
        except NotFoundError as exc:  # the item (or repository) is gone: waiting won't help
            queue.fail(self.engine, job, self.name, f"gone: {exc.message}")
            log.warning("delivery %s failed permanently: %s", job.delivery_id, exc.message)
        except Exception as exc:  # everything else is retried with backoff
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

    def process(self, job: queue.Job) -> Outcome:
        """Route the job's event to its behaviour; the outcome is not committed yet."""
        work = events.parse(job.event, json.loads(job.payload))
        behaviour = ROUTES.get(type(work))
        if behaviour is None:
            return Outcome("ignored")
        context = JobContext(
            self.engine, self.pool, self.model, self.options, job.id, job.delivery_id
        )
        return behaviour(context, work)

    def _finish(self, job: queue.Job, outcome: Outcome) -> None:
        with self.engine.begin() as conn:
            if outcome.record is not None:
                outcome.record(conn)
            queue.finish(conn, job, self.name, outcome.text)
