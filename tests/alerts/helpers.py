"""A receiver process (`kubesift alerts serve`) and a page sink, both real, on loopback."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from tests.bot.helpers import wait_for

__all__ = [
    "SLACK_SECRET",
    "TOKEN",
    "PageSink",
    "Receiver",
    "free_port",
    "load",
    "receiving",
    "wait_for",
]
TOKEN = "alert-token-0123456789"
SLACK_SECRET = "slack-signing-secret-for-tests"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def load(fixtures: Path, name: str) -> dict[str, Any]:
    return json.loads((fixtures / name).read_text())


class PageSink:
    """Records every page posted to it (the generic webhook target)."""

    def __init__(self) -> None:
        self.pages: list[tuple[str, dict[str, Any]]] = []
        self.redelivered: list[str] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_a: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                key = self.headers.get("idempotency-key", "")
                if self.headers.get("x-kubesift-redelivery") == "true":
                    sink.redelivered.append(key)
                sink.pages.append((key, json.loads(body)))
                self.send_response(200)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Receiver:
    def __init__(self, port: int, env: dict[str, str], *extra: str) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kubesift", "alerts", "serve", "--host", "127.0.0.1",
             "--port", str(port), "--digest-every", "0", *extra],
            env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
            if self.proc.poll() is not None:
                raise RuntimeError(self.proc.stderr.read().decode() if self.proc.stderr else "")
        raise RuntimeError("the receiver did not start")

    def post(self, path: str, body: Any, token: str = TOKEN, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.post(f"{self.url}{path}", json=body, headers=headers, timeout=10, **kw)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.kill()


@contextlib.contextmanager
def receiving(sink_url: str, slack: bool = False) -> Iterator[Receiver]:
    """A receiver process paging ``sink_url`` (as a Slack incoming webhook when ``slack``),
    with the token and Slack's signing secret set; stopped on exit."""
    target = "KUBESIFT_ALERTS_SLACK_WEBHOOK" if slack else "KUBESIFT_ALERTS_WEBHOOK"
    env = {"KUBESIFT_ALERTS_TOKEN": TOKEN, target: sink_url,
           "KUBESIFT_SLACK_SIGNING_SECRET": SLACK_SECRET}  # fmt: skip
    r = Receiver(free_port(), env)
    try:
        yield r
    finally:
        r.stop()
