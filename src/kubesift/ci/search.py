"""``kubesift ci search REGEX``: "has this failure been seen, where, since when, and is
there an issue for it?" over failure texts and the kept tails of build logs.

Failure texts are stored once per distinct text, so the regex runs over each distinct
text once (joined into one string and scanned in a single pass), and only then are the
runs that hold the matching texts looked up. Smart case, as ripgrep (and so search.ci):
a pattern with no capital letter ignores case.
"""

from __future__ import annotations

import re
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    case,
    func,
    select,
    text,
)
from sqlalchemy.engine import Connection

from kubesift.ci import logs, queries
from kubesift.errors import UserError
from kubesift.github.names import item_url
from kubesift.store import fulltext
from kubesift.store.schema import (
    ci_jobs,
    ci_logs,
    ci_results,
    ci_runs,
    ci_texts,
    items,
    repositories,
)
from kubesift.userregex import UserRegex, compile_user

KINDS = ("failures", "logs")
#: The most histogram buckets a search draws (a year by day; a month by hour is 744).
MAX_BUCKETS = 2_000


@dataclass
class JobHits:
    job: str
    runs: int
    failed_runs: int
    matching_runs: int
    #: matching runs that failed: the share of failures is these over ``failed_runs``
    #: (a flake can match in a run that passed, so ``matching_runs`` may exceed it)
    matching_failed_runs: int
    pct_of_runs: float
    pct_of_failures: float
    first_seen: str | None
    last_seen: str | None


@dataclass
class SearchResult:
    pattern: str
    window: queries.Window
    bucket: str
    runs: int = 0
    matching_runs: int = 0
    jobs: list[JobHits] = field(default_factory=list)
    tests: list[tuple[str, int]] = field(default_factory=list)
    histogram: list[tuple[str, int]] = field(default_factory=list)
    examples: list[dict[str, Any]] = field(default_factory=list)
    issues: list[dict[str, Any]] = field(default_factory=list)

    @property
    def pct_of_runs(self) -> float:
        return round(100 * self.matching_runs / self.runs, 2) if self.runs else 0.0

    def headline(self) -> str:
        """What the search found and over what: the line the CLI and the page both show."""
        return (
            f"{self.matching_runs:,} of {self.runs:,} runs ({self.pct_of_runs:.2f} %) matched "
            f"in {self.window.describe()}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "pattern": self.pattern,
            "headline": self.headline(),
            "window": {"start": self.window.start, "end": self.window.end},
            "runs": self.runs,
            "matching_runs": self.matching_runs,
            "pct_of_runs": self.pct_of_runs,
            "jobs": [vars(j) for j in self.jobs],
            "tests": [{"name": n, "runs": c} for n, c in self.tests],
            "histogram": {
                "bucket": self.bucket,
                "counts": [{"at": t, "runs": c} for t, c in self.histogram],
            },
            "examples": self.examples,
            "issues": self.issues,
        }


def compile_pattern(pattern: str, what: str = "the search pattern") -> UserRegex:
    """A search pattern (RE2, smart case, multi-line): see :mod:`kubesift.userregex`."""
    return compile_user(pattern, what)


def search(
    conn: Connection,
    pattern: str,
    days: float = queries.FAILURE_DAYS,
    end: str | None = None,
    job: str | None = None,
    kinds: tuple[str, ...] = KINDS,
    bucket: str | None = None,
) -> SearchResult:
    """Runs whose failures (or kept log tails) match ``pattern`` in the window."""
    regex = compile_pattern(pattern)
    job_re = compile_pattern(job, "--job") if job else None
    w = queries.window(days, end)
    bucket = bucket or ("hour" if days <= 3 else "day")
    check_buckets(days, bucket)
    out = SearchResult(pattern=pattern, window=w, bucket=bucket)
    jobs = {
        int(i): str(n)
        for i, n in conn.execute(select(ci_jobs.c.id, ci_jobs.c.name))
        if job_re is None or job_re.search(str(n))
    }
    in_window = and_(
        ci_runs.c.started_at >= w.start,
        ci_runs.c.started_at < w.end,
        ci_runs.c.job_id.in_(sorted(jobs)),
    )
    meta = MetaData()
    hits = _temp(meta, "kubesift_hits", Column("run_id", Integer), Column("test_id", Integer),
                 Column("job_id", Integer), Column("started_at", String(32)))  # fmt: skip
    meta.create_all(conn)
    try:
        if "failures" in kinds:
            chosen = sorted(jobs) if job_re is not None else None
            _failure_hits(conn, meta, hits, regex, w, chosen, in_window)
        if "logs" in kinds:
            _log_hits(conn, hits, regex, in_window)
        _summarise(conn, out, w, jobs, hits, in_window)
    finally:
        meta.drop_all(conn)
    out.issues = issues_matching(conn, regex, pattern)
    return out


