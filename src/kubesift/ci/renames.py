"""Test renames: a file maps old test names to new ones, so a renamed test keeps its
history (Sippy maps both names to one id in ci-test-mapping; TestGrid splits the row).

    [[rename]]
    from = "[sig-network] Services should serve endpoints"
    to = "[sig-network] Services should serve endpoints on every node"

``kubesift ci renames load FILE`` stores the map and merges what is stored under an old
name into the new one (results, per-day counts, run rosters, regression records), in one
transaction; imports from then on record the old name as the new. Chains resolve
(a → b, b → c makes a → c); a cycle is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection, Engine

from kubesift.ci import junit, rulefile, save, variants
from kubesift.errors import UserError
from kubesift.store.schema import (
    ci_daily,
    ci_regressions,
    ci_renames,
    ci_results,
    ci_rosters,
    ci_runs,
    ci_tests,
)
from kubesift.store.writes import dialect_insert
from kubesift.timeutil import utcnow_iso

MAX_RENAMES = 10_000


def parse_file(text: str, name: str = "renames file") -> dict[str, str]:
    """old name → final new name, chains resolved; UserError names what is wrong."""
    pairs: dict[str, str] = {}
    for n, t in enumerate(rulefile.tables(text, "rename", name), 1):
        if not isinstance(t, dict) or set(t) != {"from", "to"}:
            raise UserError(f"{name}: rename {n} needs exactly from and to")
        old, new = t["from"], t["to"]
        if not isinstance(old, str) or not isinstance(new, str) or not old or not new:
            raise UserError(f"{name}: rename {n}: from and to are test names")
        if old == new:
            raise UserError(f"{name}: rename {n} renames {old!r} to itself")
        if old in pairs and pairs[old] != new:
            raise UserError(f"{name}: {old!r} is renamed twice")
        pairs[old] = new
    if len(pairs) > MAX_RENAMES:
        raise UserError(f"{name}: at most {MAX_RENAMES:,} renames")
    return resolve_chains(pairs, name)


def resolve_chains(pairs: dict[str, str], name: str = "renames") -> dict[str, str]:
    out = {}
    for old in pairs:
        seen, at = {old}, pairs[old]
        while at in pairs:
            if at in seen:
                raise UserError(f"{name}: renames loop through {at!r}")
            seen.add(at)
            at = pairs[at]
        out[old] = at
    return out


def apply_to_outcomes(
    outcomes: list[junit.Outcome], renames: dict[str, str]
) -> list[junit.Outcome]:
    """A run's outcomes with old names as new ones; a run holding both merges them as
    one test's attempts (Sippy's rule: a pass and a fail make a flake)."""
    if not renames or not any(o.name in renames for o in outcomes):
        return outcomes
    tally = junit.Tally()
    for o in outcomes:
        if o.name in renames:
            o.name = renames[o.name]
        tally._add(o)
    return tally.outcomes()


def load(conn: Connection) -> dict[str, str]:
    return {old: new for old, new in conn.execute(select(ci_renames.c.old, ci_renames.c.new))}


@dataclass
class Merged:
    renames: int = 0
    tests_merged: int = 0
    results_moved: int = 0
    results_dropped: int = 0  # both names in one run: the new name's result kept
    regressions_moved: int = 0
    rosters_rewritten: int = 0
    merged: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def define(engine: Engine, renames: dict[str, str], rules: variants.Rules) -> Merged:
    """Store ``renames`` (added to those stored; chains resolved across both) and merge the
    history of every old name into its new one, in one transaction."""
    out = Merged()
    with engine.begin() as conn:
        every = resolve_chains({**load(conn), **renames})
        conn.execute(delete(ci_renames))
        now = utcnow_iso()
        if every:
            conn.execute(insert(ci_renames), [{"old": o, "new": n, "added_at": now}
                                              for o, n in every.items()])  # fmt: skip
        out.renames = len(every)
        olds = conn.execute(
            select(ci_tests).where(ci_tests.c.name.in_(list(every)))
        ).all() if every else []  # fmt: skip
        for row in olds:
            new_id = _target(conn, row, every[row.name], rules)
            _merge(conn, int(row.id), new_id, out)
            out.merged.append({"suite": row.suite, "from": row.name, "to": every[row.name]})
        if olds:
            save.rebuild_variant_counts(conn)
    return out


def _target(conn: Connection, old: Any, new_name: str, rules: variants.Rules) -> int:
    """The id of ``new_name`` in the old test's suite, created when it is new."""
    d = save.digest(old.suite, new_name)
    found = conn.execute(select(ci_tests.c.id).where(ci_tests.c.digest == d)).scalar()
    if found is not None:
        return int(found)
    return int(conn.execute(
        insert(ci_tests).returning(ci_tests.c.id),
        [{"suite": old.suite, "name": new_name, "digest": d,
          "component": rules.component(new_name), "lifecycle": old.lifecycle}],
    ).scalar_one())  # fmt: skip


