"""A stateful fake of the GitHub REST API, for tests, benchmarks and local trials.

:class:`FakeGitHub` holds repositories, users, tokens, GitHub Apps, quota buckets, a clock,
a fault queue and request statistics; :func:`create_app` serves it as an ASGI app (see
``kubesift.testing.server.serve_in_thread``). Everything the HTTP control API under
``/_fake/`` can do is also a method here.

Quota: every answered request costs one unit of its caller's bucket except ``304``s,
``GET /rate_limit``, 401s, the 403/429 of primary and secondary limits, and 5xx answers;
4xx answers (404, 410, 422, 301) cost one, as on GitHub. ``x-ratelimit-reset`` and the
``Date`` header come from the fake clock, so clients should wait ``reset - Date``.

Control API (JSON; no auth, not counted): ``POST/GET/DELETE /_fake/faults``,
``GET/POST /_fake/clock`` (``{"advance": s}``, ``{"speed": x}``), ``GET /_fake/stats``,
``POST /_fake/stats/reset``, ``GET /_fake/requests?limit=N``, ``POST /_fake/tokens``
(``{"login", "token"?}``), ``GET/POST /_fake/config`` (``require_auth``, ``rate_limit``,
``anonymous_rate_limit``, ``rate_window_seconds``, ``etag_varies_by_token``),
``POST /_fake/apps`` and ``POST /_fake/mutate`` (``touch``, ``create``, ``edit``,
``add_label``, ``remove_label``, ``delete``, ``transfer``, ``comment``).
"""

from __future__ import annotations

import dataclasses
import json
import random
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
from kubesift.testing._faults import Fault, FaultQueue
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
from kubesift.testing.model import Comment, Event, GeneratedRepo, Item, User, modern_node_id

__all__ = ["MAX_COMMENT_LENGTH", "FakeGitHub", "create_app"]

MAX_COMMENT_LENGTH = 65_536
MERGE_BOT = "k8s-ci-robot"
STALE_BOT = "k8s-triage-robot"
RepoRef = str | FakeRepo


