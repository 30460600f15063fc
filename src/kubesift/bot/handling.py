"""What a behaviour of the bot is handed for one job, and what it hands back.

Each behaviour (``labelling``, ``corrections``) is a function ``(Job context, work) ->
Outcome``; the worker routes parsed events to them (:data:`kubesift.bot.worker.ROUTES`),
commits the outcome's records with the job's completion, and owns leases and retries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection, Engine

from kubesift.bot.gh import GitHubPool
from kubesift.bot.model import Model


@dataclass(frozen=True)
class BotOptions:
    dry_run: bool = False
    comment: bool = True
    lease_seconds: float = 60.0
    retry_delay: float = 5.0
    max_attempts: int = 8
    poll: float = 0.5


@dataclass(frozen=True)
class JobContext:
    """The clients a behaviour may use, and the job it works for."""

    engine: Engine
    pool: GitHubPool
    model: Model
    options: BotOptions
    job_id: int
    delivery_id: str


@dataclass(frozen=True)
class Outcome:
    """How the job ended (``bot_jobs.outcome``) and rows to write in the same transaction."""

    text: str
    record: Callable[[Connection], Any] | None = None
