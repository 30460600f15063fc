"""Labelled issues from a file (``kubesift import issues``): CSV or JSON lines with
``repo, created_at, title, body`` and ``label`` or ``labels`` (optional ``number``,
``author``, ``kind``), such as the NLBSE issue-classification datasets as published.

Parsing is pure (:func:`parse_row`); :func:`save` writes the rows as items of their
repositories with ``source = "file"`` in one transaction. Re-importing the same file
changes nothing: an item is keyed by (repository, number), and a row without a number
gets one derived from its repository, creation time and title. An item exported from
GitHub is never overwritten by a file. A bad row is named and skipped; the rest is kept.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from kubesift.errors import ImportError_, UserError
from kubesift.github.names import REPO_RE
from kubesift.store import writes
from kubesift.store.schema import items
from kubesift.timeutil import to_iso, utcnow_iso

#: A title and a body are kept up to these lengths (GitHub's own limits are 256 and
#: 65,536 characters); longer ones are cut, never refused.
MAX_TITLE = 1_000
MAX_BODY = 65_536
#: The most rows one file may hold (a bigger file is split or is not an issue dataset).
MAX_ROWS = 2_000_000
#: The most bad rows named one by one.
SHOWN_BAD = 5


@dataclass(frozen=True)
class IssueRow:
    repo: str
    number: int
    created_at: str
    title: str
    body: str
    labels: tuple[str, ...]
    author: str | None = None
    kind: str = "issue"


@dataclass
class Imported:
    rows: int = 0
    created: int = 0
    updated: int = 0
    kept_github: int = 0
    repos: dict[str, int] = field(default_factory=dict)
    labels: dict[str, int] = field(default_factory=dict)
    bad: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "kept_github": self.kept_github,
            "repos": self.repos,
            "labels": self.labels,
            "bad_rows": len(self.bad),
            "bad": self.bad,
        }


def parse_label_map(pairs: Sequence[str]) -> dict[str, str]:
    """``["bug=kind/bug", …]`` → ``{"bug": "kind/bug"}``; a malformed pair is an error."""
    found: dict[str, str] = {}
    for pair in pairs:
        source, sep, target = pair.partition("=")
        if not sep or not source.strip() or not target.strip():
            raise UserError(f"--label-map takes FROM=TO (e.g. bug=kind/bug), not {pair!r}")
        found[source.strip()] = target.strip()
    return found


def read_records(path: Path) -> Iterator[tuple[int, Mapping[str, Any] | str]]:
    """(line or row number, record) for each record of a CSV or JSON-lines file; a record
    that cannot be read is a string saying why."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportError_(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json") or text.lstrip().startswith("{"):
        yield from _json_lines(text)
    else:
        yield from _csv_rows(text, path)


def _json_lines(text: str) -> Iterator[tuple[int, Mapping[str, Any] | str]]:
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield n, f"not JSON ({exc.msg})"
            continue
        yield n, record if isinstance(record, dict) else "not a JSON object"


def _csv_rows(text: str, path: Path) -> Iterator[tuple[int, Mapping[str, Any] | str]]:
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # issue bodies outgrow the default
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames:
        raise ImportError_(f"{path} is empty: a CSV needs a header row")
    try:
        for record in reader:
            # the header is line 1; a record's first line is where the reader started it
            yield reader.line_num, record
    except csv.Error as exc:
        raise ImportError_(f"{path}: line {reader.line_num}: {exc}") from exc


def parse_row(
    record: Mapping[str, Any], repo: str | None = None, label_map: Mapping[str, str] = {}
) -> IssueRow:
    """One record as an issue; a UserError says what is wrong with it."""
    name = repo or _text(record.get("repo") or record.get("repository"))
    if not name or not REPO_RE.match(name):
        raise UserError(f"repo must look like OWNER/NAME, not {name!r} (or give --repo)")
    created = _time(record.get("created_at"))
    title = _text(record.get("title"))[:MAX_TITLE]
    body = _text(record.get("body"))[:MAX_BODY]
    if not title and not body:
        raise UserError("it has neither a title nor a body")
    labels = tuple(dict.fromkeys(label_map.get(x, x) for x in _labels(record)))
    if not labels:
        raise UserError("it has no label (a column 'label' or 'labels')")
    kind = _text(record.get("kind")) or "issue"
    if kind not in ("issue", "pr"):
        raise UserError(f"kind must be issue or pr, not {kind!r}")
    return IssueRow(
        repo=name,
        number=_number(record.get("number"), name, created, title),
        created_at=created,
        title=title,
        body=body,
        labels=labels,
        author=_text(record.get("author")) or None,
        kind=kind,
    )


