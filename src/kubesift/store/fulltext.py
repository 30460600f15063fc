"""Full-text search over items' titles and bodies (the index is made by migration 0005).

SQLite ranks with FTS5's bm25, PostgreSQL with ``ts_rank``; both return item ids and a
score where higher is more relevant. Words are searched as plain tokens (no operators
from user input reach the query language).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.engine import Connection

_WORD = re.compile(r"[^\W_]{2,}", re.UNICODE)
_PG_DOC = "to_tsvector('simple', coalesce(title, '') || ' ' || coalesce(body, ''))"


def words(text_: str) -> list[str]:
    """The searchable words of a text, lower-cased, in order, without repeats."""
    return list(dict.fromkeys(w.lower() for w in _WORD.findall(text_)))


def search(
    conn: Connection, terms: Sequence[str], *, every: bool = False, limit: int = 50
) -> list[tuple[int, float]]:
    """Items matching any (or, with ``every``, all) of ``terms``: (id, score), best first."""
    terms = [t for t in dict.fromkeys(t.lower() for t in terms) if _WORD.fullmatch(t)]
    if not terms:
        return []
    if conn.dialect.name == "sqlite":
        query = (" AND " if every else " OR ").join(f'"{t}"' for t in terms)
        rows = conn.execute(
            text(
                "SELECT rowid, -bm25(items_fts) FROM items_fts WHERE items_fts MATCH :q "
                "ORDER BY bm25(items_fts) LIMIT :n"
            ),
            {"q": query, "n": limit},
        )
    else:
        query = (" & " if every else " | ").join(terms)
        rows = conn.execute(
            text(
                f"SELECT id, ts_rank({_PG_DOC}, to_tsquery('simple', :q)) AS r FROM items "
                f"WHERE {_PG_DOC} @@ to_tsquery('simple', :q) ORDER BY r DESC LIMIT :n"
            ),
            {"q": query, "n": limit},
        )
    return [(int(i), float(s)) for i, s in rows]
