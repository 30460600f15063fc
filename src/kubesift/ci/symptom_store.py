"""Symptoms in the store: their definitions, which failed runs carry each, and re-applying
them to history (delete then insert per batch of runs, as Sippy re-evaluates: running it
twice gives the same rows)."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection, Engine

from kubesift.ci import symptoms as sym
from kubesift.errors import NotFound, UserError
from kubesift.store.schema import (
    ci_logs,
    ci_results,
    ci_run_files,
    ci_run_symptoms,
    ci_runs,
    ci_symptoms,
    ci_texts,
)
from kubesift.timeutil import utcnow_iso

FAILED_STATES = ("failure", "error")
#: Failed runs re-examined per transaction when symptoms are re-applied.
BATCH = 200


def load(conn: Connection) -> list[sym.Symptom]:
    rows = conn.execute(select(ci_symptoms).order_by(ci_symptoms.c.id))
    return [sym.Symptom(r.id, r.summary, r.matcher, r.pattern, r.target) for r in rows]


def listed(conn: Connection) -> list[dict[str, Any]]:
    """Every symptom with where it was defined and how many failed runs carry it."""
    counts: dict[str, int] = dict(
        conn.execute(
            select(ci_run_symptoms.c.symptom_id, func.count()).group_by(
                ci_run_symptoms.c.symptom_id
            )
        ).all()
    )
    return [
        {**s.as_dict(), "origin": origin, "updated_at": at, "runs": int(counts.get(s.id, 0))}
        for s, origin, at in (
            (sym.Symptom(r.id, r.summary, r.matcher, r.pattern, r.target), r.origin, r.updated_at)
            for r in conn.execute(select(ci_symptoms).order_by(ci_symptoms.c.id))
        )
    ]


@dataclass
class Applied:
    """What defining or re-applying symptoms did."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    runs_examined: int = 0
    matched: dict[str, int] = field(default_factory=dict)  # symptom → failed runs it labels

    def as_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "changed": self.changed,
            "removed": self.removed,
            "runs_examined": self.runs_examined,
            "matched": self.matched,
        }


