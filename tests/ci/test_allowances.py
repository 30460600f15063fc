"""Component Readiness's release fallback and intentional-regression allowances."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubesift.ci import allowances, readiness
from kubesift.ci.readiness import Counts, Settings
from kubesift.errors import UserError
from tests.conftest import run_cli

AWS = "Platform:aws,Release:{}"


def test_release_fallback_uses_the_better_release_before() -> None:
    data = {
        # 4.17's basis slid to 90 %; 4.16 passed 99 % over as many runs: judged against 4.16
        (1, AWS.format("4.17")): (Counts(70, 30), Counts(90, 10)),
        (1, AWS.format("4.16")): (Counts(99, 1), Counts(99, 1)),
        # 4.10 after 4.9 (versions, not text); 4.9 has too few runs (< 60 %): no fallback
        (2, AWS.format("4.10")): (Counts(70, 30), Counts(90, 10)),
        (2, AWS.format("4.9")): (Counts(50, 0), Counts(50, 0)),
        # the release before passed less: keep the basis
        (3, AWS.format("4.17")): (Counts(70, 30), Counts(99, 1)),
        (3, AWS.format("4.16")): (Counts(90, 10), Counts(90, 10)),
    }
    found = allowances.fallback(data)
    assert set(found) == {(1, AWS.format("4.17"))}
    basis, why = found[(1, AWS.format("4.17"))]
    assert basis == Counts(99, 1) and why == "basis from Release:4.16 (99.0% passing)"
    assert allowances.previous_releases(["4.9", "4.10", "4.11", "main"]) == {
        "4.10": "4.9", "4.11": "4.10"
    }  # fmt: skip
    # the fallback turns "not significant against a slid basis" into a regression
    sample, _slid = data[(1, AWS.format("4.17"))]
    assert not readiness.assess(sample, Counts(75, 25)).regressed
    assert readiness.assess(sample, basis).regressed


def test_an_allowance_widens_the_pity_for_the_cells_it_covers() -> None:
    [allowed] = allowances.parse_file(
        '[[allowance]]\ntest = "t"\nvariants = "Platform:aws"\nreason = "accepted"\n'
        "regressed = { successes = 80, failures = 20 }\n"
    )
    sample, basis = Counts(82, 18), Counts(98, 2)
    assert readiness.assess(sample, basis).regressed  # 98 % → 82 %
    s, why = allowances.adjusted(Settings(), "t", "Platform:aws,Release:4.17", basis, [allowed])
    assert s.pity == pytest.approx(5 + 18) and why == "allowed 18.0 more points (accepted)"
    assert not readiness.assess(sample, basis, s).regressed
    # other cells, and new tests (the required rate becomes the accepted one)
    assert allowances.adjusted(Settings(), "t", "Platform:gcp", basis, [allowed])[1] == ""
    new, why = allowances.adjusted(Settings(), "t", "Platform:aws", Counts(), [allowed])
    assert new.pass_rate_new_tests == 80 and why.startswith("allowed at 80.0%")


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('[[allowance]]\ntest = "t"\nvariants = "aws"\nreason = "r"\nregressed = {successes = 1}',
         "Platform:aws"),
        ('[[allowance]]\ntest = "t"\nvariants = "Platform:aws"\nreason = "r"\n'
         "regressed = {successes = -1}", "whole number"),
        ('[[allowance]]\ntest = "t"\nvariants = "Platform:aws"\nregressed = {successes = 1}',
         "needs test, variants, reason"),
    ],
)  # fmt: skip
def test_bad_allowances_are_refused(text: str, error: str) -> None:
    with pytest.raises(UserError, match=error):
        allowances.parse_file(text)


def test_allowances_load_and_list(home: Path, tmp_path: Path) -> None:
    file = tmp_path / "allow.toml"
    file.write_text('[[allowance]]\ntest = "t"\nvariants = "Platform:aws"\nreason = "slow"\n'
                    'issue = "a/b#1"\nregressed = { successes = 9, failures = 1 }\n')  # fmt: skip
    assert (
        "1 intentional regressions allowed" in run_cli("ci", "allowances", "load", str(file)).stdout
    )
    [row] = json.loads(run_cli("ci", "allowances", "list", "--json").stdout)
    assert row["issue"] == "a/b#1" and row["regressed"] == {"success": 9, "failure": 1, "flake": 0}
    file.write_text("[[allowance]]\ntest = 1\n")
    bad = run_cli("ci", "allowances", "load", str(file))
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
