"""What the store knew when an incident opened (the adapter behind ``features.History``).

Every count looks only backwards from the signal's own time, so a replay of last month
computes what a live receiver would have computed then. The statements are built once,
with bound parameters: the receiver runs them for every new incident.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import BindParameter

from kubesift.alerts.features import History
from kubesift.alerts.signals import Signal
from kubesift.store.schema import alert_incidents, alert_signals, items
from kubesift.timeutil import shift

#: Event reasons that mean the workload was just rolled out.
DEPLOY_REASONS = ("ScalingReplicaSet", "SuccessfulRollout", "DeploymentRollout")

_inc, _sig, _it = alert_incidents.c, alert_signals.c, items.c
_AT: BindParameter[str] = bindparam("at")
_SINCE: BindParameter[str] = bindparam("since")


def _counting(*where: Any) -> Select[Any]:
    return select(func.count()).where(*where)


_SAME = _counting(
    _inc.name == bindparam("name"), _inc.namespace == bindparam("ns"), _inc.opened_at < _AT,
    _inc.opened_at >= _SINCE,
)  # fmt: skip
_FLAPS = _counting(_sig.key == bindparam("key"), _sig.status == "resolved", _sig.at >= _SINCE,
                   _sig.at <= _AT)  # fmt: skip
# A storm is cluster-wide (a node or the network goes, every namespace fires).
_STORM = _counting(
    _sig.source == "alertmanager", _sig.status == "firing", _sig.cluster == bindparam("cluster"),
    _sig.at >= _SINCE, _sig.at <= _AT, _sig.key != bindparam("key"),
)  # fmt: skip
_ABOUT = and_(_sig.namespace == bindparam("ns"), _sig.workload == bindparam("wl"),
              _sig.at <= _AT, _sig.at >= _SINCE)  # fmt: skip
_EVENTS = _counting(_ABOUT, _sig.source == "k8s-event", _sig.severity == "warning")
_LOGS = _counting(_ABOUT, _sig.source == "log")
_DEPLOYS = _counting(_ABOUT, _sig.name.in_(DEPLOY_REASONS))
_TEMPLATES = (
    select(_sig.template_id)
    .where(_ABOUT, _sig.source == "log", _sig.template_id.is_not(None))
    .limit(200)
)
_PRS = _counting(
    _it.kind == "pr", _it.merged_at.is_not(None), _it.merged_at >= _SINCE, _it.merged_at <= _AT,
    func.lower(_it.title).like(bindparam("pattern")),
)  # fmt: skip


def _n(conn: Connection, stmt: Select[Any], **params: object) -> int:
    return int(conn.execute(stmt, params).scalar_one())


def history(conn: Connection, s: Signal, name: str) -> History:
    """The fire-time surroundings of a new incident named ``name`` for signal ``s``."""
    at, ns, wl = s.at, s.namespace, s.workload
    about = {"ns": ns, "wl": wl, "at": at, "since": shift(at, -1800)}
    return History(
        same_24h=_n(conn, _SAME, name=name, ns=ns, at=at, since=shift(at, -86400)),
        same_7d=_n(conn, _SAME, name=name, ns=ns, at=at, since=shift(at, -7 * 86400)),
        flaps_1h=_n(conn, _FLAPS, key=s.key, at=at, since=shift(at, -3600)),
        storm=_n(conn, _STORM, cluster=s.cluster, key=s.key, at=at, since=shift(at, -300)),
        events_30m=_n(conn, _EVENTS, **about) if wl else 0,
        logs_30m=_n(conn, _LOGS, **about) if wl else 0,
        template=_top_template(conn, about) if wl else 0,
        deploy_2h=bool(wl) and _n(conn, _DEPLOYS, **{**about, "since": shift(at, -7200)}) > 0,
        pr_24h=len(wl) >= 3 and _merged_pr(conn, at, wl),
    )


def _merged_pr(conn: Connection, at: str, workload: str) -> bool:
    """A pull request merged in the last day whose title names the workload."""
    pattern = f"%{workload.lower()}%"
    return _n(conn, _PRS, at=at, since=shift(at, -86400), pattern=pattern) > 0


def _top_template(conn: Connection, about: dict[str, str]) -> int:
    counts = Counter(conn.execute(_TEMPLATES, about).scalars())
    return counts.most_common(1)[0][0] if counts else 0
