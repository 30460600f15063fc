"""Test doubles for kubesift: a stateful fake GitHub REST API and a Kubernetes-like repo.

>>> from kubesift.testing import FakeGitHub, create_app, generate_repo, serve_in_thread
>>> fake = FakeGitHub()
>>> fake.add_repo(generate_repo(2_000))            # doctest: +SKIP
>>> fake.add_token("t0ken", "octocat")             # doctest: +SKIP
>>> with serve_in_thread(create_app(fake)) as server:   # doctest: +SKIP
...     httpx.get(f"{server.url}/repos/kubernetes/kubernetes/issues")
"""

from kubesift.testing._auth import FakeApp, Installation, generate_rsa_keypair
from kubesift.testing._clock import FakeClock
from kubesift.testing._faults import FAULT_KINDS, Fault
from kubesift.testing._http import ApiError
from kubesift.testing._repo import FakeRepo
from kubesift.testing.fakegithub import MAX_COMMENT_LENGTH, FakeGitHub, create_app
from kubesift.testing.generator import (
    BOT_LOGINS,
    HISTORY_END,
    HISTORY_START,
    Note,
    find_datasets_dir,
    generate_repo,
    load_release_notes,
)
from kubesift.testing.model import Comment, Event, GeneratedRepo, Item, Label, Transfer, User
from kubesift.testing.server import RunningServer, run_fake_github, serve_in_thread
from kubesift.testing.transport import in_process

__all__ = [
    "BOT_LOGINS",
    "FAULT_KINDS",
    "HISTORY_END",
    "HISTORY_START",
    "MAX_COMMENT_LENGTH",
    "ApiError",
    "Comment",
    "Event",
    "FakeApp",
    "FakeClock",
    "FakeGitHub",
    "FakeRepo",
    "Fault",
    "GeneratedRepo",
    "Installation",
    "Item",
    "Label",
    "Note",
    "RunningServer",
    "Transfer",
    "User",
    "create_app",
    "find_datasets_dir",
    "generate_repo",
    "generate_rsa_keypair",
    "in_process",
    "load_release_notes",
    "run_fake_github",
    "serve_in_thread",
]