def check_buckets(days: float, bucket: str) -> None:
    """Refuse a histogram of more than :data:`MAX_BUCKETS` buckets (``--days 365000 --by
    hour`` would be 8.8 million of them)."""
    buckets = days * (24 if bucket == "hour" else 1)
    if buckets > MAX_BUCKETS:
        raise UserError(
            f"{days:g} days by {bucket} is {buckets:,.0f} buckets; at most {MAX_BUCKETS:,}: "
            "give fewer --days or --by day"
        )


def _temp(meta: MetaData, name: str, *columns: Column[Any]) -> Table:
    return Table(name, meta, *columns, prefixes=["TEMPORARY"])


def _failure_hits(
    conn: Connection,
    meta: MetaData,
    hits: Table,
    regex: UserRegex,
    w: queries.Window,
    job_ids: list[int] | None,
    in_window: Any,
) -> None:
    """(run, test, job, time) of every failure in the window whose text matches, into
    ``hits``. On SQLite the regex runs inside the query, texts first (a ``LIKE`` on the
    pattern's literal, then a ``regexp`` function, then their results in the window);
    elsewhere matching text ids are found first and joined."""
    if conn.dialect.name == "sqlite":
        _failure_hits_sqlite(conn, regex, w, job_ids)
        return
    ids = _temp(meta, "kubesift_hit_texts", Column("id", Integer, primary_key=True))
    ids.create(conn)
    _insert_ids(conn, ids, _text_hits(conn, regex))
    stmt = (
        select(ci_results.c.run_id, ci_results.c.test_id, ci_runs.c.job_id, ci_runs.c.started_at)
        .join(ci_runs, ci_runs.c.id == ci_results.c.run_id)
        .join(ids, ids.c.id == ci_results.c.text_id)
        .where(in_window)
    )
    conn.execute(hits.insert().from_select(["run_id", "test_id", "job_id", "started_at"], stmt))


def _failure_hits_sqlite(
    conn: Connection, regex: UserRegex, w: queries.Window, job_ids: list[int] | None
) -> None:
    # CROSS JOIN fixes SQLite's join order: from the few matching texts to their results,
    # not from every result in the window to its text (10x slower on a week of failures).
    conn.connection.driver_connection.create_function(  # type: ignore[union-attr]
        "kubesift_regexp", 2, _regexp, deterministic=True
    )
    literal = regex.literal()
    params: dict[str, Any] = {"pattern": regex.pattern, "start": w.start, "end": w.end}
    where = ["kubesift_regexp(:pattern, t.text)"]
    if literal:
        where.insert(0, "t.text LIKE :like ESCAPE '\\'")
        params["like"] = _like_pattern(literal)
    if job_ids is not None:
        where.append(f"u.job_id IN ({','.join(str(int(j)) for j in job_ids) or 'NULL'})")
    sql = (
        "INSERT INTO kubesift_hits (run_id, test_id, job_id, started_at) "
        "SELECT r.run_id, r.test_id, u.job_id, u.started_at "
        "FROM ci_texts t CROSS JOIN ci_results r CROSS JOIN ci_runs u "
        "WHERE r.text_id = t.id AND u.id = r.run_id "
        "AND u.started_at >= :start AND u.started_at < :end AND " + " AND ".join(where)
    )
    conn.execute(text(sql), params)


def _regexp(pattern: str, value: str | None) -> bool:
    """SQLite's side of the search: the pattern as :func:`compile_pattern` reads it (the
    compiled pattern is cached)."""
    return compile_pattern(pattern).search(value)


