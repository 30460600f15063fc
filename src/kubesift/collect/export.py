"""Mirroring a repository's issues, PRs and label history into the store.

fetch (``GitHubClient``) -> transform (pure) -> save (``store.writes``), one page at a
time; each page's rows and the checkpoint that covers them commit in one
transaction, so a killed export resumes exactly where it stopped.

Issues are walked with ``sort=updated&direction=asc`` following ``Link: rel="next"``
only. The watermark is the largest ``updated_at`` stored; updates ask
``since=<watermark>`` and repeat the exact URL with ``If-None-Match``, so an
unchanged repository costs one 304 answer and no quota.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine

from kubesift.collect.progress import Progress, SilentProgress
from kubesift.collect.releasenotes import extract_release_note
from kubesift.collect.transform import (
    check_items_page,
    closed_event_row,
    item_row,
    label_defs,
    label_event_row,
)
from kubesift.errors import GitHubError, MalformedResponseError, NotFoundError
from kubesift.github.client import GitHubClient, Response
from kubesift.store import writes
from kubesift.store.queries import repository_id
from kubesift.store.schema import items
from kubesift.timeutil import utcnow_iso

PER_PAGE = 100


@dataclass
class ExportResult:
    repo: str
    mode: str
    numbers: set[int] = field(default_factory=set)
    events: int = 0
    pages: int = 0
    not_modified: bool = False
    watermark: str | None = None
    gaps: dict[str, int] = field(default_factory=dict)

    @property
    def items(self) -> int:
        return len(self.numbers)


def issues_url(repo: str, since: str | None = None, per_page: int = PER_PAGE) -> str:
    params: dict[str, Any] = {
        "state": "all",
        "sort": "updated",
        "direction": "asc",
        "per_page": per_page,
    }
    if since:
        params["since"] = since
    return f"/repos/{repo}/issues?{urlencode(params)}"


def events_url(repo: str, per_page: int = PER_PAGE) -> str:
    return f"/repos/{repo}/issues/events?per_page={per_page}"


class Exporter:
    """Exports one repository into the store through one client."""

    def __init__(
        self,
        engine: Engine,
        client: GitHubClient,
        repo: str,
        *,
        progress: Progress | None = None,
        per_page: int = PER_PAGE,
    ) -> None:
        self.engine = engine
        self.client = client
        self.repo = repo
        self.progress = progress or SilentProgress()
        self.per_page = per_page

    # -- public steps -------------------------------------------------------------------

    def run(self, *, full: bool = False, events: bool = True) -> ExportResult:
        """Full export when nothing is stored (or ``full``), else an incremental update."""
        state = self._state("issues")
        mode = "resume" if state.get("cursor") else "update" if state.get("watermark") else "full"
        if full:
            mode = "full"
        result = ExportResult(self.repo, mode)
        try:
            self._sync_issues(mode, state, result)
            # Label changes bump updated_at: no newer item means no new label event (ties in
            # the watermark's second are caught by the next walk, which reads back to the
            # last stored event).
            changed = not result.not_modified and result.watermark != state.get("watermark")
            if events and (changed or mode != "update" or self._events_pending()):
                self._sync_events(result)
        except NotFoundError as exc:
            raise NotFoundError(
                f"repository {self.repo} not found on {self.client.api_url} "
                "(or not visible with these credentials)",
                status=exc.status,
            ) from exc
        return result

    # -- issues -------------------------------------------------------------------------

    def _sync_issues(self, mode: str, state: dict[str, Any], result: ExportResult) -> None:
        watermark = None if mode == "full" else state.get("watermark")
        if mode == "resume":
            self.progress.note("resuming the interrupted export from its checkpoint")
            self._walk_issues(state["cursor"], watermark, result, conditional=None)
        elif mode == "full":
            self.progress.phase("issues", self._estimate_total())
            self._walk_issues(issues_url(self.repo, None, self.per_page), None, result, None)
        else:
            self.progress.phase("issues", None)
            url = issues_url(self.repo, watermark, self.per_page)
            etag = state.get("etag") if state.get("etag_url") == url else None
            self._walk_issues(url, watermark, result, conditional=etag)
            return
        # The full walk ends with one since=<watermark> pass: it catches items changed
        # while we walked and stores the ETag that makes the next no-change update free.
        tail = issues_url(self.repo, result.watermark, self.per_page)
        self._walk_issues(tail, result.watermark, result, conditional=None)

    def _estimate_total(self) -> int | None:
        try:
            response = self.client.get(f"/repos/{self.repo}/issues?state=all&per_page=1")
        except NotFoundError:
            raise  # an unknown repository must fail here, not pass as "no estimate"
        except GitHubError:
            return None
        data = response.data
        if isinstance(data, list) and data and isinstance(data[0], dict):
            return int(data[0].get("number", 0)) or None
        return None

    def _walk_issues(
        self, url: str, watermark: str | None, result: ExportResult, conditional: str | None
    ) -> None:
        first = True
        next_url: str | None = url
        while next_url is not None:
            try:
                response = self.client.get(next_url, etag=conditional if first else None)
            except GitHubError as exc:
                if exc.status == 422 and not first and watermark:
                    # A stale cursor: restart from the watermark, which is always safe.
                    self.progress.note(
                        "the saved page cursor expired; continuing from the watermark"
                    )
                    next_url = issues_url(self.repo, watermark, self.per_page)
                    continue
                raise
            if response.status == 304:
                result.not_modified = True
                self._save_checkpoint(watermark, complete=True)
                return
            watermark = self._save_issue_page(response, next_url, watermark, first)
            result.numbers.update(int(raw["number"]) for raw in response.data)
            result.pages += 1
            result.watermark = watermark
            self.progress.advance(len(response.data), response.rate.remaining)
            next_url = response.next_url
            first = False

    def _save_issue_page(
        self, response: Response, url: str, watermark: str | None, first: bool
    ) -> str | None:
        try:
            page = check_items_page(response.data, url)
        except ValueError as exc:
            raise MalformedResponseError(str(exc)) from exc
        now = utcnow_iso()
        rows = [item_row(raw, now) for raw in page]
        new_mark = max([watermark or "", *(str(r["updated_at"]) for r in rows)]) or None
        checkpoint: dict[str, Any] = {"cursor": response.next_url, "watermark": new_mark}
        if first:
            checkpoint.update(etag=response.etag, etag_url=url)
        if response.next_url is None:
            checkpoint["completed_at"] = now
        with self.engine.begin() as conn:
            repo_id = writes.ensure_repository(conn, self.repo, api_url=self.client.api_url)
            ids = writes.upsert_items(
                conn, repo_id, rows, {int(raw["number"]): label_defs(raw) for raw in page}
            )
            self._save_notes(conn, ids, rows)
            writes.put_sync_state(conn, repo_id, "issues", **checkpoint)
        return new_mark

    @staticmethod
    def _save_notes(conn: Connection, ids: dict[int, int], rows: Sequence[dict[str, Any]]) -> None:
        notes = []
        for row in rows:
            if row["kind"] != "pr":
                continue
            note = extract_release_note(row["body"])
            notes.append(
                {
                    "item_id": ids[row["number"]],
                    "source": "body",
                    "status": note.status,
                    "text": note.text,
                    "action_required": note.action_required,
                    "release": None,
                    "documentation": None,
                    "author": row["author"],
                }
            )
        writes.upsert_release_notes(conn, notes)

    def _save_checkpoint(self, watermark: str | None, *, complete: bool) -> None:
        with self.engine.begin() as conn:
            repo_id = writes.ensure_repository(conn, self.repo, api_url=self.client.api_url)
            values: dict[str, Any] = {"cursor": None, "watermark": watermark}
            if complete:
                values["completed_at"] = utcnow_iso()
            writes.put_sync_state(conn, repo_id, "issues", **values)

    # -- label events -------------------------------------------------------------------

    def _sync_events(self, result: ExportResult) -> None:
        """Walk repository issue events newest first until the last stored one."""
        state = self._state("events")
        url = state.get("cursor") or events_url(self.repo, self.per_page)
        resuming = bool(state.get("cursor"))
        stop = int(state["walk_stop"] if resuming else state.get("watermark") or 0)
        top = int(state.get("walk_started") or 0) if resuming else 0
        etag = None if resuming else state.get("etag")
        self.progress.phase("issue events", None)
        for response in self._pages(url, etag):
            if response.status == 304:
                return
            events = response.data if isinstance(response.data, list) else None
            if events is None:
                raise MalformedResponseError(f"expected a list of events from {response.url}")
            ids = [int(e["id"]) for e in events if isinstance(e, dict) and "id" in e]
            fresh = [e for e in events if int(e.get("id", 0)) > stop]
            top = max([top, *ids])
            done = response.next_url is None or len(fresh) < len(events)
            rows = [r for r in map(label_event_row, fresh) if r is not None]
            closers = [r for r in map(closed_event_row, fresh) if r is not None]
            checkpoint: dict[str, Any] = {"walk_stop": str(stop), "walk_started": str(top)}
            if url == events_url(self.repo, self.per_page) and not resuming:
                checkpoint["etag"] = response.etag
            checkpoint.update(
                {"cursor": None, "watermark": str(top), "completed_at": utcnow_iso()}
                if done
                else {"cursor": response.next_url}
            )
            self._save_events(rows, closers, checkpoint)
            result.events += len(rows)
            self.progress.advance(len(fresh), response.rate.remaining)
            resuming = True  # only the first page of a fresh walk carries the reusable ETag
            if done:
                return

    def _pages(self, url: str, etag: str | None) -> Iterator[Response]:
        next_url: str | None = url
        while next_url is not None:
            response = self.client.get(next_url, etag=etag)
            etag = None
            yield response
            next_url = response.next_url if response.status != 304 else None

    def _save_events(
        self,
        rows: list[dict[str, Any]],
        closers: list[dict[str, Any]],
        checkpoint: dict[str, Any],
    ) -> None:
        with self.engine.begin() as conn:
            repo_id = writes.ensure_repository(conn, self.repo, api_url=self.client.api_url)
            writes.insert_label_events(conn, repo_id, rows)
            writes.set_closed_by(conn, repo_id, closers)
            writes.put_sync_state(conn, repo_id, "events", **checkpoint)

    # -- verify -------------------------------------------------------------------------

    def verify(self) -> dict[str, int]:
        """Fetch every number in 1..max(number) the store lacks and record what it is."""
        missing = self._missing_numbers()
        counts = {"found": 0, "transferred": 0, "deleted": 0, "inaccessible": 0}
        self.progress.phase("verify", len(missing))
        for number in missing:
            response = self.client.get(f"/repos/{self.repo}/issues/{number}", allow=(301, 404, 410))
            outcome = self._record_probe(number, response)
            counts[outcome] += 1
            self.progress.advance(1, response.rate.remaining)
        return counts

    def _missing_numbers(self) -> list[int]:
        with self.engine.connect() as conn:
            repo_id = repository_id(conn, self.repo)
            if repo_id is None:
                return []
            top = conn.execute(
                select(func.max(items.c.number)).where(items.c.repository_id == repo_id)
            ).scalar()
            have = set(
                conn.execute(
                    select(items.c.number).where(items.c.repository_id == repo_id)
                ).scalars()
            )
        return [n for n in range(1, int(top or 0) + 1) if n not in have]

    def _record_probe(self, number: int, response: Response) -> str:
        with self.engine.begin() as conn:
            repo_id = writes.ensure_repository(conn, self.repo)
            if response.status == 200 and isinstance(response.data, dict):
                raw = response.data
                row = item_row(raw, utcnow_iso())
                ids = writes.upsert_items(conn, repo_id, [row], {number: label_defs(raw)})
                self._save_notes(conn, ids, [row])
                return "found"
            state = {301: "transferred", 410: "deleted"}.get(response.status, "inaccessible")
            moved = response.headers.get("location") if response.status == 301 else None
            if moved is None and isinstance(response.data, dict) and response.status == 301:
                moved = response.data.get("url")
            writes.mark_gone(conn, repo_id, number, state, moved_to=moved)
            return state

    # -- helpers ------------------------------------------------------------------------

    def _events_pending(self) -> bool:
        """An events walk was interrupted, or never finished: a 304 on issues is not enough."""
        state = self._state("events")
        return bool(state.get("cursor")) or not state.get("completed_at")

    def _state(self, resource: str) -> dict[str, Any]:
        with self.engine.connect() as conn:
            repo_id = repository_id(conn, self.repo)
            return writes.get_sync_state(conn, repo_id, resource) if repo_id else {}
