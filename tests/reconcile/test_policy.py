"""The reconciler's pure decisions and the desired-state parser."""

from __future__ import annotations

import pytest

from kubesift.errors import ConfigError
from kubesift.learn.pointer import in_canary
from kubesift.reconcile.desired import Desired, Promotion, desired_from, parse_duration
from kubesift.reconcile.policy import (
    Online,
    SliceScores,
    canary_verdict,
    compare,
    rollback_verdict,
    staleness,
)

PROD = {
    "model": "sift-linear",
    "tasks": ["kind/bug"],
    "families": ["kind", "sig"],
    "target_precision": 0.9,
    "source": "release-notes",
    "calibration": "forward",
    "labelled": 1000,
    "data_hash": "abc",
}


def test_durations() -> None:
    assert parse_duration("15m", "x") == 900
    assert parse_duration("7d", "x") == 7 * 86400
    assert parse_duration(30, "x") == 30
    with pytest.raises(ConfigError, match="not a duration"):
        parse_duration("soon", "--interval")


def test_desired_state_from_toml_and_its_errors() -> None:
    d = desired_from(
        {"reconcile": {"repositories": ["a/b"], "freshness": {"max_age": "12h"},
                       "canary": {"share": 0.25}}}
    )  # fmt: skip
    assert d.repositories == ("a/b",) and d.freshness.max_age == 43200 and d.canary.share == 0.25
    assert d.canary.max_wait == 14 * 86400
    assert desired_from({}) == Desired()
    for bad, message in [
        ({"repositories": ["nope"]}, "not OWNER/NAME"),
        ({"colour": "red"}, "unknown setting"),
        ({"canary": {"share": 2}}, "out of range"),
        ({"canary": {"shares": 2}}, "unknown setting"),
        ({"families": 3}, "list of strings"),
        ({"source": "tweets"}, "release-notes or items"),
        ({"labels": [], "families": []}, "labels or families"),
    ]:
        with pytest.raises(ConfigError, match=message):
            desired_from({"reconcile": bad})


def test_staleness_reasons() -> None:
    d = Desired(families=("kind", "sig"))
    assert staleness(d, None, None, 0, "x").stale
    fresh = staleness(d, PROD, 3600, 1050, "abc")
    assert not fresh.stale and "50 new labelled" in fresh.reason
    assert "201 new labelled" in staleness(d, PROD, 3600, 1201, "abc").reason
    spec = staleness(Desired(families=("kind",)), PROD, 60, 1000, "abc")
    assert spec.stale and "families" in spec.reason
    old = staleness(d, PROD, 30 * 86400, 1000, "changed")
    assert old.stale and "old" in old.reason
    # Old, but trained on exactly today's data: retraining would change nothing.
    same = staleness(d, PROD, 30 * 86400, 1000, "abc")
    assert not same.stale and "unchanged" in same.reason
    # A version from before forward calibration is retrained: its promises did not hold.
    before = {k: v for k, v in PROD.items() if k != "calibration"}
    earlier = staleness(d, before, 3600, 1000, "abc")
    assert earlier.stale and "calibration: 'out-of-fold' → 'forward'" in earlier.reason


def test_compare_vetoes_a_label_drop_and_a_family_drop() -> None:
    prod = SliceScores({"kind/bug": (0.80, 100), "sig/node [sig]": (0.70, 40)}, {"sig": 0.65})
    better = SliceScores({"kind/bug": (0.805, 100), "sig/node [sig]": (0.695, 40)}, {"sig": 0.66})
    verdict = compare(better, prod, Promotion())
    assert verdict.accept and "sig 0.650 → 0.660" in verdict.reason
    worse = SliceScores({"kind/bug": (0.78, 100), "sig/node [sig]": (0.70, 40)}, {"sig": 0.64})
    verdict = compare(worse, prod, Promotion())
    assert not verdict.accept
    assert "kind/bug F1 0.800 → 0.780" in verdict.reason and "family sig" in verdict.reason
    # A rare label (support below min_support) cannot veto; a missing label counts as 0.
    rare = SliceScores({"kind/bug": (0.8, 100), "sig/x [sig]": (0.9, 3)}, {})
    assert compare(SliceScores({"kind/bug": (0.8, 100)}, {}), rare, Promotion()).accept
    gone = compare(SliceScores({}, {}), SliceScores({"kind/bug": (0.5, 50)}, {}), Promotion())
    assert not gone.accept and "0.500 → 0.000" in gone.reason


def test_canary_and_rollback_verdicts() -> None:
    from kubesift.reconcile.desired import Canary, Rollback

    policy = Canary(share=0.5, min_judged=10, max_precision_drop=0.05)
    assert canary_verdict(Online(5, 0), Online(50, 5), policy, 0.8)[0] == "wait"
    assert canary_verdict(Online(20, 3), Online(50, 5), policy, 0.8)[0] == "promote"  # .85 vs .90
    assert canary_verdict(Online(20, 4), Online(50, 5), policy, 0.8)[0] == "abort"  # .80 vs .90
    assert canary_verdict(Online(20, 10), Online(0, 0), policy, 0.8)[0] == "abort"  # vs floor
    # Too few judgements for too long: aborted, production kept (never promoted unproven).
    action, reason = canary_verdict(Online(3, 0), Online(50, 5), policy, 0.8, 15 * 86400)
    assert action == "abort" and "only 3 of 10 judged labels after 15.0 d" in reason
    assert canary_verdict(Online(3, 0), Online(50, 5), policy, 0.8, 86400)[0] == "wait"
    rb = Rollback(min_precision=0.8, min_judged=10)
    assert rollback_verdict(Online(5, 5), rb, "m@1")[0] == "none"
    assert rollback_verdict(Online(20, 2), rb, "m@1")[0] == "none"
    assert rollback_verdict(Online(20, 10), rb, "m@1")[0] == "rollback"
    assert rollback_verdict(Online(20, 10), rb, None)[0] == "hold"


def test_canary_assignment_is_stable_and_near_the_share() -> None:
    keys = [f"kubernetes/kubernetes#{n}" for n in range(4000)]
    chosen = [k for k in keys if in_canary(k, 0.25)]
    assert 0.22 < len(chosen) / len(keys) < 0.28
    assert chosen == [k for k in keys if in_canary(k, 0.25)]
    assert not any(in_canary(k, 0.0) for k in keys) and all(in_canary(k, 1.0) for k in keys)
