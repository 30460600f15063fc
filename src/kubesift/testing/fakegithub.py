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
from collections.abc import Iterable
from typing import Any
from zlib import crc32

from kubesift.testing import _churn, _comments
from kubesift.testing._churn import MERGE_BOT
from kubesift.testing._comments import MAX_COMMENT_LENGTH
from kubesift.testing._core import FakeCore, RepoRef
from kubesift.testing._faults import Fault
from kubesift.testing._http import (
    ApiError,
    validation_failed,
)
from kubesift.testing._repo import FakeRepo
from kubesift.testing.model import Comment, Item

__all__ = ["MAX_COMMENT_LENGTH", "FakeGitHub", "create_app"]


class FakeGitHub(FakeCore):
    """The fake's whole state (see :class:`FakeCore`) and every change to it."""

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

    # ----------------------------------------------------------------- comments, churn

    def list_comments(self, ref: RepoRef, number: int) -> list[Comment]:
        """An item's comments, oldest first."""
        return _comments.list_comments(self, ref, number)

    def get_comment(self, ref: RepoRef, comment_id: int) -> Comment:
        """One comment; 404 :class:`ApiError` if unknown."""
        return _comments.get_comment(self, ref, comment_id)

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
        return _comments.add_comment(self, ref, number, body, user=user, app_id=app_id)

    def edit_comment(self, ref: RepoRef, comment_id: int, body: str) -> Comment:
        """Replace a comment's body."""
        return _comments.edit_comment(self, ref, comment_id, body)

    def delete_comment(self, ref: RepoRef, comment_id: int) -> None:
        """Delete a comment (decrements the item's ``comments``)."""
        _comments.delete_comment(self, ref, comment_id)

    def touch(self, ref: RepoRef, count: int, *, seed: int = 0) -> list[int]:
        """Change ``count`` distinct items realistically (relabel, comment, rename,
        close/merge/reopen, lifecycle); each gets events and a new ``updated_at``."""
        return _churn.touch(self, ref, count, seed=seed)

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


def create_app(fake: FakeGitHub) -> Any:
    """The ASGI application serving ``fake`` (GitHub's REST routes plus ``/_fake/``)."""
    from kubesift.testing._asgi import FakeGitHubASGI

    return FakeGitHubASGI(fake)
