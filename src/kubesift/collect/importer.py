"""Importing release notes written by the Kubernetes release tooling (krel JSON).

Each note becomes a merged PR item of ``kubernetes/kubernetes`` (unless the PR was
already exported from GitHub, whose data wins) with its ``kind/``, ``sig/`` and
``area/`` labels and a release-note row holding the note and its first release.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.engine import Engine

from kubesift.collect.krel import KrelNote, expand_paths, read_krel_notes, version_key
from kubesift.errors import ImportError_
from kubesift.store import writes
from kubesift.store.schema import items
from kubesift.timeutil import utcnow_iso

DEFAULT_REPO = "kubernetes/kubernetes"


@dataclass(frozen=True)
class ImportResult:
    files: int
    notes: int
    created: int
    updated: int
    kept_github: int
    releases: tuple[str, ...]


def note_labels(note: KrelNote) -> list[dict[str, str | None]]:
    names = [f"kind/{k}" for k in note.kinds] + [f"sig/{s}" for s in note.sigs]
    names += [f"area/{a}" for a in note.areas]
    return [{"name": n, "color": None, "description": None} for n in dict.fromkeys(names)]


def note_item_row(note: KrelNote, now: str) -> dict[str, object]:
    return {
        "number": note.pr_number,
        "github_id": None,
        "kind": "pr",
        "title": None,
        "body": None,
        "state": "closed",
        "author": note.author,
        "author_is_bot": False,
        "source": "krel",
        "raw_json": None,
        "fetched_at": now,
    }


def download(urls: Sequence[str], into: Path, client: httpx.Client) -> list[Path]:
    """Fetch each URL to a file in ``into``; errors become one-line ImportError_."""
    paths = []
    for i, url in enumerate(urls):
        name = Path(urlsplit(url).path).name or f"download-{i}.json"
        try:
            response = client.get(url, follow_redirects=True)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise ImportError_(f"cannot download {url}: {exc}") from exc
        # The file name carries the release (release-notes-1.18.0.json): keep it.
        target = into / name if not (into / name).exists() else into / f"{i:04d}-{name}"
        target.write_bytes(response.content)
        paths.append(target)
    return paths


def resolve_sources(
    specs: Sequence[str], client_factory: type[httpx.Client] = httpx.Client
) -> tuple[list[Path], tempfile.TemporaryDirectory[str] | None]:
    urls = [s for s in specs if s.startswith(("http://", "https://"))]
    local = [s for s in specs if s not in urls]
    paths = expand_paths(local) if local else []
    if not urls:
        return paths, None
    tmp = tempfile.TemporaryDirectory(prefix="kubesift-krel-")
    with client_factory(timeout=60) as client:
        paths += download(urls, Path(tmp.name), client)
    return paths, tmp


def import_release_notes(
    engine: Engine, specs: Sequence[str], repo: str = DEFAULT_REPO
) -> ImportResult:
    """Import every note found in files, directories, globs or URLs ``specs``."""
    paths, tmp = resolve_sources(specs)
    try:
        notes = read_krel_notes(paths)
    finally:
        if tmp is not None:
            tmp.cleanup()
    if not notes:
        raise ImportError_("the given files hold no release notes")
    created, updated, kept = save_notes(engine, notes, repo)
    releases = sorted({n.release for n in notes}, key=version_key)
    return ImportResult(len(paths), len(notes), created, updated, kept, tuple(releases))


def save_notes(engine: Engine, notes: Iterable[KrelNote], repo: str) -> tuple[int, int, int]:
    notes = list(notes)
    now = utcnow_iso()
    with engine.begin() as conn:
        repo_id = writes.ensure_repository(conn, repo)
        found_rows = conn.execute(
            select(items.c.number, items.c.source).where(items.c.repository_id == repo_id)
        )
        existing = {int(num): str(src) for num, src in found_rows}
        ours = [n for n in notes if existing.get(n.pr_number, "krel") == "krel"]
        ids = writes.upsert_items(
            conn,
            repo_id,
            [note_item_row(n, now) for n in ours],
            {n.pr_number: note_labels(n) for n in ours},
        )
        theirs = [n for n in notes if n.pr_number not in ids]
        if theirs:
            found = conn.execute(
                select(items.c.number, items.c.id).where(
                    items.c.repository_id == repo_id,
                    items.c.number.in_([n.pr_number for n in theirs]),
                )
            )
            ids.update({int(a): int(b) for a, b in found})
        writes.upsert_release_notes(conn, [_note_row(n, ids[n.pr_number]) for n in notes])
    created = sum(1 for n in ours if n.pr_number not in existing)
    return created, len(ours) - created, len(notes) - len(ours)


def _note_row(note: KrelNote, item_id: int) -> dict[str, object]:
    return {
        "item_id": item_id,
        "source": "krel",
        "status": "note",
        "text": note.text,
        "action_required": note.action_required,
        "release": note.release,
        "documentation": json.dumps(list(note.documentation)) if note.documentation else None,
        "author": note.author,
    }
