"""Sippy's Component Readiness decision for one cell (test × variants). Pure.

Counts in the sample period are compared with the basis period by a right-tailed
Fisher exact test, after two cheap gates: too few sample failures (``minimum_failure``)
and a pass-rate drop within the ``pity`` allowance are not significant. Flakes count
as passes unless ``flake_as_failure``. A test with no basis is judged by a required
pass rate when ``pass_rate_new_tests`` is set. While a regression is open the cell is
judged with 5 points less confidence and 2 points less pity (hysteresis).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction

# Sippy's status values: lower is worse; a cell's status is its worst test's.
FAILED_FIX = -1000
EXTREME = -500
SIGNIFICANT = -400
EXTREME_TRIAGED = -300
SIGNIFICANT_TRIAGED = -200
FIXED = -150
MISSING_SAMPLE = -100
NOT_SIGNIFICANT = 0
MISSING_BASIS = 100
MISSING_BOTH = 200
IMPROVEMENT = 300

STATUS_NAMES = {
    FAILED_FIX: "FailedFixedRegression",
    EXTREME: "ExtremeRegression",
    SIGNIFICANT: "SignificantRegression",
    EXTREME_TRIAGED: "ExtremeTriagedRegression",
    SIGNIFICANT_TRIAGED: "SignificantTriagedRegression",
    FIXED: "FixedRegression",
    MISSING_SAMPLE: "MissingSample",
    NOT_SIGNIFICANT: "NotSignificant",
    MISSING_BASIS: "MissingBasis",
    MISSING_BOTH: "MissingBasisAndSample",
    IMPROVEMENT: "SignificantImprovement",
}
REGRESSED = (EXTREME, SIGNIFICANT)


@dataclass(frozen=True)
class Counts:
    success: int = 0
    failure: int = 0
    flake: int = 0

    @property
    def total(self) -> int:
        return self.success + self.failure + self.flake

    def passes(self, flake_as_failure: bool = False) -> int:
        return self.success if flake_as_failure else self.success + self.flake

    def fails(self, flake_as_failure: bool = False) -> int:
        return self.total - self.passes(flake_as_failure)

    def pass_rate(self, flake_as_failure: bool = False) -> Fraction:
        return Fraction(self.passes(flake_as_failure), self.total) if self.total else Fraction(0)


@dataclass(frozen=True)
class Settings:
    """Sippy's parameters; defaults are its production views' (pity 5 %, 3 failures)."""

    confidence: int = 95
    pity: float = 5.0  # percentage points
    minimum_failure: int = 3
    extreme_drop: float = 0.15
    pass_rate_new_tests: float = 95.0  # 0 turns the new-test floor off
    pass_rate_all_tests: float = 0.0
    pass_rate_min_runs: int = 6
    flake_as_failure: bool = False
    ignore_missing: bool = False
    #: The false discovery rate allowed across a report's cells (Benjamini–Hochberg over
    #: the cells whose Fisher test ran); 0 judges each cell alone, as Sippy does, which
    #: over thousands of cells raises false alarms (bench/ci.py measures both).
    fdr: float = 0.01
    #: Judge a Release:X cell against the release before when its basis passed more often
    #: (Sippy's release fallback; kubesift.ci.allowances.fallback).
    release_fallback: bool = True

    def while_open(self) -> Settings:
        """Hysteresis for a cell with an open regression: confidence −5, pity −2."""
        return replace(self, confidence=self.confidence - 5, pity=self.pity - 2)


@dataclass(frozen=True)
class Assessment:
    status: int
    p: float | None  # the Fisher p-value, when a test ran
    explanation: str

    @property
    def name(self) -> str:
        return STATUS_NAMES[self.status]

    @property
    def regressed(self) -> bool:
        return self.status in REGRESSED


def fisher_right(n11: int, n12: int, n21: int, n22: int) -> float:
    """P(X ≥ n11) for the 2×2 table with fixed margins (Sippy's ``rightp``)."""
    total = n11 + n12 + n21 + n22
    from scipy.stats import hypergeom  # imported where used: `ci --help` stays instant

    return float(hypergeom.sf(n11 - 1, total, n11 + n21, n11 + n12))


def assess(sample: Counts, base: Counts | None, s: Settings = Settings()) -> Assessment:
    """The status of one cell, with the p-value and a one-line reason."""
    if (base is None or base.total == 0) and s.pass_rate_new_tests > 0:
        return _pass_rate(sample, s.pass_rate_new_tests, s, new=True)
    if s.pass_rate_all_tests > 0:
        return _pass_rate(sample, s.pass_rate_all_tests, s, new=False)
    if sample.total == 0:
        if base is None or base.total == 0:
            return Assessment(MISSING_BOTH, None, "no runs in the sample or the basis")
        status = NOT_SIGNIFICANT if s.ignore_missing else MISSING_SAMPLE
        return Assessment(status, None, "no runs in the sample")
    if base is None or base.total == 0:
        return Assessment(MISSING_BASIS, None, "no runs in the basis")
    return _fisher(sample, base, s)


def _fisher(sample: Counts, base: Counts, s: Settings) -> Assessment:
    fa = s.flake_as_failure
    fails = sample.fails(fa)
    if s.minimum_failure and fails < s.minimum_failure:
        return Assessment(NOT_SIGNIFICANT, None, f"{fails} failures < {s.minimum_failure}")
    rate_s, rate_b = sample.pass_rate(fa), base.pass_rate(fa)
    drop = rate_b - rate_s
    improved = rate_s >= rate_b
    # Exact fractions: Sippy's float comparison calls a 5.000000000000004-point drop > 5.
    if improved:
        p = fisher_right(base.fails(fa), base.passes(fa), fails, sample.passes(fa))
    elif drop > Fraction(s.pity).limit_denominator(10_000) / 100:
        p = fisher_right(fails, sample.passes(fa), base.fails(fa), base.passes(fa))
    else:
        return Assessment(NOT_SIGNIFICANT, None, f"drop {_pct(drop)} within pity {s.pity:g}%")
    reason = f"pass rate {_pct(rate_b)} → {_pct(rate_s)}, p={p:.3g}"
    if p >= 1 - s.confidence / 100:
        return Assessment(NOT_SIGNIFICANT, p, reason)
    if improved:
        return Assessment(IMPROVEMENT, p, reason)
    extreme = drop > Fraction(s.extreme_drop).limit_denominator(10_000)
    return Assessment(EXTREME if extreme else SIGNIFICANT, p, reason)


def _pass_rate(sample: Counts, required: float, s: Settings, new: bool) -> Assessment:
    fa = s.flake_as_failure
    rate = sample.pass_rate(fa) * 100
    fails = sample.fails(fa)
    reason = f"pass rate {float(rate):.1f}% vs required {required:g}%"
    if sample.total < s.pass_rate_min_runs:
        return Assessment(NOT_SIGNIFICANT, None, f"{sample.total} runs < {s.pass_rate_min_runs}")
    if fails < s.minimum_failure or rate >= Fraction(required).limit_denominator(10_000):
        return Assessment(MISSING_BASIS if new else NOT_SIGNIFICANT, None, reason)
    extreme = rate < Fraction(required).limit_denominator(10_000) - (100 - Fraction(required))
    return Assessment(EXTREME if extreme else SIGNIFICANT, None, reason)


def _pct(x: Fraction) -> str:
    return f"{float(x) * 100:.1f}%"


def control_fdr(verdicts: list[tuple[Assessment, float]], q: float) -> list[Assessment]:
    """Benjamini–Hochberg: ``(verdict, alpha)`` pairs in, verdicts out. Over the ``m``
    cells whose Fisher test ran, a significant cell stays significant only if its p-value
    passes the step-up threshold ``rank / m × q`` — ``q`` scaled by the cell's alpha
    over 0.05, so a cell with an open regression (alpha 0.10) keeps its hysteresis."""
    tested = sorted(
        (i for i, (v, _a) in enumerate(verdicts) if v.p is not None),
        key=lambda i: verdicts[i][0].p or 0.0,
    )
    m = len(tested)
    cutoff = 0
    for rank, i in enumerate(tested, start=1):
        v, alpha = verdicts[i]
        if (v.p or 0.0) <= rank / m * q * alpha / 0.05:
            cutoff = rank
    keep = set(tested[:cutoff])
    out = []
    for i, (v, _alpha) in enumerate(verdicts):
        significant = v.status in (EXTREME, SIGNIFICANT, IMPROVEMENT)
        if significant and v.p is not None and i not in keep:
            reason = f"{v.explanation}; not significant at FDR {q:g} across {m} tested cells"
            v = Assessment(NOT_SIGNIFICANT, v.p, reason)
        out.append(v)
    return out
