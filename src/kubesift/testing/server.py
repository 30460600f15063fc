"""Serve an ASGI app (the fake GitHub) for real on loopback, in a thread or in the foreground."""

from __future__ import annotations

import socket
import sys
import threading
import time
from types import TracebackType
from typing import Any, TextIO

import uvicorn

__all__ = ["RunningServer", "run_fake_github", "serve_in_thread"]


class RunningServer:
    """A uvicorn server running in a background thread; a context manager.

    ``url`` is ``http://HOST:PORT``; ``stop()`` shuts it down and waits for the thread.
    """

    def __init__(
        self, server: uvicorn.Server, thread: threading.Thread, host: str, port: int
    ) -> None:
        self.server = server
        self.thread = thread
        self.host = host
        self.port = port

    @property
    def url(self) -> str:
        """Base URL of the server."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the server to exit and wait for its thread."""
        self.server.should_exit = True
        self.thread.join(timeout)

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _config(app: Any, log_level: str) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        log_level=log_level,
        access_log=False,
        lifespan="on",
        server_header=False,
        date_header=False,
        timeout_keep_alive=30,
    )


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose
    # proto says TCP, and without it every small answer stalls ~40 ms (Nagle + delayed ACK).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def serve_in_thread(
    app: Any,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    log_level: str = "warning",
    start_timeout: float = 10.0,
) -> RunningServer:
    """Start ``app`` with uvicorn in a daemon thread; returns once it accepts connections.

    ``port=0`` picks a free port (see ``.url``). Access logging is off.
    """
    sock = _bind(host, port)
    actual_port = sock.getsockname()[1]
    server = uvicorn.Server(_config(app, log_level))
    thread = threading.Thread(
        target=server.run,
        kwargs={"sockets": [sock]},
        name=f"fake-github:{actual_port}",
        daemon=True,
    )
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"server on {host}:{actual_port} did not start")
        time.sleep(0.005)
    return RunningServer(server, thread, host, actual_port)


def run_fake_github(
    *,
    items: int,
    port: int,
    host: str = "127.0.0.1",
    seed: int = 42,
    token: str | None = None,
    quiet: bool = False,
    out: TextIO | None = None,
) -> None:
    """Generate a Kubernetes-like repo of ``items`` items and serve a fake GitHub until
    interrupted (Ctrl-C). Prints the URL and a token to use; ``quiet`` drops the rest."""
    from kubesift.testing.fakegithub import FakeGitHub, create_app
    from kubesift.testing.generator import generate_repo

    stream = out or sys.stdout
    started = time.perf_counter()
    fake = FakeGitHub()
    repo = fake.add_repo(generate_repo(items, seed=seed))
    token = token or fake.new_token("kubesift-dev")
    fake.add_token(token, "kubesift-dev")
    sock = _bind(host, port)
    shown = "localhost" if host in ("0.0.0.0", "::") else host
    print(f"Fake GitHub: http://{shown}:{sock.getsockname()[1]}", file=stream)
    print(f"Token: {token}", file=stream)
    if not quiet:
        took = time.perf_counter() - started
        print(
            f"Serving {repo.full_name}: {len(repo.items):,} items, {len(repo.events):,} "
            f"events (generated in {took:.1f}s, seed {seed}). Control API under /_fake/. "
            "Ctrl-C to stop.",
            file=stream,
        )
    stream.flush()
    uvicorn.Server(_config(create_app(fake), "warning" if not quiet else "error")).run(
        sockets=[sock]
    )


GENERATED_REPO = "kubernetes/kubernetes"
GENERATED_TOKEN = "ghp_generated00000000000000000000000000001"


def export_generated(
    engine: Any, count: int, seed: int = 42, *, use_release_notes: bool = True
) -> None:
    """Export a generated ``kubernetes/kubernetes`` of ``count`` items from a fake GitHub on
    loopback into ``engine``'s store (the benchmarks' and tests' big or small store)."""
    from kubesift.collect.export import Exporter
    from kubesift.github.auth import TokenAuth
    from kubesift.github.client import GitHubClient
    from kubesift.testing.fakegithub import FakeGitHub, create_app
    from kubesift.testing.generator import generate_repo

    fake = FakeGitHub(rate_limit=10**9)
    fake.add_repo(generate_repo(count, seed=seed, use_release_notes=use_release_notes))
    fake.add_token(GENERATED_TOKEN, "generated")
    server = serve_in_thread(create_app(fake))
    try:
        with GitHubClient(server.url, TokenAuth(GENERATED_TOKEN)) as client:
            Exporter(engine, client, GENERATED_REPO).run()
    finally:
        server.stop()
