"""``kubesift ci search REGEX``: "has this failure been seen, where, since when, and is
there an issue for it?" over failure texts and the kept tails of build logs.

Failure texts are stored once per distinct text, so the regex runs over each distinct
text once (joined into one string and scanned in a single pass), and only then are the
runs that hold the matching texts looked up. Smart case, as ripgrep (and so search.ci):
a pattern with no capital letter ignores case.
"""

from __future__ import annotations

import bisect
import re
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.engine import Connection

from kubesift.ci import queries
from kubesift.errors import UserError
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

KINDS = ("failures", "logs")


@dataclass
class JobHits:
    job: str
    runs: int
    failed_runs: int
    matching_runs: int
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

    def as_dict(self) -> dict[str, Any]:
        return {
            "pattern": self.pattern,
            "window": {"start": self.window.start, "end": self.window.end},
            "runs": self.runs,
            "matching_runs": self.matching_runs,
            "pct_of_runs": round(100 * self.matching_runs / self.runs, 2) if self.runs else 0.0,
            "jobs": [vars(j) for j in self.jobs],
            "tests": [{"name": n, "runs": c} for n, c in self.tests],
            "histogram": {
                "bucket": self.bucket,
                "counts": [{"at": t, "runs": c} for t, c in self.histogram],
            },
            "examples": self.examples,
            "issues": self.issues,
        }


def compile_pattern(pattern: str) -> re.Pattern[str]:
    flags = re.MULTILINE | (0 if any(c.isupper() for c in pattern) else re.IGNORECASE)
    try:
        return re.compile(pattern, flags)
    except re.error as exc:
        raise UserError(f"not a valid regular expression {pattern!r}: {exc}") from exc


def search(
    conn: Connection,
    pattern: str,
    days: float = 2,
    end: str | None = None,
    job: str | None = None,
    kinds: tuple[str, ...] = KINDS,
    bucket: str | None = None,
) -> SearchResult:
    """Runs whose failures (or kept log tails) match ``pattern`` in the window."""
    regex = compile_pattern(pattern)
    job_re = compile_pattern(job) if job else None
    w = queries.window(days, end)
    bucket = bucket or ("hour" if days <= 3 else "day")
    out = SearchResult(pattern=pattern, window=w, bucket=bucket)
    hits: dict[int, set[str]] = defaultdict(set)  # run id → tests (or "build-log")
    if "failures" in kinds:
        for run_id, test in _failure_hits(conn, regex, w):
            hits[run_id].add(test)
    if "logs" in kinds:
        for run_id in _log_hits(conn, regex, w):
            hits[run_id].add("build-log.txt")
    _summarise(conn, out, w, hits, job_re)
    out.issues = issues_matching(conn, regex, pattern)
    return out


def _failure_hits(
    conn: Connection, regex: re.Pattern[str], w: queries.Window
) -> list[tuple[int, str]]:
    ids, bodies = [], []
    for tid, body in conn.execute(select(ci_texts.c.id, ci_texts.c.text)):
        ids.append(tid)
        bodies.append(body)
    matched = _scan(regex, bodies)
    text_ids = [ids[i] for i in matched]
    found: list[tuple[int, str]] = []
    for k in range(0, len(text_ids), queries.CHUNK):
        rows = conn.execute(
            select(ci_results.c.run_id, ci_results.c.test_id)
            .join(ci_runs, ci_runs.c.id == ci_results.c.run_id)
            .where(
                and_(
                    ci_results.c.text_id.in_(text_ids[k : k + queries.CHUNK]),
                    ci_runs.c.started_at >= w.start,
                    ci_runs.c.started_at < w.end,
                )
            )
        )
        found += [(int(r), str(t)) for r, t in rows]
    names = queries.tests_by_id(conn, {int(t) for _, t in found})
    return [(r, names[int(t)][1]) for r, t in found]


def _scan(regex: re.Pattern[str], bodies: list[str]) -> list[int]:
    """Indexes of the bodies the regex matches, in one pass over their concatenation.

    A match may not cross from one body into the next: each hit is kept only if it lies
    inside one body (NUL separates them; a pattern matching NUL is refused)."""
    if "\x00" in regex.pattern:
        raise UserError("a search pattern cannot contain NUL")
    starts, pos = [], 0
    for b in bodies:
        starts.append(pos)
        pos += len(b) + 1
    blob = "\x00".join(bodies)
    found: list[int] = []
    i = 0
    while True:
        m = regex.search(blob, i)
        if m is None:
            return found
        k = bisect.bisect_right(starts, m.start()) - 1
        end_of_body = starts[k] + len(bodies[k])
        if m.end() <= end_of_body and (not found or found[-1] != k):
            found.append(k)
        # continue from the next body: one hit per body is enough
        i = end_of_body + 1 if m.end() <= end_of_body else m.start() + 1
        if i >= len(blob):
            return found