def _like(conn: Connection, regex: UserRegex) -> list[Any]:
    """A ``LIKE`` every matching text passes (a superset: it ignores ASCII case), when the
    pattern has a literal every match contains; the database scans it in C."""
    literal = regex.literal()
    if not literal:
        return []
    pattern = _like_pattern(literal)
    col = ci_texts.c.text
    if conn.dialect.name == "sqlite":
        return [col.like(pattern, escape="\\")]
    return [col.ilike(pattern, escape="\\")]


def _like_pattern(literal: str) -> str:
    return "%" + re.sub(r"([\\%_])", r"\\\1", literal) + "%"


def _text_hits(conn: Connection, regex: UserRegex) -> list[int]:
    """Ids of the distinct failure texts the regex matches (narrowed by :func:`_like`)."""
    rows = conn.execute(select(ci_texts.c.id, ci_texts.c.text).where(*_like(conn, regex))).all()
    return [int(rows[i][0]) for i in regex.scan([r[1] for r in rows])]


def _insert_ids(conn: Connection, table: Table, ids: list[int]) -> None:
    for k in range(0, len(ids), 10_000):
        conn.execute(table.insert(), [{"id": i} for i in ids[k : k + 10_000]])


def _log_hits(conn: Connection, hits: Table, regex: UserRegex, in_window: Any) -> None:
    """Runs whose kept log matches: through the trigram index where the whole log is kept
    (:mod:`kubesift.ci.logs`), else (runs imported before) over the kept tail."""
    found = [
        {"run_id": r, "test_id": None, "job_id": j, "started_at": t}
        for r, j, t in logs.hits(conn, regex, in_window)
    ]
    rows = conn.execute(
        select(ci_logs.c.tail, ci_runs.c.id, ci_runs.c.job_id, ci_runs.c.started_at)
        .join(ci_runs, ci_runs.c.id == ci_logs.c.run_id)
        .where(in_window, ci_runs.c.id.not_in(logs.runs_with_chunks()))
    )
    found += [
        {"run_id": r, "test_id": None, "job_id": j, "started_at": t}
        for tail, r, j, t in rows
        if regex.search(_unzip(tail))
    ]
    for k in range(0, len(found), 10_000):
        conn.execute(hits.insert(), found[k : k + 10_000])


def _unzip(tail: bytes) -> str:
    return zlib.decompress(tail).decode("utf-8", "replace")


def _summarise(
    conn: Connection,
    out: SearchResult,
    w: queries.Window,
    jobs: dict[int, str],
    hits: Table,
    in_window: Any,
) -> None:
    """Per job, per test, per hour or day, and the newest examples, aggregated in SQL."""
    failed = func.sum(case((ci_runs.c.state != "success", 1), else_=0))
    totals = conn.execute(
        select(ci_runs.c.job_id, func.count(), failed).where(in_window).group_by(ci_runs.c.job_id)
    ).all()
    runs = func.count(hits.c.run_id.distinct())
    failed_hit = func.count(
        case((ci_runs.c.state != "success", hits.c.run_id), else_=None).distinct()
    )
    matched = {
        int(j): (int(n), int(nf or 0), lo, hi)
        for j, n, nf, lo, hi in conn.execute(
            select(
                hits.c.job_id, runs, failed_hit,
                func.min(hits.c.started_at), func.max(hits.c.started_at),
            )
            .join(ci_runs, ci_runs.c.id == hits.c.run_id)
            .group_by(hits.c.job_id)
        )
    }  # fmt: skip
    for jid, count, fails in totals:
        out.runs += int(count)
        if int(jid) in matched:
            n, nf, lo, hi = matched[int(jid)]
            out.jobs.append(_job_hits(jobs[int(jid)], int(count), int(fails or 0), n, nf, lo, hi))
    out.matching_runs = int(conn.execute(select(runs)).scalar_one())
    out.jobs.sort(key=lambda j: -j.matching_runs)
    out.tests = _tests_hit(conn, hits)
    at = func.substr(hits.c.started_at, 1, 13 if out.bucket == "hour" else 10)
    counts = {str(k): int(n) for k, n in conn.execute(select(at, runs).group_by(at))}
    out.histogram = _histogram(counts, w, out.bucket)
    out.examples = _examples(conn, hits)


