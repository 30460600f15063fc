"""Signed deliveries built from the real fixture payloads, and a bot process to send them to."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.engine import Engine

from kubesift.bot.signature import sign
from kubesift.config import SHARED, find_shared
from kubesift.store.schema import bot_jobs

FIXTURES = (find_shared() or SHARED) / "fixtures" / "github" / "webhooks"
SECRET = "It's a Secret to Everybody"


def fixture(name: str) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / name).read_text(encoding="utf-8")))


def retarget(
    payload: dict[str, Any],
    repo: str,
    number: int,
    *,
    body: str | None = None,
    title: str | None = None,
    sender: str = "octocat",
) -> dict[str, Any]:
    """The payload about ``repo#number`` (and the given body/title), sent by ``sender``."""
    out = copy.deepcopy(payload)
    owner, name = repo.split("/")
    out["repository"].update(full_name=repo, name=name)
    out["repository"]["owner"]["login"] = owner
    key = "issue" if "issue" in out else "pull_request"
    out[key]["number"] = number
    if body is not None:
        out[key]["body"] = body
    if title is not None:
        out[key]["title"] = title
    out["sender"] = {**out.get("sender", {}), "login": sender, "type": "User"}
    return out


def signed_headers(
    body: bytes, event: str, delivery: str | None = None, secret: str = SECRET
) -> dict[str, str]:
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": sign(body, secret, "sha256"),
        "X-Hub-Signature": sign(body, secret, "sha1"),
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/test",
    }


def deliver(
    client: httpx.Client, url: str, event: str, payload: dict[str, Any], delivery: str | None = None
) -> tuple[httpx.Response, str]:
    body = json.dumps(payload).encode()
    headers = signed_headers(body, event, delivery)
    return client.post(url, content=body, headers=headers), headers["X-GitHub-Delivery"]


def wait_for(check: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def job_status(engine: Engine, delivery: str) -> str | None:
    with engine.connect() as conn:
        return conn.execute(
            select(bot_jobs.c.status).where(bot_jobs.c.delivery_id == delivery)
        ).scalar()


def wait_done(engine: Engine, *deliveries: str, timeout: float = 30.0) -> None:
    wait_for(
        lambda: all(job_status(engine, d) == "done" for d in deliveries),
        timeout,
        f"jobs {deliveries} done",
    )


class BotProcess:
    """``python -m kubesift bot`` as a real process on a free port."""

    def __init__(self, home: Path, port: int, github_url: str, token_file: Path, *args: str):
        self.home = home
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "KUBESIFT_HOME": str(home), "KUBESIFT_WEBHOOK_SECRET": SECRET}
        env.pop("GITHUB_TOKEN", None)  # KUBESIFT_DATABASE_URL stays: the `home` fixture's store
        self.log = home.parent / f"bot-{port}-{time.monotonic_ns()}.log"
        self.log_file = self.log.open("w")
        cmd = [
            sys.executable, "-m", "kubesift", "bot", "--port", str(port), "--host", "127.0.0.1",
            "--github-endpoint", github_url, "--github-token-path", str(token_file), *args,
        ]  # fmt: skip
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log_file, stderr=subprocess.STDOUT)
        wait_for(self._up, 60, f"bot on {port}: {self.tail()}")

    def _up(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"bot exited: {self.tail()}")
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def tail(self) -> str:
        return self.log.read_text()[-3000:] if self.log.exists() else ""

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(10)
        self.log_file.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log_file.close()
