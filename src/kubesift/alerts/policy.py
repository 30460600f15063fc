"""What happens to an incident: page now, digest, record only, or drop. Pure.

Guardrails come before the model: pipeline heartbeats are dropped, critical alerts always
page whatever their score, and in shadow mode every decision is recorded while nothing is
held back (everything that would have paged without kubesift still pages).
"""

from __future__ import annotations

from dataclasses import dataclass

from kubesift.alerts.features import ALWAYS_DROP

ACTIONS = ("page", "digest", "record", "drop")


@dataclass(frozen=True)
class Decision:
    action: str  # what the model and guardrails decided
    reason: str
    sends_page: bool  # whether a page goes out (differs from action in shadow mode)


def decide(
    *,
    name: str,
    severity: str,
    score: float,
    page: float,
    digest: float,
    shadow: bool,
    source: str = "alertmanager",
) -> Decision:
    if name in ALWAYS_DROP or severity == "none":
        return Decision("drop", f"{name or 'severity none'}: a heartbeat, never a page", False)
    if severity == "critical":
        return Decision("page", "critical: never suppressed by the model", True)
    if score >= page:
        action, reason = "page", f"score {score:.2f} >= page threshold {page:.2f}"
    elif score >= digest:
        action, reason = "digest", f"score {score:.2f} < page threshold {page:.2f}"
    else:
        action, reason = "record", f"score {score:.2f} < digest threshold {digest:.2f}"
    # Shadow mode holds back nothing that would have reached a person without kubesift:
    # Alertmanager's alerts (Events and log lines never paged anyone before).
    if shadow and action != "page" and source == "alertmanager":
        return Decision(action, f"{reason} (shadow mode: paged anyway)", True)
    return Decision(action, reason, action == "page")
