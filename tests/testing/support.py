"""Helpers shared by the fake-GitHub tests: a small hand-made repository, a served fake."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx

from kubesift.testing import FakeGitHub, RunningServer, create_app, serve_in_thread

REPO = "octo/hello"
T0 = 1_700_000_000  # 2023-11-14T22:13:20Z
SMALL = 25


@dataclass
class Served:
    """A fake, the server in front of it, and a client authenticated as alice."""

    fake: FakeGitHub
    server: RunningServer
    client: httpx.Client

    def get(self, path: str, **kwargs: object) -> httpx.Response:
        return self.client.get(path, **kwargs)  # type: ignore[arg-type]


def build_small(fake: FakeGitHub, n: int = SMALL) -> None:
    """Items 1..n: created hourly, updated in reverse order, every 3rd closed, even ones PRs."""
    fake.create_repo("octo", "hello", repo_id=4242)
    for i in range(1, n + 1):
        fake.create_item(
            REPO,
            title=f"item {i}",
            body=f"body {i}",
            user="alice" if i % 2 else "bob",
            kind="pr" if i % 2 == 0 else "issue",
            labels=["kind/bug"]
            if i % 5 == 0
            else (["sig/node", "kind/feature"] if i % 7 == 0 else []),
            created_at=T0 + i * 3600,
            updated_at=T0 + (n - i) * 7200 + 10 * 3600 * n,
            state="closed" if i % 3 == 0 else "open",
            merged=i % 6 == 0,
            comments=i % 4,
        )


def serve(fake: FakeGitHub) -> Iterator[Served]:
    """Serve ``fake`` on loopback with a client authenticated as alice (``tok-a``)."""
    with (
        serve_in_thread(create_app(fake)) as server,
        httpx.Client(
            base_url=server.url, headers={"Authorization": "token tok-a"}, timeout=30
        ) as client,
    ):
        yield Served(fake, server, client)