def _tests_hit(conn: Connection, hits: Table) -> list[tuple[str, int]]:
    runs = func.count(hits.c.run_id.distinct())
    top = conn.execute(
        select(hits.c.test_id, runs)
        .where(hits.c.test_id.is_not(None))
        .group_by(hits.c.test_id)
        .order_by(runs.desc(), hits.c.test_id)
        .limit(20)
    ).all()
    names = queries.tests_by_id(conn, [int(t) for t, _ in top])
    return [(names[int(t)][1], int(n)) for t, n in top]


def _examples(conn: Connection, hits: Table) -> list[dict[str, Any]]:
    newest = [
        int(r)
        for r in conn.execute(
            select(hits.c.run_id)
            .group_by(hits.c.run_id)
            .order_by(func.max(hits.c.started_at).desc(), hits.c.run_id.desc())
            .limit(10)
        ).scalars()
    ]
    tests: dict[int, list[str]] = defaultdict(list)
    pairs = conn.execute(
        select(hits.c.run_id, hits.c.test_id).where(hits.c.run_id.in_(newest))
    ).all()
    names = queries.tests_by_id(conn, {int(t) for _, t in pairs if t is not None})
    for run_id, test_id in pairs:
        tests[int(run_id)].append(
            names[int(test_id)][1] if test_id is not None else "build-log.txt"
        )
    rows = {int(r["id"]): r for r in queries.run_rows(conn, ci_runs.c.id.in_(newest))}
    return [
        {
            "job": rows[i]["job"],
            "build": rows[i]["build"],
            "path": rows[i]["path"],
            "url": rows[i]["url"],
            "started_at": rows[i]["started_at"],
            "tests": sorted(set(tests[i]))[:5],
        }
        for i in newest
    ]


def _job_hits(
    name: str, count: int, failed: int, n: int, n_failed: int, lo: str, hi: str
) -> JobHits:
    """A job's share of runs that match, and of its failed runs that match (both ≤ 100)."""
    return JobHits(
        job=name,
        runs=count,
        failed_runs=failed,
        matching_runs=n,
        matching_failed_runs=n_failed,
        pct_of_runs=round(100 * n / count, 2),
        pct_of_failures=round(100 * n_failed / failed, 2) if failed else 0.0,
        first_seen=lo,
        last_seen=hi,
    )


def _histogram(counts: dict[str, int], w: queries.Window, bucket: str) -> list[tuple[str, int]]:
    """Matching runs per hour or day across the whole window, empty buckets included."""
    start = datetime.fromisoformat(w.start.replace("Z", "+00:00"))
    stop = datetime.fromisoformat(w.end.replace("Z", "+00:00"))
    step = 3600 if bucket == "hour" else 86_400
    out = []
    t = start.timestamp()
    while t < stop.timestamp():
        key = datetime.fromtimestamp(t, UTC).strftime(
            "%Y-%m-%dT%H" if bucket == "hour" else "%Y-%m-%d"
        )
        out.append((key, counts.get(key, 0)))
        t += step
    return out


def issues_matching(
    conn: Connection, regex: UserRegex, pattern: str, limit: int = 20
) -> list[dict[str, Any]]:
    """Issues and PRs whose title or body the regex matches: full-text candidates from the
    pattern's literal words, confirmed by the regex itself."""
    literal = re.sub(r"\\[a-zA-Z]|\[[^\]]*\]|[.*+?{}()|^$]", " ", pattern)
    words = [w for w in fulltext.words(literal) if len(w) >= 3]
    if not words:
        return []
    ids = [i for i, _ in fulltext.search(conn, words, every=True, limit=500)]
    if not ids:
        return []
    rows = conn.execute(
        select(
            items.c.number,
            items.c.kind,
            items.c.title,
            items.c.body,
            items.c.state,
            repositories.c.full_name,
            repositories.c.api_url,
        )
        .join(repositories, repositories.c.id == items.c.repository_id)
        .where(items.c.id.in_(ids))
    )
    out = []
    for r in rows:
        if regex.search(f"{r.title or ''}\n{r.body or ''}"):
            out.append(
                {
                    "repo": r.full_name,
                    "number": r.number,
                    "kind": r.kind,
                    "title": r.title,
                    "state": r.state,
                    "url": item_url(r.full_name, r.kind, r.number, r.api_url),
                }
            )
    out.sort(key=lambda d: (d["state"] != "open", -int(d["number"])))
    return out[:limit]