def define(
    engine: Engine,
    given: Sequence[sym.Symptom],
    origin: str,
    replace_all: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Applied:
    """Store ``given`` symptoms from ``origin`` (``file`` or ``dashboard``) and re-apply the
    new and changed ones to every stored failed run. With ``replace_all`` (a file loaded),
    the origin's symptoms missing from ``given`` are removed with their labels. A symptom of
    the other origin with the same id is refused: one place defines each."""
    out = Applied()
    now = utcnow_iso()
    with engine.begin() as conn:
        stored = {r.id: r for r in conn.execute(select(ci_symptoms))}
        for s in given:
            old = stored.get(s.id)
            if old is not None and old.origin != origin:
                raise UserError(
                    f"symptom {s.id!r} is defined from the {old.origin}; change it there"
                )
            row = {
                "summary": s.summary, "matcher": s.matcher, "pattern": s.pattern,
                "target": s.where, "origin": origin, "digest": s.digest(), "updated_at": now,
            }  # fmt: skip
            if old is None:
                conn.execute(insert(ci_symptoms).values(id=s.id, **row))
                out.added.append(s.id)
            elif old.digest != s.digest() or old.summary != s.summary:
                conn.execute(update(ci_symptoms).where(ci_symptoms.c.id == s.id).values(**row))
                if old.digest != s.digest():
                    out.changed.append(s.id)
        if replace_all:
            names = {s.id for s in given}
            gone = [i for i, r in stored.items() if r.origin == origin and i not in names]
            if gone:
                conn.execute(delete(ci_run_symptoms).where(ci_run_symptoms.c.symptom_id.in_(gone)))
                conn.execute(delete(ci_symptoms).where(ci_symptoms.c.id.in_(gone)))
            out.removed = sorted(gone)
    todo = [s for s in given if s.id in set(out.added) | set(out.changed)]
    if todo:
        reapply(engine, todo, out, progress)
    return out


def remove(engine: Engine, ident: str, origin: str | None = None) -> None:
    with engine.begin() as conn:
        found = conn.execute(select(ci_symptoms.c.origin).where(ci_symptoms.c.id == ident)).scalar()
        if found is None:
            raise NotFound(f"no symptom {ident!r}")
        if origin is not None and found != origin:
            raise UserError(f"symptom {ident!r} is defined from the {found}; remove it there")
        conn.execute(delete(ci_run_symptoms).where(ci_run_symptoms.c.symptom_id == ident))
        conn.execute(delete(ci_symptoms).where(ci_symptoms.c.id == ident))


def reapply(
    engine: Engine,
    chosen: Sequence[sym.Symptom],
    out: Applied | None = None,
    progress: Callable[[int], None] | None = None,
) -> Applied:
    """Match ``chosen`` against every stored failed run (its kept log, failure texts and
    file list) and rewrite their labels, :data:`BATCH` runs per transaction."""
    out = out or Applied()
    matcher = sym.Matcher(chosen)
    ids = [s.id for s in chosen]
    out.matched.update({i: 0 for i in ids})
    last = 0
    while True:
        with engine.begin() as conn:
            runs = [
                int(r)
                for (r,) in conn.execute(
                    select(ci_runs.c.id)
                    .where(ci_runs.c.state.in_(FAILED_STATES), ci_runs.c.id > last)
                    .order_by(ci_runs.c.id)
                    .limit(BATCH)
                )
            ]
            if not runs:
                break
            evidence = run_evidence(conn, runs)
            conn.execute(
                delete(ci_run_symptoms).where(
                    ci_run_symptoms.c.run_id.in_(runs), ci_run_symptoms.c.symptom_id.in_(ids)
                )
            )
            rows = []
            for run in runs:
                log, failures, files = evidence.get(run, (None, [], []))
                for found in matcher.match(log, failures, files):
                    rows.append({"run_id": run, "symptom_id": found})
                    out.matched[found] += 1
            if rows:
                conn.execute(insert(ci_run_symptoms), rows)
        out.runs_examined += len(runs)
        last = runs[-1]
        if progress:
            progress(len(runs))
    return out


def run_evidence(
    conn: Connection, runs: Sequence[int]
) -> dict[int, tuple[str | None, list[str], list[str]]]:
    """Per run: its kept build log (text), its failure texts, its file paths."""
    out: dict[int, tuple[str | None, list[str], list[str]]] = {r: (None, [], []) for r in runs}
    for run, tail in conn.execute(
        select(ci_logs.c.run_id, ci_logs.c.tail).where(ci_logs.c.run_id.in_(runs))
    ):
        out[int(run)] = (zlib.decompress(tail).decode("utf-8", "replace"), [], [])
    for run, text in conn.execute(
        select(ci_results.c.run_id, ci_texts.c.text)
        .join(ci_texts, ci_texts.c.id == ci_results.c.text_id)
        .where(ci_results.c.run_id.in_(runs))
    ):
        out[int(run)][1].append(text)
    for run, paths in conn.execute(
        select(ci_run_files.c.run_id, ci_run_files.c.paths).where(ci_run_files.c.run_id.in_(runs))
    ):
        out[int(run)][2].extend(decode_paths(paths))
    return out


def encode_paths(paths: Iterable[str]) -> bytes:
    return zlib.compress("\n".join(paths).encode("utf-8", "surrogatepass"), 6)


def decode_paths(blob: bytes) -> list[str]:
    text = zlib.decompress(blob).decode("utf-8", "surrogatepass")
    return text.split("\n") if text else []


def of_runs(conn: Connection, runs: Iterable[int]) -> dict[int, list[dict[str, str]]]:
    """Per run id: the symptoms it carries (id and summary), by id."""
    ids = sorted({int(r) for r in runs})
    out: dict[int, list[dict[str, str]]] = {}
    for k in range(0, len(ids), 900):
        rows = conn.execute(
            select(ci_run_symptoms.c.run_id, ci_symptoms.c.id, ci_symptoms.c.summary)
            .join(ci_symptoms, ci_symptoms.c.id == ci_run_symptoms.c.symptom_id)
            .where(ci_run_symptoms.c.run_id.in_(ids[k : k + 900]))
            .order_by(ci_symptoms.c.id)
        )
        for run, ident, summary in rows:
            out.setdefault(int(run), []).append({"id": ident, "summary": summary})
    return out


def shares(conn: Connection, runs: Iterable[int]) -> list[dict[str, Any]]:
    """How many of ``runs`` (failing runs of a cluster, regression or triage) carry each
    symptom, most first: ``{id, summary, runs, share}`` (share of those runs, 0–1)."""
    ids = {int(r) for r in runs}
    if not ids:
        return []
    counted: dict[str, list[Any]] = {}
    for labels in of_runs(conn, ids).values():
        for s in labels:
            counted.setdefault(s["id"], [s["summary"], 0])[1] += 1
    rows = [{"id": i, "summary": v[0], "runs": v[1], "share": round(v[1] / len(ids), 4)}
            for i, v in counted.items()]  # fmt: skip
    return sorted(rows, key=lambda r: (-r["runs"], r["id"]))
