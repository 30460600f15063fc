"""Which open issue already tracks a failure: full-text candidates, then a score a human
can read. Sippy links an issue when it names the test; search.ci when it contains a
regex someone wrote. Here both signals count: the issue naming the failing tests (up to
+2, the strongest, weighted by those tests' share of the failures), and how many of the
failure text's words the issue contains (0–1)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from kubesift.ci.text import normalize, normalize_name
from kubesift.github.names import item_url
from kubesift.store import fulltext
from kubesift.store.schema import items, repositories

#: Below this score no issue is said to track the failure.
MIN_SCORE = 0.5
_NOISE = {"uniq", "time", "the", "and", "for", "with", "to", "of", "in", "on", "at", "got"}


@dataclass(frozen=True)
class IssueMatch:
    repo: str
    number: int
    title: str
    state: str
    url: str
    score: float
    why: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _terms(tests: Sequence[str], text: str) -> tuple[list[str], set[str]]:
    norm = normalize(text)
    text_words = {w for w in fulltext.words(norm) if not w.startswith("uniq") and w not in _NOISE}
    name_words = [w for t in tests[:5] for w in fulltext.words(normalize_name(t))]
    terms = list(dict.fromkeys([*name_words, *sorted(text_words, key=len, reverse=True)]))
    return terms[:40], text_words


def match(
    conn: Connection,
    tests: Sequence[str],
    text: str,
    limit: int = 3,
    open_only: bool = True,
    weights: Sequence[float] | None = None,
) -> list[IssueMatch]:
    """The issues most likely to track a failure of ``tests`` with ``text``, best first.

    ``weights`` (e.g. each test's failures in a cluster) make an issue that names the
    test most of the failures come from rank above one naming a rarer test."""
    weights = list(weights) if weights is not None else [1.0] * len(tests)
    total = sum(weights) or 1.0
    terms, text_words = _terms(tests, text)
    candidates = dict(fulltext.search(conn, terms, limit=60))
    if not candidates:
        return []
    stmt = (
        select(
            items.c.id,
            items.c.number,
            items.c.title,
            items.c.body,
            items.c.state,
            repositories.c.full_name,
            repositories.c.api_url,
        )
        .join(repositories, repositories.c.id == items.c.repository_id)
        .where(items.c.id.in_(list(candidates)), items.c.kind == "issue")
    )
    if open_only:
        stmt = stmt.where(items.c.state == "open")
    found = []
    rank: dict[tuple[str, int], float] = {}
    for row in conn.execute(stmt):
        rank[(row.full_name, int(row.number))] = candidates[int(row.id)]
        doc = f"{row.title or ''}\n{row.body or ''}"
        hit = [i for i, t in enumerate(tests) if t in doc or normalize_name(t) in doc]
        named = [tests[i] for i in hit]
        share = sum(weights[i] for i in hit) / total
        doc_words = set(fulltext.words(doc))
        cover = len(text_words & doc_words) / len(text_words) if text_words else 0.0
        score = 2.0 * share + cover
        if score < MIN_SCORE:
            continue
        why = (f"names {named[0]!r}; " if named else "") + f"{cover:.0%} of the failure's words"
        found.append(
            IssueMatch(
                repo=row.full_name,
                number=int(row.number),
                title=row.title or "",
                state=row.state,
                url=item_url(row.full_name, "issue", int(row.number), row.api_url),
                score=round(score, 3),
                why=why,
            )
        )
    found.sort(key=lambda m: (-m.score, -rank[(m.repo, m.number)], m.number))
    return found[:limit]
