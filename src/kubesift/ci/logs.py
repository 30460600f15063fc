"""Failed runs' build logs, kept whole (up to ``--log-keep-mb``, 20 MiB like ci-search) and
indexed by trigrams, so "when did this start?" is answered over months, not days.

A log is kept as chunks of about :data:`CHUNK` bytes cut at line ends. The index is the
database's own: SQLite's FTS5 ``trigram`` tokenizer over a contentless table
``ci_log_grams`` (rowid = chunk id; the chunk itself is stored zlib-compressed), PostgreSQL's
``pg_trgm`` GIN index on the chunk's text (TOAST compresses it). Both come with migration
0009; neither is in ``schema.py``.

A search takes the longest literal every match of the RE2 pattern must contain
(:func:`kubesift.userregex.required_literal`), asks the index for the chunks that hold it
(a superset: the index ignores case), and confirms each candidate with RE2, so the answer
is exactly RE2's, per chunk. A pattern with no literal of 3 characters scans every kept
chunk in the window. A match cannot span two chunks (they are cut at line ends, so only a
multi-line match can be split).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import Connection

from kubesift.store.schema import ci_log_chunks, ci_runs
from kubesift.userregex import UserRegex

#: Bytes per chunk: what one index hit makes the search decompress and scan.
CHUNK = 64 * 1024
DEFAULT_KEEP = 20 * 1024 * 1024
#: Candidate chunks read per query (bounds the memory of a search of a common word).
FETCH = 500


def split(data: bytes, size: int = CHUNK) -> list[bytes]:
    """``data`` in pieces of at most about ``size`` bytes, each ending at a line end (a line
    longer than ``size`` is cut)."""
    out = []
    start = 0
    while start < len(data):
        end = min(start + size, len(data))
        if end < len(data):
            cut = data.rfind(b"\n", start, end)
            end = cut + 1 if cut >= start else end
        out.append(data[start:end])
        start = end
    return out


def save(conn: Connection, run_id: int, chunks: list[bytes]) -> None:
    """A run's log chunks, and their index rows (SQLite; PostgreSQL indexes the column)."""
    if not chunks:
        return
    texts = [c.decode("utf-8", "replace").replace("\x00", "") for c in chunks]
    sqlite = conn.dialect.name == "sqlite"
    rows = [
        {"run_id": run_id, "seq": n, "size": len(c),
         "body": zlib.compress(c, 6) if sqlite else None, "text": None if sqlite else t}
        for n, (c, t) in enumerate(zip(chunks, texts, strict=True))
    ]  # fmt: skip
    ids = conn.execute(ci_log_chunks.insert().returning(ci_log_chunks.c.id), rows).scalars().all()
    if sqlite:
        conn.execute(
            text("INSERT INTO ci_log_grams(rowid, body) VALUES (:id, :body)"),
            [{"id": i, "body": t} for i, t in zip(ids, texts, strict=True)],
        )


def hits(conn: Connection, regex: UserRegex, in_window: Any) -> Iterator[tuple[int, int, str]]:
    """(run id, job id, started at) of each run in the window with a kept log chunk the
    pattern matches, each run once."""
    seen: set[int] = set()
    for run, job, started, body in _candidates(conn, regex, in_window):
        if run in seen:
            continue
        if regex.search(body):
            seen.add(run)
            yield run, job, started


def _candidates(
    conn: Connection, regex: UserRegex, in_window: Any
) -> Iterator[tuple[int, int, str, str]]:
    """(run, job, started at, chunk text) of each chunk the index says may match, in the
    window. The index is asked alone first (a planner given the join and an order would
    rather walk every chunk in order than use it), then the chunks are read in pages.
    Memory: the candidate ids, and one page of chunks."""
    chunk = ci_log_chunks.c
    literal = regex.literal()
    if literal and conn.dialect.name == "sqlite":
        found = conn.execute(
            text("SELECT rowid FROM ci_log_grams WHERE ci_log_grams MATCH :phrase"),
            {"phrase": _phrase(literal)},
        ).all()
    elif literal:
        like = "%" + literal.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        test = chunk.text.ilike if regex.ignore_case else chunk.text.like
        # The planner prices a row as cheap to filter, not as 64 KiB to detoast: told to,
        # it scans every chunk rather than use the trigram index. Not for this query.
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        found = conn.execute(select(chunk.id).where(test(like, escape="\\"))).all()
        conn.execute(text("SET LOCAL enable_seqscan = on"))
    else:
        found = conn.execute(
            select(chunk.id).join(ci_runs, ci_runs.c.id == chunk.run_id).where(in_window)
        ).all()
    ids = sorted(int(i) for (i,) in found)
    read = (
        select(chunk.run_id, ci_runs.c.job_id, ci_runs.c.started_at, chunk.body, chunk.text)
        .join(ci_runs, ci_runs.c.id == chunk.run_id)
        .where(in_window)
    )
    for k in range(0, len(ids), FETCH):  # pages: a common word never holds every chunk
        page = conn.execute(read.where(chunk.id.in_(ids[k : k + FETCH]))).all()
        for run, job, started, body, plain in page:
            yield int(run), int(job), str(started), _text(body, plain)


def _text(body: bytes | None, plain: str | None) -> str:
    if plain is not None:
        return plain
    return zlib.decompress(body or b"").decode("utf-8", "replace")


def _phrase(literal: str) -> str:
    """An FTS5 phrase holding ``literal`` exactly (quotes doubled)."""
    return '"' + literal.replace('"', '""') + '"'


def runs_with_chunks() -> Any:
    """A subquery of the runs whose logs are kept as chunks."""
    return select(ci_log_chunks.c.run_id).where(ci_log_chunks.c.seq == 0)
