"""Who acted: the one rule for bots and for human verdicts."""

from __future__ import annotations

from kubesift.github.actors import is_bot, is_human_verdict, is_self
from kubesift.learn.dataset import provenance


def test_bots_by_type_login_or_name() -> None:
    assert is_bot({"login": "renovate", "type": "Bot"})
    assert is_bot({"login": "dependabot[bot]", "type": "User"})
    assert is_bot({"login": "k8s-triage-robot", "type": "User"})
    assert not is_bot({"login": "alice", "type": "User"}) and not is_bot(None)
    assert is_bot({"login": "our-robot"}, extra_bots=["our-robot"])


def test_only_people_and_prow_acting_for_them_give_verdicts() -> None:
    assert is_human_verdict("alice")
    assert is_human_verdict("k8s-ci-robot", actor_is_bot=True)  # /remove-kind typed by a person
    assert not is_human_verdict("k8s-triage-robot")  # lifecycle automation
    assert not is_human_verdict("renovate", actor_is_bot=True)  # a Bot-type account
    assert not is_human_verdict("kubesift[bot]") and not is_human_verdict("")
    assert is_self("KubeSift", frozenset({"kubesift[bot]"}))


def test_a_removal_by_automation_is_no_negative_example() -> None:
    events = [
        ("unlabeled", "kind/feature", "k8s-triage-robot", True),
        ("unlabeled", "kind/bug", "k8s-ci-robot", True),
        ("unlabeled", "sig/node", "alice", False),
    ]
    _, negatives, _ = provenance(set(), events, frozenset({"kubesift[bot]"}))
    assert negatives == {"kind/bug", "sig/node"}
