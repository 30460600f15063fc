"""[alerts.quiet]: ignore lists, the log level that counts, N signals in M minutes before
an incident opens, and every incident saying why it opened, was grouped, was paged or held
— through a real store, and from kubesift.toml to a real receiver process."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from kubesift.alerts import quiet
from kubesift.alerts.ingest import Settings, Triage
from kubesift.alerts.service import ingest
from kubesift.alerts.signals import Signal, log_signal
from kubesift.config import load_settings
from kubesift.errors import ConfigError
from kubesift.store import open_store
from kubesift.store.schema import alert_incidents, alert_signals
from tests.alerts.helpers import TOKEN, PageSink, Receiver, free_port
from tests.conftest import run_cli
from tests.web.conftest import alert, webhook

LINE = "ERROR payment refused: upstream 10.0.0.{n}:5432 reset after {n}ms"


def _log(minute: int, n: int = 1, namespace: str = "shop", line: str = LINE) -> Signal:
    found = log_signal(line.format(n=n), f"2026-12-01T10:{minute:02d}:00Z",
                      namespace=namespace, pod="api-7d9f8c6b5-x2k9q", container="api")  # fmt: skip
    assert found is not None
    return found


def test_open_after_n_in_m_minutes_links_the_waiting_signals(home: Path) -> None:
    engine = open_store(load_settings())
    triage = Triage(Settings(quiet=quiet.Quiet(open_after=3, within_minutes=10)))
    first = ingest(engine, triage, [_log(0, 1), _log(2, 2)])
    assert (first.stored, first.held, first.opened) == (2, 2, [])
    # 30 minutes later the two are out of the window: a third alone does not open one.
    late = ingest(engine, triage, [_log(32, 3)])
    assert (late.held, late.opened) == (1, [])
    done = ingest(engine, triage, [_log(35, 4), _log(37, 5)])
    assert done.held == 1 and len(done.opened) == 1
    with engine.connect() as conn:
        incident = conn.execute(select(alert_incidents)).one()
        linked = conn.execute(
            select(alert_signals.c.at).where(alert_signals.c.incident_id == incident.id)
        ).scalars()
        waiting = conn.execute(
            select(func.count()).where(alert_signals.c.incident_id.is_(None))
        ).scalar_one()
    assert sorted(linked) == ["2026-12-01T10:32:00Z", "2026-12-01T10:35:00Z",
                              "2026-12-01T10:37:00Z"]  # fmt: skip
    assert incident.signals == 3 and waiting == 2  # the two of 10:00 stay stored, alone
    why = json.loads(incident.explanation)
    assert why["opened"] == "opened on the 3rd signal of its group within 10 min (open_after = 3)"
    assert why["grouped"].startswith("shop/api, LogError T") and "within 4 h" in why["grouped"]
    assert why["reason"]  # and why it was paged or held


def test_a_critical_alert_is_never_held_and_ignore_lists_store_without_incidents(
    home: Path,
) -> None:
    from kubesift.alerts.signals import from_alertmanager

    engine = open_store(load_settings())
    rules = quiet.Quiet(open_after=5, ignore_namespaces=("dev-*",), ignore_names=("CPU*",))
    triage = Triage(Settings(quiet=rules))
    payload = webhook(
        alert("KubePodCrashLooping", "critical", "payments", "f1"),
        alert("CPUThrottlingHigh", "warning", "shop", "f2"),
        alert("KubeDeploymentReplicasMismatch", "warning", "dev-alice", "f3"),
    )
    out = ingest(engine, triage, from_alertmanager(payload, now="2026-12-01T10:00:05Z"))
    assert (out.stored, out.ignored, len(out.opened), len(out.pages)) == (3, 2, 1, 1)
    logs = ingest(engine, triage, [_log(1, namespace="dev-bob")])
    assert (logs.stored, logs.ignored, logs.held) == (1, 1, 0)


def test_the_log_level_threshold() -> None:
    warn = "W1201 10:00:00.000000 1 reflector.go:1] watch ended: very short watch"
    at = "2026-12-01T10:00:00Z"
    assert log_signal(warn, at) is None  # errors only, by default
    assert log_signal(warn, at, min_level="warn") is not None
    assert log_signal("all good", at, level="warning", min_level="warn") is not None
    assert log_signal("disk on fire", at, level="error", min_level="fatal") is None
    assert log_signal("E1201 boom", at, min_level="error").labels["level"] == "error"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"open_after": 0}, "open_after must be a whole number from 1 to 1000"),
        ({"open_after": True}, "open_after must be a whole number"),
        ({"log_level": "info"}, "log_level must be warn, error or fatal, not 'info'"),
        ({"ignore_namespaces": "shop"}, "ignore_namespaces must be a list"),
        ({"within_minutes": 0}, "within_minutes must be more than 0"),
        ({"open_afer": 3}, "unknown setting 'open_afer'"),
    ],
)
def test_a_wrong_setting_is_one_line_naming_it(table: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        quiet.from_config({"alerts": {"quiet": table}})


def test_kubesift_toml_quiets_a_real_receiver(home: Path, tmp_path: Path, sink: PageSink) -> None:
    config = tmp_path / "kubesift.toml"
    config.write_text(
        '[alerts.quiet]\nignore_namespaces = ["kube-node-lease"]\nlog_level = "warn"\n'
        "open_after = 2\nwithin_minutes = 5\n"
    )
    env = {"KUBESIFT_ALERTS_TOKEN": TOKEN, "KUBESIFT_ALERTS_WEBHOOK": sink.url,
           "KUBESIFT_CONFIG": str(config)}  # fmt: skip
    r = Receiver(free_port(), env)
    try:
        k8s = {"namespace_name": "shop", "pod_name": "api-7d9f8c6b5-x2k9q"}
        warn = {
            "date": "2026-12-01T10:00:00Z",
            "log": "WARNING pool nearly full",
            "kubernetes": k8s,
        }
        first = r.post("/v1/logs/fluentbit", [warn]).json()
        assert (first["stored"], first["held"], first["incidents"]) == (1, 1, [])
        second = r.post("/v1/logs/fluentbit", [{**warn, "date": "2026-12-01T10:03:00Z"}]).json()
        assert second["held"] == 0 and len(second["incidents"]) == 1
        lease = {**warn, "kubernetes": {"namespace_name": "kube-node-lease", "pod_name": "x"}}
        assert r.post("/v1/logs/fluentbit", [lease]).json()["ignored"] == 1
        listed = httpx.get(f"{r.url}/v1/incidents", headers={"Authorization": f"Bearer {TOKEN}"})
        [incident] = listed.json()["incidents"]
        assert incident["why"]["opened"].startswith("opened on the 2nd signal")
    finally:
        r.stop()
    bad = tmp_path / "bad.toml"
    bad.write_text("[alerts.quiet]\nopen_after = 0\n")
    lines = tmp_path / "pod.log"
    lines.write_text("ERROR x\n")
    done = run_cli("alerts", "logs", str(lines), "--namespace", "a", "--pod", "b",
                   env={"KUBESIFT_CONFIG": str(bad)})  # fmt: skip
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "open_after must be a whole number" in done.stderr