def _log_hits(conn: Connection, regex: re.Pattern[str], w: queries.Window) -> list[int]:
    rows = conn.execute(
        select(ci_logs.c.run_id, ci_logs.c.tail)
        .join(ci_runs, ci_runs.c.id == ci_logs.c.run_id)
        .where(and_(ci_runs.c.started_at >= w.start, ci_runs.c.started_at < w.end))
    )
    return [
        int(r) for r, tail in rows if regex.search(zlib.decompress(tail).decode("utf-8", "replace"))
    ]


def _job_totals(conn: Connection, w: queries.Window) -> list[tuple[str, int, int]]:
    """Per job: runs and failed runs in the window."""
    failed = func.sum(case((ci_runs.c.state != "success", 1), else_=0))
    rows = conn.execute(
        select(ci_jobs.c.name, func.count(), failed)
        .join(ci_jobs, ci_jobs.c.id == ci_runs.c.job_id)
        .where(and_(ci_runs.c.started_at >= w.start, ci_runs.c.started_at < w.end))
        .group_by(ci_jobs.c.name)
    )
    return [(str(n), int(c), int(f or 0)) for n, c, f in rows]


def _matched_runs(
    conn: Connection, ids: list[int], job_re: re.Pattern[str] | None
) -> dict[int, dict[str, Any]]:
    runs: dict[int, dict[str, Any]] = {}
    for k in range(0, len(ids), queries.CHUNK):
        for r in queries.run_rows(conn, ci_runs.c.id.in_(ids[k : k + queries.CHUNK])):
            if job_re is None or job_re.search(str(r["job"])):
                runs[int(r["id"])] = r
    return runs


def _summarise(
    conn: Connection,
    out: SearchResult,
    w: queries.Window,
    hits: dict[int, set[str]],
    job_re: re.Pattern[str] | None,
) -> None:
    runs = _matched_runs(conn, sorted(hits), job_re)
    per_job: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in runs.values():
        per_job[str(r["job"])].append(r)
    for name, count, failed in _job_totals(conn, w):
        if job_re is not None and not job_re.search(name):
            continue
        out.runs += count
        matched = per_job.get(name, [])
        if matched:
            out.jobs.append(_job_hits(name, count, failed, matched))
    out.matching_runs = len(runs)
    out.jobs.sort(key=lambda j: -j.matching_runs)
    out.tests = Counter(t for rid in runs for t in hits[rid]).most_common(20)
    times = [str(r["started_at"]) for r in runs.values() if r["started_at"]]
    out.histogram = _histogram(times, w, out.bucket)
    newest = sorted(runs.values(), key=lambda r: str(r["started_at"]), reverse=True)[:10]
    out.examples = [
        {
            "job": r["job"],
            "build": r["build"],
            "path": r["path"],
            "url": r["url"],
            "started_at": r["started_at"],
            "tests": sorted(hits[int(r["id"])])[:5],
        }
        for r in newest
    ]


def _job_hits(name: str, count: int, failed: int, matched: list[dict[str, Any]]) -> JobHits:
    times = sorted(str(r["started_at"]) for r in matched if r["started_at"])
    return JobHits(
        job=name,
        runs=count,
        failed_runs=failed,
        matching_runs=len(matched),
        pct_of_runs=round(100 * len(matched) / count, 2),
        pct_of_failures=round(100 * len(matched) / failed, 2) if failed else 0.0,
        first_seen=times[0] if times else None,
        last_seen=times[-1] if times else None,
    )


def _histogram(times: list[str], w: queries.Window, bucket: str) -> list[tuple[str, int]]:
    """Matching runs per hour or day across the whole window, empty buckets included."""
    width = 13 if bucket == "hour" else 10
    counts = Counter(t[:width] for t in times)
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
    conn: Connection, regex: re.Pattern[str], pattern: str, limit: int = 20
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
                    "url": _url(r.full_name, r.kind, r.number),
                }
            )
    out.sort(key=lambda d: (d["state"] != "open", -int(d["number"])))
    return out[:limit]


def _url(repo: str, kind: str, number: int) -> str:
    return f"https://github.com/{repo}/{'pull' if kind == 'pr' else 'issues'}/{number}"
