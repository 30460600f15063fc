"""Component Readiness's two basis adjustments (Sippy's middlewares). Pure, bar ``load``
and ``define``.

**Release fallback** (``releasefallback``): a cell of ``Release:X`` whose basis passes less
often than the same test on the release before X (over the same basis window, with at
least :data:`FALLBACK_MIN_SHARE` of its runs) is judged against that release instead, so a
slow slide across releases is not hidden by a basis that slid too.

**Intentional regressions** (``regressionallowances``): a file of accepted regressions,

    [[allowance]]
    test = "[sig-network] Services should serve endpoints"
    variants = "Platform:aws,Release:4.17"     # the cells they cover: these variants and any others
    reason = "the new endpoint controller trades latency for correctness"
    issue = "openshift/origin#123"
    regressed = { successes = 90, failures = 10, flakes = 0 }   # what was accepted

For an existing test the pity grows by the basis pass rate minus the accepted one (in
points); for a new test the required pass rate becomes the accepted rate.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from fractions import Fraction
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection, Engine

from kubesift.ci import rulefile, variants
from kubesift.ci.readiness import Counts, Settings
from kubesift.errors import UserError
from kubesift.store.schema import ci_allowances
from kubesift.timeutil import utcnow_iso

FALLBACK_MIN_SHARE = Fraction(6, 10)  # Sippy: total_prior / total_base >= 0.6
RELEASE = "Release"


# -- release fallback ------------------------------------------------------------------------


def _version(text: str) -> tuple[int, ...] | None:
    try:
        return tuple(int(p) for p in text.split("."))
    except ValueError:
        return None


def previous_releases(values: Iterable[str]) -> dict[str, str]:
    """Each release value → the one before it among ``values`` (versions compared as
    numbers: 4.9 < 4.10); values that are not versions have none."""
    found = {v: _version(v) for v in set(values)}
    ordered = sorted((v for v, n in found.items() if n is not None), key=lambda v: found[v] or ())
    return {b: a for a, b in itertools.pairwise(ordered)}


def fallback(
    data: dict[tuple[int, str], tuple[Counts, Counts]], flake_as_failure: bool = False
) -> dict[tuple[int, str], tuple[Counts, str]]:
    """(test, variants) → (the basis to use instead, why) where the release before has the
    better basis."""
    releases = {variants.parse_key(v).get(RELEASE) for _, v in data} - {None}
    before = previous_releases(r for r in releases if r)
    out: dict[tuple[int, str], tuple[Counts, str]] = {}
    for (tid, var), (_sample, basis) in data.items():
        parsed = variants.parse_key(var)
        prior = before.get(parsed.get(RELEASE, ""))
        if prior is None or basis.total == 0:
            continue
        found = data.get((tid, variants.key({**parsed, RELEASE: prior})))
        if found is None:
            continue
        older = found[1]
        if Fraction(older.total, basis.total) < FALLBACK_MIN_SHARE:
            continue
        if older.pass_rate(flake_as_failure) > basis.pass_rate(flake_as_failure):
            rate = float(older.pass_rate(flake_as_failure)) * 100
            out[(tid, var)] = (older, f"basis from {RELEASE}:{prior} ({rate:.1f}% passing)")
    return out


# -- intentional regressions ---------------------------------------------------------------------


@dataclass(frozen=True)
class Allowance:
    test: str
    variants: str
    reason: str
    issue: str
    regressed: Counts

    def covers(self, test: str, cell_variants: str) -> bool:
        mine = variants.parse_key(self.variants)
        theirs = variants.parse_key(cell_variants)
        return test == self.test and all(theirs.get(k) == v for k, v in mine.items())

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["regressed"] = asdict(self.regressed)
        return out


def parse_file(text: str, name: str = "allowances file") -> list[Allowance]:
    found = rulefile.tables(text, "allowance", name)
    return [_check(t, f"{name}: allowance {n}") for n, t in enumerate(found, 1)]


def _check(t: Any, what: str) -> Allowance:
    need = {"test", "variants", "reason", "regressed"}
    if not isinstance(t, dict) or not need <= set(t) or set(t) - need - {"issue"}:
        raise UserError(f"{what}: needs test, variants, reason, regressed (and may have issue)")
    for key in ("test", "variants", "reason"):
        if not isinstance(t[key], str) or not t[key].strip():
            raise UserError(f"{what}: {key} must be text")
    if not variants.parse_key(t["variants"]):
        raise UserError(f"{what}: variants look like Platform:aws,Release:4.17")
    r = t["regressed"]
    counts = {}
    for key in ("successes", "failures", "flakes"):
        value = r.get(key, 0) if isinstance(r, dict) else None
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise UserError(f"{what}: regressed.{key} must be a whole number ≥ 0")
        counts[key] = value
    if not sum(counts.values()):
        raise UserError(f"{what}: regressed counts are all 0")
    return Allowance(t["test"], t["variants"], t["reason"].strip(), str(t.get("issue", "")),
                     Counts(counts["successes"], counts["failures"], counts["flakes"]))  # fmt: skip


def adjusted(
    s: Settings, test: str, cell_variants: str, basis: Counts, found: list[Allowance]
) -> tuple[Settings, str]:
    """``s`` for one cell given the allowances (the first that covers it), and why."""
    for a in found:
        if not a.covers(test, cell_variants):
            continue
        accepted = float(a.regressed.pass_rate(s.flake_as_failure) * 100)
        if basis.total == 0:
            return replace(
                s, pass_rate_new_tests=float(accepted)
            ), f"allowed at {accepted:.1f}% ({a.reason})"
        extra = float(basis.pass_rate(s.flake_as_failure) * 100) - accepted
        if extra > 0:
            return replace(
                s, pity=s.pity + float(extra)
            ), f"allowed {float(extra):.1f} more points ({a.reason})"
        return s, ""
    return s, ""


def load(conn: Connection) -> list[Allowance]:
    return [
        Allowance(r.test, r.variants, r.reason, r.issue, Counts(r.successes, r.failures, r.flakes))
        for r in conn.execute(select(ci_allowances).order_by(ci_allowances.c.id))
    ]


def define(engine: Engine, found: list[Allowance]) -> int:
    """Make ``found`` the allowances (replacing those stored)."""
    now = utcnow_iso()
    with engine.begin() as conn:
        conn.execute(delete(ci_allowances))
        if found:
            conn.execute(insert(ci_allowances), [
                {"test": a.test, "variants": a.variants, "reason": a.reason, "issue": a.issue,
                 "successes": a.regressed.success, "failures": a.regressed.failure,
                 "flakes": a.regressed.flake, "added_at": now}
                for a in found
            ])  # fmt: skip
    return len(found)