def _text(value: Any) -> str:
    return "" if value is None else str(value).replace("\x00", "").strip()


def _time(value: Any) -> str:
    text = _text(value)
    if not text:
        raise UserError("created_at is missing")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UserError(f"created_at {text!r} is not a date and time") from None
    if moment.tzinfo is None:  # the datasets write UTC without saying so
        moment = moment.replace(tzinfo=UTC)
    return to_iso(moment)


def _labels(record: Mapping[str, Any]) -> list[str]:
    value = record.get("labels", record.get("label"))
    if isinstance(value, list):
        return [_text(v) for v in value if _text(v)]
    text = _text(value)
    if text.startswith("["):
        try:
            listed = json.loads(text)
        except ValueError:
            listed = None
        if isinstance(listed, list):
            return [_text(v) for v in listed if _text(v)]
    return [part.strip() for part in text.split(",") if part.strip()]


def _number(value: Any, repo: str, created: str, title: str) -> int:
    text = _text(value)
    if text:
        if not text.isdigit() or not 0 < int(text) < 2**31:
            raise UserError(f"number must be a positive whole number, not {text!r}")
        return int(text)
    # No number: one derived from what identifies the issue, so a re-import finds it again.
    digest = hashlib.sha1(f"{repo}\n{created}\n{title}".encode()).hexdigest()
    return 1_000_000_000 + int(digest[:7], 16)  # above the numbers of real issues


def parse_file(
    path: Path, repo: str | None = None, label_map: Mapping[str, str] = {}
) -> tuple[list[IssueRow], list[str]]:
    """The issues of ``path`` and a one-line reason for each bad record."""
    good: list[IssueRow] = []
    bad: list[str] = []
    for n, record in read_records(path):
        if len(good) + len(bad) >= MAX_ROWS:
            raise ImportError_(f"{path} holds more than {MAX_ROWS:,} rows: split it")
        if isinstance(record, str):
            bad.append(f"line {n}: {record}")
            continue
        try:
            good.append(parse_row(record, repo, label_map))
        except UserError as exc:
            bad.append(f"line {n}: {exc.message}")
    return good, bad


def save(engine: Engine, rows: Sequence[IssueRow]) -> Imported:
    """Write ``rows`` as items with their labels, one transaction for the whole file."""
    out = Imported(rows=len(rows))
    now = utcnow_iso()
    by_repo: dict[str, list[IssueRow]] = {}
    for row in rows:
        by_repo.setdefault(row.repo, []).append(row)
    with engine.begin() as conn:
        for repo, mine in by_repo.items():
            repo_id = writes.ensure_repository(conn, repo)
            existing = {
                int(n): str(s)
                for n, s in conn.execute(
                    select(items.c.number, items.c.source).where(items.c.repository_id == repo_id)
                )
            }
            # one row per number (the last wins); GitHub's own items are never overwritten
            unique = {r.number: r for r in mine}
            ours = [r for r in unique.values() if existing.get(r.number, "file") == "file"]
            out.kept_github += len(unique) - len(ours)
            writes.upsert_items(
                conn,
                repo_id,
                [_item(r, now) for r in ours],
                {r.number: [{"name": x} for x in r.labels] for r in ours},
            )
            out.created += sum(1 for r in ours if r.number not in existing)
            out.updated += sum(1 for r in ours if r.number in existing)
            out.repos[repo] = len(mine)
            for r in ours:
                for label in r.labels:
                    out.labels[label] = out.labels.get(label, 0) + 1
    return out


def _item(row: IssueRow, now: str) -> dict[str, Any]:
    return {
        "number": row.number,
        "github_id": None,
        "kind": row.kind,
        "title": row.title,
        "body": row.body,
        "state": "open",
        "author": row.author,
        "author_is_bot": False,
        "created_at": row.created_at,
        "updated_at": row.created_at,
        "source": "file",
        "raw_json": None,
        "fetched_at": now,
    }


def import_issues(
    engine: Engine, path: Path, repo: str | None = None, label_map: Mapping[str, str] = {}
) -> Imported:
    """``kubesift import issues``: parse ``path`` and save what is good."""
    rows, bad = parse_file(path, repo, label_map)
    if not rows:
        reason = f"; {bad[0]}" if bad else ""
        raise ImportError_(f"{path} holds no importable issue{reason}")
    found = save(engine, rows)
    found.bad = bad
    return found