class FakeGitHub:
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
            if state == "closed":
                self._mark_closed(
                    item, closed_at if closed_at is not None else created, actor or user, merged
                )
            item.updated_at = max(
                [
                    updated_at or 0,
                    item.updated_at,
                    *(e.created_at for e in repo.item_events.get(num, [])),
                ]
            )
            repo.add_item(item)
            return item

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

    # ----------------------------------------------------------------- labels

    def add_labels(
        self,
        ref: RepoRef,
        number: int,
        labels: Iterable[str],
        *,
        actor: str = "octocat",
        app_id: int | None = None,
    ) -> tuple[str, ...]:
        """Add labels (creating unknown ones), recording ``labeled`` events by ``actor``."""
        with self.lock:
            repo = self.repo(ref)
            item = self.get_item(repo, number)
            wanted = [repo.label(n).name for n in labels]
            fresh = [n for n in dict.fromkeys(wanted) if n not in item.labels]
            if fresh:
                self._invalidate_labels(repo)
                self._touch_item(
                    repo, item, lambda now: self._relabel(repo, item, fresh, [], actor, now, app_id)
                )
            return item.labels

    def remove_label(
        self,
        ref: RepoRef,
        number: int,
        label: str,
        *,
        actor: str = "octocat",
        app_id: int | None = None,
    ) -> tuple[str, ...]:
        """Remove one label; 404 ``Label does not exist`` when the item lacks it."""
        with self.lock:
            repo = self.repo(ref)
            item = self.get_item(repo, number)
            present = {n.lower(): n for n in item.labels}.get(label.lower())
            if present is None:
                raise ApiError(
                    404,
                    "Label does not exist",
                    "https://docs.github.com/rest/issues/labels#remove-a-label-from-an-issue",
                )
            self._touch_item(
                repo, item, lambda now: self._relabel(repo, item, [], [present], actor, now, app_id)
            )
            return item.labels

    def set_labels(
        self,
        ref: RepoRef,
        number: int,
        labels: Iterable[str],
        *,
        actor: str = "octocat",
        app_id: int | None = None,
    ) -> tuple[str, ...]:
        """Replace the label set, recording the differences as events."""
        with self.lock:
            repo = self.repo(ref)
            item = self.get_item(repo, number)
            wanted = list(dict.fromkeys(repo.label(n).name for n in labels))
            add = [n for n in wanted if n not in item.labels]
            drop = [n for n in item.labels if n not in wanted]
            if add or drop:
                self._invalidate_labels(repo)
                self._touch_item(
                    repo, item, lambda now: self._relabel(repo, item, add, drop, actor, now, app_id)
                )
            return item.labels

    def _relabel(
        self,
        repo: FakeRepo,
        item: Item,
        add: list[str],
        drop: list[str],
        actor: str,
        now: int,
        app_id: int | None,
    ) -> None:
        current = [n for n in item.labels if n not in drop]
        for name in drop:
            self._emit(repo, item.number, "unlabeled", actor, now, label=name, app_id=app_id)
        for name in add:
            current.append(name)
            self._emit(repo, item.number, "labeled", actor, now, label=name, app_id=app_id)
        item.labels = tuple(sorted(current, key=str.lower))

    # ----------------------------------------------------------------- edits

    def edit_item(
        self,
        ref: RepoRef,
        number: int,
        *,
        title: str | None = None,
        body: str | None = None,
        state: str | None = None,
        state_reason: str | None = None,
        actor: str = "octocat",
        app_id: int | None = None,
    ) -> Item:
        """Change title (``renamed`` event), body, or state (``closed``/``reopened``)."""
        with self.lock:
            repo = self.repo(ref)
            item = self.get_item(repo, number)
            if state is not None and state not in ("open", "closed"):
                raise validation_failed("Issue", "state", "invalid")
            if state == "open" and item.merged_at is not None:
                raise validation_failed(
                    "Issue",
                    "state",
                    "custom",
                    "state cannot be changed. The pull request cannot be reopened",
                )

            def change(now: int) -> None:
                if title is not None and title != item.title:
                    self._emit(
                        repo,
                        number,
                        "renamed",
                        actor,
                        now,
                        rename_from=item.title,
                        rename_to=title,
                        app_id=app_id,
                    )
                    item.title = title
                if body is not None:
                    item.body = body
                if state is not None and state != item.state:
                    self._set_state(repo, item, state, state_reason, actor, now, app_id)

            self._touch_item(repo, item, change)
            return item

    def _set_state(
        self,
        repo: FakeRepo,
        item: Item,
        state: str,
        reason: str | None,
        actor: str,
        now: int,
        app_id: int | None,
        merge: bool = False,
    ) -> None:
        if state == "closed":
            if merge:
                sha = f"{crc32(str(item.id).encode()):08x}" * 5
                self._emit(repo, item.number, "merged", MERGE_BOT, now, commit_id=sha)
                actor = MERGE_BOT
            self._mark_closed(item, now, actor, merge)
            if not item.is_pr and reason:
                item.state_reason = reason
            self._emit(repo, item.number, "closed", actor, now, app_id=app_id)
        else:
            item.state, item.closed_at, item.closed_by = "open", None, None
            item.state_reason = None if item.is_pr else "reopened"
            self._emit(repo, item.number, "reopened", actor, now, app_id=app_id)

    def delete_item(self, ref: RepoRef, number: int) -> None:
        """Delete an item: its number answers 410 from now on."""
        with self.lock:
            repo = self.repo(ref)
            self.get_item(repo, number)
            repo.drop_item(number)
            repo.gone[number] = "deleted"

    def transfer_item(
        self, ref: RepoRef, number: int, target: str | None = None
    ) -> tuple[str, int]:
        """Move an item to ``target`` (default ``{owner}/website``); the old number 301s."""
        with self.lock:
            repo = self.repo(ref)
            self.get_item(repo, number)
            dest = self._target_repo(target or f"{repo.owner}/website")
            item = repo.drop_item(number)
            new_number = dest.max_number + 1
            moved = dataclasses.replace(
                item, number=new_number, labels=(), updated_at=max(self.now(), item.updated_at)
            )
            dest.add_item(moved)
            repo.moved[number] = (dest.id, new_number)
            return dest.full_name, new_number

    # ----------------------------------------------------------------- comments

    def list_comments(self, ref: RepoRef, number: int) -> list[Comment]:
        """An item's comments, oldest first."""
        with self.lock:
            repo = self.repo(ref)
            return list(repo.comments_of(self.get_item(repo, number)))

    def get_comment(self, ref: RepoRef, comment_id: int) -> Comment:
        """One comment; 404 :class:`ApiError` if unknown."""
        with self.lock:
            repo = self.repo(ref)
            comment = repo.comments.get(comment_id)
            if comment is None:
                raise not_found("https://docs.github.com/rest/issues/comments#get-an-issue-comment")
            return comment

    def add_comment(
        self,
        ref: RepoRef,
        number: int,
        body: str,
        *,
        user: str = "octocat",
        app_id: int | None = None,
    ) -> Comment:
        """Comment on an item (bumps its ``comments`` and ``updated_at``)."""
        _check_comment_body(body)
        with self.lock:
            repo = self.repo(ref)
            item = self.get_item(repo, number)
            existing = repo.comments_of(item)
            self.add_user(user)
            now = max(self.now(), item.updated_at)
            comment = Comment(
                self.next_id("comment"),
                number,
                user,
                body,
                now,
                now,
                "MEMBER" if user in repo.people else "CONTRIBUTOR",
                app_id,
            )
            existing.append(comment)
            repo.comments[comment.id] = comment

            def change(_: int) -> None:
                item.comments += 1

            self._touch_item(repo, item, change)
            return comment

    def edit_comment(self, ref: RepoRef, comment_id: int, body: str) -> Comment:
        """Replace a comment's body."""
        _check_comment_body(body)
        with self.lock:
            comment = self.get_comment(ref, comment_id)
            comment.body = body
            comment.updated_at = max(self.now(), comment.updated_at)
            return comment

    def delete_comment(self, ref: RepoRef, comment_id: int) -> None:
        """Delete a comment (decrements the item's ``comments``)."""
        with self.lock:
            repo = self.repo(ref)
            comment = self.get_comment(repo, comment_id)
            del repo.comments[comment_id]
            siblings = repo.item_comments.get(comment.number, [])
            siblings[:] = [c for c in siblings if c.id != comment_id]
            item = repo.items.get(comment.number)
            if item is not None:
                old = repo.snapshot(item)
                item.comments = max(item.comments - 1, 0)
                repo.reindex(item, old)

    # ----------------------------------------------------------------- bulk changes

    def touch(self, ref: RepoRef, count: int, *, seed: int = 0) -> list[int]:
        """Change ``count`` distinct items realistically (relabel, comment, rename,
        close/merge/reopen, lifecycle); each gets events and a new ``updated_at``."""
        with self.lock:
            repo = self.repo(ref)
            rng = random.Random(seed)
            numbers = sorted(repo.items)
            chosen = rng.sample(numbers, min(max(count, 0), len(numbers)))
            for number in chosen:
                self._touch_one(repo, repo.items[number], rng)
            return chosen

    def _touch_one(self, repo: FakeRepo, item: Item, rng: random.Random) -> None:
        human = rng.choice(repo.people)
        roll = rng.random()
        if roll < 0.35:
            self._touch_relabel(repo, item, rng, human)
        elif roll < 0.55 or (roll < 0.85 and item.merged_at is not None):
            self.add_comment(
                repo, item.number, rng.choice(("/retest", "PTAL", "/lgtm")), user=human
            )
        elif roll < 0.65:
            new = item.title[6:] if item.title.startswith("[WIP] ") else "[WIP] " + item.title
            self.edit_item(repo, item.number, title=new, actor=item.user)
        elif roll < 0.85:
            self._touch_state(repo, item, rng, human)
        elif "lifecycle/stale" in item.labels:
            self.remove_label(repo, item.number, "lifecycle/stale", actor=human)
        else:
            self.add_labels(repo, item.number, ["lifecycle/stale"], actor=STALE_BOT)

    def _touch_relabel(self, repo: FakeRepo, item: Item, rng: random.Random, human: str) -> None:
        pool = [n for n in repo.labels if n.startswith(("kind/", "sig/"))] or ["kind/bug"]
        mine = [n for n in item.labels if n.startswith(("kind/", "sig/"))]
        if mine and rng.random() < 0.3:
            self.remove_label(repo, item.number, rng.choice(mine), actor=human)
        actor = MERGE_BOT if rng.random() < 0.5 else human
        self.add_labels(repo, item.number, [rng.choice(pool)], actor=actor)

    def _touch_state(self, repo: FakeRepo, item: Item, rng: random.Random, human: str) -> None:
        if item.state == "closed":
            self.edit_item(repo, item.number, state="open", actor=human)
            return
        merge = item.is_pr and rng.random() < 0.7
        self._touch_item(
            repo,
            item,
            lambda now: self._set_state(repo, item, "closed", "completed", human, now, None, merge),
        )

    # ----------------------------------------------------------------- faults, stats

    def inject(self, fault: Fault) -> Fault:
        """Queue a fault (see :class:`~kubesift.testing.Fault`); ``exhaust`` with a
        ``token`` applies at once."""
        with self.lock:
            if fault.kind == "exhaust" and fault.token:
                self.exhaust(fault.token, fault.seconds)
                fault.count = 0
                return fault
            return self.faults.add(fault)

    def clear_faults(self) -> None:
        """Remove every queued fault."""
        with self.lock:
            self.faults.clear()

    def exhaust(self, token: str, reset_in: float) -> None:
        """Spend all of ``token``'s quota; the window resets ``reset_in`` seconds from now."""
        with self.lock:
            ident = self.credentials.identify(token, "127.0.0.1", self.user_id)
            bucket = self.credentials.bucket(
                ident, self.rate_limit, self.anonymous_rate_limit, self.rate_window_seconds
            )
            bucket.used = bucket.limit
            bucket.reset_at = self.clock.now() + reset_in

    def stats_snapshot(self) -> dict[str, Any]:
        """Request counts by route and status, 304s, quota used."""
        with self.lock:
            return self.stats.snapshot()

    def reset_stats(self) -> None:
        """Zero the request statistics."""
        with self.lock:
            self.stats.reset()

    def mutate(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Apply one control-API mutation (``POST /_fake/mutate``)."""
        from kubesift.testing._control import apply_mutation

        with self.lock:
            return apply_mutation(self, payload)


def _check_comment_body(body: object) -> None:
    doc = "https://docs.github.com/rest/issues/comments#create-an-issue-comment"
    if not isinstance(body, str):
        raise validation_failed("IssueComment", "body", "missing_field", doc=doc)
    if len(body) > MAX_COMMENT_LENGTH:
        raise validation_failed(
            "IssueComment",
            "body",
            "custom",
            f"body is too long (maximum is {MAX_COMMENT_LENGTH} characters)",
            doc=doc,
        )


def create_app(fake: FakeGitHub) -> Any:
    """The ASGI application serving ``fake`` (GitHub's REST routes plus ``/_fake/``)."""
    from kubesift.testing._asgi import FakeGitHubASGI

    return FakeGitHubASGI(fake)
