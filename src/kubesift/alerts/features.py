"""What is known when an incident opens, as model features. Pure.

Only fire-time facts: nothing here may depend on how the incident ended (how long it
fired, whether someone acted), or the model would learn from the answer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

#: Alerts that prove the pipeline works and mean nothing on their own.
ALWAYS_DROP = frozenset({"Watchdog", "InfoInhibitor", "DeadMansSwitch"})
#: Flapping: this many resolutions of the same alert within the last hour.
FLAPPING = 3
#: Storm: this many other alerts firing in the cluster within five minutes.
STORM = 20


@dataclass(frozen=True)
class History:
    """What the store knew about an incident's surroundings at the moment it opened."""

    same_24h: int = 0  # earlier incidents with this name in this namespace, last 24 h
    same_7d: int = 0
    flaps_1h: int = 0  # resolutions of this alert in the last hour
    storm: int = 0  # other alerts firing in the cluster, last 5 minutes
    events_30m: int = 0  # Warning Events about the workload, last 30 minutes
    logs_30m: int = 0  # error log lines of the workload, last 30 minutes
    template: int = 0  # the workload's most frequent recent log template (0: none)
    deploy_2h: bool = False  # a rollout of the workload in the last 2 hours
    pr_24h: bool = False  # a merged PR naming the workload in the last 24 hours


def _hour_bucket(hour: int) -> str:
    if 9 <= hour < 18:
        return "business"
    return "evening" if 18 <= hour < 23 else "night"


def features(
    *,
    source: str,
    name: str,
    severity: str,
    namespace: str,
    workload: str,
    at: datetime,
    history: History,
) -> dict[str, float]:
    """The feature snapshot for one incident, as ``{name: value}`` (one-hot strings as 1)."""
    f: dict[str, float] = {
        f"name={name}": 1.0,
        f"severity={severity}": 1.0,
        f"source={source}": 1.0,
        f"namespace={namespace or '-'}": 1.0,
        f"name|namespace={name}|{namespace or '-'}": 1.0,
        f"hour={_hour_bucket(at.hour)}": 1.0,
        "recur_24h": math.log1p(history.same_24h),
        "recur_7d": math.log1p(history.same_7d),
        "storm": math.log1p(history.storm),
        "events_30m": math.log1p(history.events_30m),
        "logs_30m": math.log1p(history.logs_30m),
    }
    if workload:
        f[f"workload={namespace}/{workload}"] = 1.0
    if at.weekday() >= 5:
        f["weekend"] = 1.0
    if history.flaps_1h >= FLAPPING:
        f["flapping"] = 1.0
    if history.storm >= STORM:
        f["in_storm"] = 1.0
    if history.template:
        f[f"log_template={history.template}"] = 1.0
    if history.deploy_2h:
        f["deploy_2h"] = 1.0
    if history.pr_24h:
        f["pr_24h"] = 1.0
    return f
