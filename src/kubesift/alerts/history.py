"""What the store knew when an incident opened (the adapter behind ``features.History``).

Every count looks only backwards from the signal's own time, so a replay of last month
computes what a live receiver would have computed then.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import and_, func, select
from sqlalchemy.engine import Connection

from kubesift.alerts.features import History
from kubesift.alerts.signals import Signal
from kubesift.store.schema import alert_incidents, alert_signals, items
from kubesift.timeutil import shift

#: Event reasons that mean the workload was just rolled out.
DEPLOY_REASONS = ("ScalingReplicaSet", "SuccessfulRollout", "DeploymentRollout")


def _count(conn: Connection, *where: object) -> int:
    return int(conn.execute(select(func.count()).where(*where)).scalar_one())  # type: ignore[arg-type]


def history(conn: Connection, s: Signal, name: str) -> History:
    """The fire-time surroundings of a new incident named ``name`` for signal ``s``."""
    inc, sig = alert_incidents.c, alert_signals.c
    same = and_(inc.name == name, inc.namespace == s.namespace, inc.opened_at < s.at)
    about = and_(sig.namespace == s.namespace, sig.workload == s.workload, sig.at <= s.at)
    recent = sig.at >= shift(s.at, -1800)
    workload = bool(s.workload)
    return History(
        same_24h=_count(conn, same, inc.opened_at >= shift(s.at, -86400)),
        same_7d=_count(conn, same, inc.opened_at >= shift(s.at, -7 * 86400)),
        flaps_1h=_count(
            conn, sig.key == s.key, sig.status == "resolved", sig.at >= shift(s.at, -3600),
            sig.at <= s.at,
        ),
        # A storm is cluster-wide (a node or the network goes, every namespace fires).
        storm=_count(
            conn, sig.source == "alertmanager", sig.status == "firing", sig.cluster == s.cluster,
            sig.at >= shift(s.at, -300), sig.at <= s.at, sig.key != s.key,
        ),
        events_30m=_count(conn, about, recent, sig.source == "k8s-event", sig.severity == "warning")
        if workload else 0,
        logs_30m=_count(conn, about, recent, sig.source == "log") if workload else 0,
        template=_top_template(conn, s) if workload else 0,
        deploy_2h=workload and _count(
            conn, about, sig.at >= shift(s.at, -7200), sig.name.in_(DEPLOY_REASONS)
        ) > 0,
        pr_24h=workload and _merged_pr(conn, s),
    )  # fmt: skip


def _top_template(conn: Connection, s: Signal) -> int:
    sig = alert_signals.c
    rows = conn.execute(
        select(sig.template_id).where(
            sig.namespace == s.namespace, sig.workload == s.workload, sig.source == "log",
            sig.at >= shift(s.at, -1800), sig.at <= s.at, sig.template_id.is_not(None),
        ).limit(200)
    ).scalars()  # fmt: skip
    counts = Counter(rows)
    return counts.most_common(1)[0][0] if counts else 0


def _merged_pr(conn: Connection, s: Signal) -> bool:
    """A pull request merged in the last day whose title names the workload."""
    if len(s.workload) < 3:
        return False
    it = items.c
    pattern = f"%{s.workload.lower()}%"
    return (
        _count(
            conn,
            it.kind == "pr",
            it.merged_at.is_not(None),
            it.merged_at >= shift(s.at, -86400),
            it.merged_at <= s.at,
            func.lower(it.title).like(pattern),
        )
        > 0
    )
