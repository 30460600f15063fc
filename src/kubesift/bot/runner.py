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
from kubesift.bot.model import ByKind, ByRepo, LocalModel, Model, RemoteModel
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
    """The release-note model, plus the items models for issues when any is trained (in
    ``items_dir``: the pooled one, and one per repository under ``repos/OWNER/NAME``) or
    served (``items_url``): :class:`ByKind` picks per item, :class:`ByRepo` a repository's
    own model before the pooled one. Local models look at their registry's pointers every
    ``check_every`` seconds."""
    items: Model | None = None
    if items_url:
        items = RemoteModel(items_url, source="items")
    elif items_dir is not None and registry.list_versions(items_dir):
        items = LocalModel(items_dir, check_every=check_every, source="items")
    own = repo_models(items_dir, check_every) if items_dir is not None and not items_url else {}
    notes: Model | None = None
    if model_url or registry.list_versions(models_dir) or (items is None and not own):
        notes = (
            RemoteModel(model_url, source="release-notes")
            if model_url
            else LocalModel(models_dir, check_every=check_every)
        )
    text = ByRepo(own, items or notes) if own else items
    if notes is None:
        assert text is not None  # notes is only skipped when an items model exists
        return text  # only items models are trained: they label PRs too
    return ByKind(notes, text) if text is not None else notes


def repo_models(items_dir: Path, check_every: float) -> dict[str, Model]:
    """Each repository's own items model (``models-items/repos/OWNER/NAME``)."""
    found: dict[str, Model] = {}
    root = items_dir / "repos"
    for path in sorted(root.glob("*/*")) if root.is_dir() else []:
        if registry.list_versions(path):
            repo = f"{path.parent.name}/{path.name}"
            found[repo] = LocalModel(path, check_every=check_every, source="items", scope=repo)
    return found


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
