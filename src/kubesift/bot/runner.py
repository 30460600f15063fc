"""Wiring: store, secrets, GitHub, model, worker thread(s) and the uvicorn server."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from kubesift import asgi
from kubesift.bot.gh import GitHubPool
from kubesift.bot.model import ByKind, LocalModel, Model, RemoteModel
from kubesift.bot.signature import Secrets, parse_secrets
from kubesift.bot.worker import BotOptions, Worker
from kubesift.errors import UserError
from kubesift.github.auth import auth_from
from kubesift.github.client import GitHubClient
from kubesift.learn import registry

log = logging.getLogger("kubesift.bot")


@dataclass(frozen=True)
class GitHubConfig:
    endpoint: str
    token_path: Path | None = None


def load_secrets(env: Mapping[str, str], secret_file: Path | None) -> Secrets:
    """From ``--hmac-secret-file`` (Prow's formats) or ``KUBESIFT_WEBHOOK_SECRET``."""
    if secret_file is not None:
        try:
            return parse_secrets(secret_file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise UserError(f"cannot read --hmac-secret-file {secret_file}: {exc}") from exc
    value = env.get("KUBESIFT_WEBHOOK_SECRET", "").strip()
    if not value:
        raise UserError(
            "a webhook secret is required: --hmac-secret-file or KUBESIFT_WEBHOOK_SECRET"
        )
    return parse_secrets(value)


def github_pool(env: Mapping[str, str], cfg: GitHubConfig, *, max_retries: int = 4) -> GitHubPool:
    """An App (``KUBESIFT_GITHUB_APP_ID`` + ``_KEY_FILE``) or a token file / ``GITHUB_TOKEN``."""
    auth = auth_from(env, token_file=cfg.token_path)
    app_id = env.get("KUBESIFT_GITHUB_APP_ID")
    key_file = env.get("KUBESIFT_GITHUB_APP_KEY_FILE")
    key = Path(key_file).read_text(encoding="utf-8") if app_id and key_file else None

    def factory(a: object) -> GitHubClient:
        return GitHubClient(cfg.endpoint, a, max_retries=max_retries, max_wait=300.0)  # type: ignore[arg-type]

    return GitHubPool(factory, None if key else auth, app_id=app_id if key else None, app_key=key)


def load_model(
    models_dir: Path,
    model_url: str | None,
    items_dir: Path | None = None,
    items_url: str | None = None,
    check_every: float = 2.0,
) -> Model:
    """The release-note model, plus the items model for issues when one is trained (in
    ``items_dir``) or served (``items_url``): :class:`ByKind` picks per item. Local models
    look at their registry's pointers every ``check_every`` seconds."""
    items: Model | None = None
    if items_url:
        items = RemoteModel(items_url, source="items")
    elif items_dir is not None and registry.list_versions(items_dir):
        items = LocalModel(items_dir, check_every=check_every, source="items")
    if not model_url and items is not None and not registry.list_versions(models_dir):
        return items  # only an items model is trained: it labels PRs too
    notes: Model = (
        RemoteModel(model_url, source="release-notes")
        if model_url
        else LocalModel(models_dir, check_every=check_every)
    )
    return ByKind(notes, items) if items is not None else notes


def start_workers(worker: Worker, count: int, stop: threading.Event) -> list[threading.Thread]:
    threads = [
        threading.Thread(target=worker.run, args=(stop,), name=f"bot-worker-{i}", daemon=True)
        for i in range(count)
    ]
    for t in threads:
        t.start()
    return threads


def serve(
    engine: Engine,
    secrets: Secrets,
    worker: Worker | None,
    port: int,
    *,
    host: str = "0.0.0.0",
    workers: int = 1,
) -> None:
    """Receive deliveries on ``port``; with a worker, process them in this process too."""
    from kubesift.bot.app import create_app

    stop = threading.Event()
    wake = worker.wake.set if worker is not None else None
    app = create_app(engine, secrets, on_queued=wake)
    if worker is not None:
        start_workers(worker, workers, stop)
    try:
        asgi.run(app, port, host)
    finally:
        stop.set()


def run_worker(worker: Worker, workers: int = 1) -> None:
    """Process jobs until interrupted (``kubesift bot worker``)."""
    stop = threading.Event()
    threads = start_workers(worker, workers, stop)
    try:
        for t in threads:
            while t.is_alive():
                t.join(0.5)
    except KeyboardInterrupt:
        stop.set()
    log.info("worker stopped")


__all__ = ["BotOptions", "GitHubConfig", "github_pool", "load_model", "load_secrets", "serve"]
