"""The fake's state: users, tokens, apps, repositories and items, with the clock,
quotas, faults and request statistics (the base of :class:`~kubesift.testing.FakeGitHub`,
which adds label, edit, comment and fault operations)."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from zlib import crc32

from kubesift.testing._auth import (
    Credentials,
    FakeApp,
    Installation,
    TokenInfo,
    generate_rsa_keypair,
    new_token,
)
from kubesift.testing._clock import FakeClock
from kubesift.testing._encode import Encoder
from kubesift.testing._faults import FaultQueue
from kubesift.testing._http import (
    DOC_GET_ISSUE,
    DOC_GET_REPO,
    ApiError,
    not_found,
    validation_failed,
)
from kubesift.testing._repo import FakeRepo
from kubesift.testing._stats import RequestStats
from kubesift.testing.generator import HISTORY_END
from kubesift.testing.model import Event, GeneratedRepo, Item, User, modern_node_id

RepoRef = str | FakeRepo


class FakeCore:
    """The fake's whole state. Thread-safe: every public method takes ``self.lock``.

    ``rate_limit`` requests per ``rate_window_seconds`` for each user (all of a user's
    tokens share one bucket, as on GitHub) and each app installation; ``anonymous_rate_limit``
    per client address without credentials (refused with 401 when ``require_auth``).
    ETags vary with the credential when ``etag_varies_by_token`` (as on GitHub).
    JWTs of GitHub Apps are checked against ``jwt_clock`` (the real wall clock by default,
    the clock the client signs with), everything else against ``clock``.
    """

    def __init__(
        self,
        *,
        rate_limit: int = 5000,
        anonymous_rate_limit: int = 60,
        rate_window_seconds: float = 3600.0,
        require_auth: bool = False,
        clock: FakeClock | None = None,
        etag_varies_by_token: bool = True,
        jwt_clock: Callable[[], float] = time.time,
        log_size: int = 5000,
    ) -> None:
        self.rate_limit = rate_limit
        self.anonymous_rate_limit = anonymous_rate_limit
        self.rate_window_seconds = rate_window_seconds
        self.require_auth = require_auth
        self.etag_varies_by_token = etag_varies_by_token
        self.clock = clock or FakeClock(start=max(time.time(), HISTORY_END + 1))
        self.lock = threading.RLock()
        self.users: dict[str, User] = {}
        self.repos: dict[str, FakeRepo] = {}
        self.repos_by_id: dict[int, FakeRepo] = {}
        self.credentials = Credentials(self.clock.now, jwt_clock)
        self.faults = FaultQueue()
        self.stats = RequestStats(log_size)
        self._counters = {
            "event": 5_000_000_000,
            "comment": 2_000_000_000,
            "item": 4_000_000_000,
            "installation": 40_000_000,
        }
        self._encoders: dict[str, Encoder] = {}

    # ----------------------------------------------------------------- basics

    def now(self) -> int:
        """Fake time as whole epoch seconds (what mutations stamp)."""
        return int(self.clock.now())

    def next_id(self, kind: str) -> int:
        """A fresh id of ``kind`` (event, comment, item, installation)."""
        with self.lock:
            self._counters[kind] += 1
            return self._counters[kind]

    def encoder(self, base: str) -> Encoder:
        """The JSON renderer for one base URL (cached)."""
        enc = self._encoders.get(base)
        if enc is None:
            enc = self._encoders[base] = Encoder(base, self.users)
        return enc

    def _invalidate_labels(self, repo: FakeRepo) -> None:
        for enc in self._encoders.values():
            enc.forget_labels(repo.id)

    # ----------------------------------------------------------------- users, tokens, apps

    def add_user(self, login: str, *, user_type: str | None = None) -> User:
        """Register a user (``[bot]`` logins become type ``Bot``); returns it."""
        with self.lock:
            user = self.users.get(login)
            if user is None:
                kind = user_type or ("Bot" if login.endswith("[bot]") else "User")
                user = self.users[login] = User(login, 1 + crc32(login.encode()) % 10**8, kind)
            return user

    def add_token(self, token: str, login: str, *, user_type: str | None = None) -> None:
        """Accept ``token`` as ``login``'s personal access token."""
        with self.lock:
            self.add_user(login, user_type=user_type)
            self.credentials.tokens[token] = TokenInfo(login)

    def new_token(self, login: str) -> str:
        """Register and return a fresh ``ghp_`` token for ``login``."""
        token = new_token("ghp_")
        self.add_token(token, login)
        return token

    def user_id(self, login: str) -> int:
        """The numeric id of a user (registered on first use)."""
        return self.add_user(login).id

    def add_app(
        self,
        app_id: int = 123456,
        *,
        public_key_pem: str | None = None,
        slug: str = "kubesift-test",
        installation_id: int | None = None,
        account: str = "kubernetes",
        repositories: Iterable[str] | None = None,
        client_id: str | None = None,
    ) -> FakeApp:
        """Register a GitHub App with one installation on ``account``.

        Without ``public_key_pem`` a key pair is generated and the private key is kept on
        the returned app (``app.private_key_pem``, ``app.sign_jwt()``). ``repositories``
        limits the installation to those ``owner/name``s (default: all of ``account``).
        """
        private = None
        if public_key_pem is None:
            private, public_key_pem = generate_rsa_keypair()
        with self.lock:
            app = FakeApp(app_id, slug, public_key_pem, private, client_id, account)
            ident = installation_id or self.next_id("installation")
            repos = tuple(repositories) if repositories is not None else None
            app.installations[ident] = Installation(
                ident, app_id, account, repos, created_at=self.now()
            )
            self.credentials.apps[app_id] = app
            self.add_user(app.bot_login, user_type="Bot")
            return app

    def install_app(
        self,
        app_id: int,
        repository: str | None = None,
        *,
        account: str | None = None,
        installation_id: int | None = None,
    ) -> Installation:
        """Add an installation of app ``app_id``: on one ``owner/name`` (selected
        repositories) or, with ``account``, on all of that account's repositories."""
        with self.lock:
            app = self.credentials.apps[app_id]
            owner = account or (repository or app.owner).split("/")[0]
            ident = installation_id or self.next_id("installation")
            repos = (repository,) if repository and not account else None
            inst = Installation(ident, app_id, owner, repos, created_at=self.now())
            app.installations[ident] = inst
            return inst

    # ----------------------------------------------------------------- repositories

    def add_repo(self, generated: GeneratedRepo) -> FakeRepo:
        """Serve a generated repository (the fake takes ownership of its objects)."""
        with self.lock:
            for user in generated.users.values():
                self.users.setdefault(user.login, user)
            repo = self.create_repo(
                generated.owner,
                generated.name,
                repo_id=generated.repo_id,
                created_at=generated.created_at,
                seed=generated.seed,
                people=generated.maintainers[:60],
            )
            for label in generated.labels.values():
                repo.add_label_def(label)
            for item in generated.items:
                repo.items[item.number] = item
                repo.by_id[item.id] = item
            repo.load_events(generated.events)
            repo.gone.update(dict.fromkeys(generated.deleted, "deleted"))
            repo.gone.update(dict.fromkeys(generated.inaccessible, "inaccessible"))
            for transfer in generated.transferred.values():
                target = self._target_repo(transfer.target)
                moved = dataclasses.replace(transfer.item, number=transfer.target_number)
                target.add_item(moved)
                repo.moved[transfer.number] = (target.id, transfer.target_number)
            repo.max_number = generated.max_number
            repo.pushed_at = max((i.updated_at for i in generated.items[-50:]), default=0)
            return repo

    def create_repo(
        self,
        owner: str,
        name: str,
        *,
        repo_id: int | None = None,
        created_at: int | None = None,
        seed: int = 0,
        people: tuple[str, ...] = ("octocat",),
    ) -> FakeRepo:
        """Create an empty repository (returns the existing one if present)."""
        with self.lock:
            key = f"{owner}/{name}".lower()
            if key in self.repos:
                return self.repos[key]
            ident = repo_id or 10_000_000 + crc32(key.encode()) % 900_000_000
            while ident in self.repos_by_id:
                ident += 1
            self.add_user(owner, user_type="Organization")
            repo = FakeRepo(
                owner, name, ident, created_at=created_at or self.now(), seed=seed, people=people
            )
            self.repos[key] = self.repos_by_id[ident] = repo
            return repo

    def _target_repo(self, full_name: str) -> FakeRepo:
        owner, _, name = full_name.partition("/")
        return self.create_repo(owner, name, created_at=HISTORY_END - 86_400 * 365 * 8)

    def repo(self, ref: RepoRef) -> FakeRepo:
        """A repository by ``owner/name`` (case-insensitive); 404 :class:`ApiError` if none."""
        if isinstance(ref, FakeRepo):
            return ref
        repo = self.repos.get(ref.lower())
        if repo is None:
            raise not_found(DOC_GET_REPO)
        return repo

    def repo_by_id(self, repo_id: int) -> FakeRepo:
        """A repository by numeric id; 404 :class:`ApiError` if none."""
        repo = self.repos_by_id.get(repo_id)
        if repo is None:
            raise not_found(DOC_GET_REPO)
        return repo

    # ----------------------------------------------------------------- items

    def get_item(self, ref: RepoRef, number: int) -> Item:
        """An existing item; :class:`ApiError` 301/410/404 for moved, deleted, unknown."""
        repo = self.repo(ref)
        item = repo.items.get(number)
        if item is not None:
            return item
        if number in repo.moved:
            raise ApiError(301, "Moved Permanently", DOC_GET_ISSUE, moved=repo.moved[number])
        if repo.gone.get(number) == "deleted":
            raise ApiError(410, "This issue was deleted", DOC_GET_ISSUE)
        raise not_found(DOC_GET_ISSUE)

    def item_json(
        self, ref: RepoRef, number: int, *, base_url: str = "http://127.0.0.1"
    ) -> dict[str, Any]:
        """An item exactly as ``GET /repos/{o}/{r}/issues/{n}`` renders it, parsed."""
        with self.lock:
            repo = self.repo(ref)
            text = self.encoder(base_url).item(repo, self.get_item(repo, number), closed_by=True)
        return dict(json.loads(text))

    def create_item(
        self,
        ref: RepoRef,
        *,
        title: str = "",
        body: str | None = None,
        user: str = "octocat",
        kind: str = "issue",
        labels: Iterable[str] = (),
        state: str = "open",
        created_at: int | None = None,
        updated_at: int | None = None,
        closed_at: int | None = None,
        merged: bool = False,
        comments: int = 0,
        number: int | None = None,
        assignees: Iterable[str] = (),
        actor: str | None = None,
        author_association: str = "CONTRIBUTOR",
    ) -> Item:
        """Create an issue (``kind="issue"``) or PR (``"pr"``) with known contents.

        Times default to now; initial labels are recorded as ``labeled`` events by
        ``actor`` (default: ``user``) at ``created_at``. A closed item gets ``closed_at``
        (default: ``created_at``); ``merged`` PRs also get ``merged_at``.
        """
        with self.lock:
            repo = self.repo(ref)
            self.add_user(user)
            created = self.now() if created_at is None else created_at
            num = number if number is not None else repo.max_number + 1
            if num in repo.items or num in repo.gone or num in repo.moved:
                raise validation_failed("Issue", "number", "already_exists")
            ident = self.next_id("item")
            item = Item(
                number=num,
                id=ident,
                node_id=modern_node_id("PR" if kind == "pr" else "I", repo.id, ident),
                is_pr=kind == "pr",
                title=title,
                body=body,
                user=user,
                labels=(),
                state="open",
                created_at=created,
                updated_at=created,
                comments=comments,
                assignees=tuple(assignees),
                author_association=author_association,
            )
            self._initial_labels(repo, item, labels, actor or user)
            self._settle(repo, item, state, closed_at, updated_at, actor or user, merged)
            repo.add_item(item)
            return item

    def _settle(
        self,
        repo: FakeRepo,
        item: Item,
        state: str,
        closed_at: int | None,
        updated_at: int | None,
        actor: str,
        merged: bool,
    ) -> None:
        """Close a new item if asked, and date it after everything that happened to it."""
        if state == "closed":
            self._mark_closed(
                item, item.created_at if closed_at is None else closed_at, actor, merged
            )
        events = repo.item_events.get(item.number, [])
        item.updated_at = max([updated_at or 0, item.updated_at, *(e.created_at for e in events)])

    def _initial_labels(
        self, repo: FakeRepo, item: Item, labels: Iterable[str], actor: str
    ) -> None:
        names = []
        for name in labels:
            canonical = repo.label(name).name
            if canonical not in names:
                names.append(canonical)
                self._emit(repo, item.number, "labeled", actor, item.created_at, label=canonical)
        item.labels = tuple(sorted(names, key=str.lower))
        if names:
            self._invalidate_labels(repo)

    @staticmethod
    def _mark_closed(item: Item, when: int, actor: str, merged: bool) -> None:
        item.state, item.closed_at, item.closed_by = "closed", when, actor
        if item.is_pr and merged:
            item.merged_at = when
        item.state_reason = None if item.is_pr else "completed"
        item.updated_at = max(item.updated_at, when)

    def _emit(
        self, repo: FakeRepo, number: int, kind: str, actor: str, when: int, **extra: Any
    ) -> Event:
        self.add_user(actor)
        event = Event(self.next_id("event"), number, kind, actor, when, **extra)
        repo.add_event(event)
        return event

    def _touch_item(self, repo: FakeRepo, item: Item, change: Callable[[int], None]) -> None:
        old = repo.snapshot(item)
        now = max(self.now(), item.updated_at)
        change(now)
        item.updated_at = max(item.updated_at, now)
        repo.reindex(item, old)
