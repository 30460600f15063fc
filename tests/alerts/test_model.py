"""The decision policy's guardrails, thresholds for recall, and learning from answers."""

from __future__ import annotations

import random

from kubesift.alerts import model as models
from kubesift.alerts.policy import decide


def test_critical_pages_whatever_the_score_and_heartbeats_never_do() -> None:
    crit = decide(name="KubeletDown", severity="critical", score=0.01, page=0.5, digest=0.2,
                  shadow=False)  # fmt: skip
    assert crit.action == "page" and crit.sends_page and "never suppressed" in crit.reason
    dog = decide(name="Watchdog", severity="none", score=0.99, page=0.5, digest=0.2, shadow=False)
    assert dog.action == "drop" and not dog.sends_page


def test_shadow_mode_decides_but_holds_nothing_back() -> None:
    kw = {"name": "CPUThrottlingHigh", "severity": "info", "score": 0.01, "page": 0.5,
          "digest": 0.2}  # fmt: skip
    assert decide(**kw, shadow=False).sends_page is False  # type: ignore[arg-type]
    shadow = decide(**kw, shadow=True)  # type: ignore[arg-type]
    assert shadow.action == "record" and shadow.sends_page and "shadow" in shadow.reason


def test_recall_threshold_keeps_the_target_and_counts_critical_as_paged() -> None:
    scores = [0.9, 0.8, 0.3, 0.2, 0.1, 0.05]
    labels = [True, True, True, False, True, False]
    crit = [False, False, False, False, True, False]
    t = models.recall_threshold(scores, labels, crit, 0.99)
    assert t == 0.3  # catches 0.9, 0.8, 0.3; the 0.1 is critical (always paged)
    caught = sum(1 for s, y, c in zip(scores, labels, crit, strict=True) if y and (s >= t or c))
    assert caught == sum(labels)


def _examples(n: int, seed: int, flip_at: float | None = None) -> list[models.Example]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        name = rng.choice(["Real", "Noise", "Other"])
        needs = name == "Real"
        if flip_at is not None and i / n >= flip_at:
            needs = name == "Other"
        out.append(models.Example(
            at=1.7e9 + i * 8640,  # ten a day
            features={f"name={name}": 1.0, "severity=warning": 1.0, "source=alertmanager": 1.0},
            severity="warning", needs_human=needs,
        ))  # fmt: skip
    return out


def test_the_prior_until_enough_answers_then_a_learned_model() -> None:
    assert models.train(_examples(10, 1), now=1.8e9).kind == "prior"
    learned = models.train(_examples(300, 1), now=1.8e9)
    assert learned.kind == "logistic" and learned.meta["forward"]["recall"] >= 0.99
    real, _ = learned.score({"name=Real": 1.0, "severity=warning": 1.0})
    noise, why = learned.score({"name=Noise": 1.0, "severity=warning": 1.0})
    assert real >= learned.page > noise
    assert why[0][0] == "name=Noise"  # the explanation names what weighed most
    again = models.TriageModel.from_json(learned.to_json())
    assert again.score({"name=Real": 1.0})[0] == learned.score({"name=Real": 1.0})[0]


def test_recent_answers_weigh_more_so_the_model_follows_drift() -> None:
    drifted = models.train(_examples(600, 2, flip_at=0.5), now=1.7e9 + 600 * 8640)
    other, _ = drifted.score({"name=Other": 1.0, "severity=warning": 1.0})
    real, _ = drifted.score({"name=Real": 1.0, "severity=warning": 1.0})
    assert other > real