def _merge(conn: Connection, old: int, new: int, out: Merged) -> None:
    out.tests_merged += 1
    both = select(ci_results.c.run_id).where(ci_results.c.test_id == new).scalar_subquery()
    dropped = conn.execute(
        delete(ci_results).where(ci_results.c.test_id == old, ci_results.c.run_id.in_(both))
    ).rowcount
    moved = conn.execute(
        update(ci_results).where(ci_results.c.test_id == old).values(test_id=new)
    ).rowcount
    out.results_dropped += int(dropped or 0)
    out.results_moved += int(moved or 0)
    rows = conn.execute(select(ci_daily).where(ci_daily.c.test_id == old)).all()
    if rows:
        ins = dialect_insert(conn, ci_daily)
        stmt = ins.on_conflict_do_update(  # type: ignore[attr-defined]
            index_elements=[ci_daily.c.day, ci_daily.c.job_id, ci_daily.c.test_id],
            set_={c: ci_daily.c[c] + ins.excluded[c] for c in save.COUNTS},  # type: ignore[attr-defined]
        )
        conn.execute(stmt, [{**dict(r._mapping), "test_id": new} for r in rows])
        conn.execute(delete(ci_daily).where(ci_daily.c.test_id == old))
    out.regressions_moved += int(conn.execute(
        update(ci_regressions).where(ci_regressions.c.test_id == old).values(test_id=new)
    ).rowcount or 0)  # fmt: skip
    out.rosters_rewritten += _rewrite_rosters(conn, old, new)
    conn.execute(delete(ci_tests).where(ci_tests.c.id == old))


def _rewrite_rosters(conn: Connection, old: int, new: int) -> int:
    """Every roster listing ``old`` lists ``new`` instead; one that then equals another
    roster is folded into it (its runs point there)."""
    count = 0
    for rid, tests in conn.execute(
        select(ci_rosters.c.id, ci_rosters.c.tests).where(ci_rosters.c.tests.like(f"%{old}%"))
    ).all():
        ids = [int(t) for t in tests.split(",") if t]
        if old not in ids:
            continue
        text = ",".join(str(t) for t in sorted({new if t == old else t for t in ids}))
        d = save.digest(text)
        same = conn.execute(select(ci_rosters.c.id).where(ci_rosters.c.digest == d)).scalar()
        if same is not None and same != rid:
            conn.execute(update(ci_runs).where(ci_runs.c.roster_id == rid).values(roster_id=same))
            conn.execute(delete(ci_rosters).where(ci_rosters.c.id == rid))
        else:
            conn.execute(
                update(ci_rosters).where(ci_rosters.c.id == rid).values(tests=text, digest=d)
            )
        count += 1
    return count


def listed(conn: Connection) -> list[dict[str, str]]:
    return [
        {"from": o, "to": n, "added_at": a}
        for o, n, a in conn.execute(
            select(ci_renames.c.old, ci_renames.c.new, ci_renames.c.added_at).order_by(
                ci_renames.c.old
            )
        )
    ]


__all__: Sequence[str] = ("apply_to_outcomes", "define", "listed", "load", "parse_file")
