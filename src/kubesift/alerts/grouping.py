"""What Alertmanager's grouping alone would have sent. Pure.

A baseline for the replay: alerts grouped by (namespace, alertname) with kube-prometheus'
timings (group_wait 30 s, group_interval 5 m, repeat_interval 4 h, Alertmanager's
default), counting firing notifications only. A group is active from its first alert
until its last one resolves; it notifies ``group_wait`` after it becomes active, then at
each ``group_interval`` tick that brought a new alert, and again every
``repeat_interval`` while anything still fires.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

GROUP_WAIT = 30.0
GROUP_INTERVAL = 300.0
REPEAT_INTERVAL = 4 * 3600.0
#: Without a resolution in the stream, an alert is taken to fire this long.
DEFAULT_LENGTH = 3600.0


def alertmanager_notifications(
    alerts: Sequence[tuple[str, str, float, float, str]],
    *,
    group_wait: float = GROUP_WAIT,
    group_interval: float = GROUP_INTERVAL,
    repeat_interval: float = REPEAT_INTERVAL,
) -> list[float]:
    """The times of the firing notifications for ``alerts`` given as (namespace,
    alertname, starts, ends or 0, fingerprint)."""
    groups: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for ns, name, start, end, _key in alerts:
        groups[(ns, name)].append((start, end if end > start else start + DEFAULT_LENGTH))
    sent: list[float] = []
    for spans in groups.values():
        sent.extend(_group(sorted(spans), group_wait, group_interval, repeat_interval))
    return sorted(sent)


def _group(spans: list[tuple[float, float]], wait: float, interval: float,
           repeat: float) -> list[float]:  # fmt: skip
    out: list[float] = []
    i = 0
    while i < len(spans):
        start, end = spans[i]
        tick = start + wait
        out.append(tick)
        last_sent = tick
        j = i + 1
        while j < len(spans) and spans[j][0] <= end:
            end = max(end, spans[j][1])
            j += 1
        starts = [s for s, _ in spans[i + 1 : j]]
        k = 0
        while tick + interval <= end:
            tick += interval
            fresh = False
            while k < len(starts) and starts[k] <= tick:
                fresh, k = True, k + 1
            if fresh or tick - last_sent >= repeat:
                out.append(tick)
                last_sent = tick
        i = j
    return out
