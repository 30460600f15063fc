"""The replay generator and `kubesift alerts replay`, on the real kube-prometheus rules;
answers through the CLI change the next model."""

from __future__ import annotations

import json
from pathlib import Path

from kubesift.alerts.generate import generate
from kubesift.alerts.rules import load_rules
from kubesift.cli.common import store
from tests.conftest import run_cli


def test_generated_stream_has_truth_drift_and_all_sources(alert_fixtures: Path) -> None:
    rules = load_rules(alert_fixtures / "kube-prometheus-alerts.tsv")
    assert len(rules) == 139 and {r.severity for r in rules} >= {"critical", "warning", "info"}
    records = generate(rules, days=4, per_day=30, seed=3)
    meta, rest = records[0], records[1:]
    assert meta["kind"] == "meta" and meta["drift_at"] == "2026-09-03T00:00:00Z"
    assert {r["source"] for r in rest} == {"alertmanager", "k8s", "log"}
    truths = [r["truth"] for r in rest if "truth" in r]
    assert any(truths) and not all(truths)
    assert [r["at"] for r in rest] == sorted(r["at"] for r in rest)
    assert generate(rules, days=4, per_day=30, seed=3) == records  # seeded


def test_replay_prints_decisions_and_figures(home: Path, alert_fixtures: Path) -> None:
    stream = home.parent / "stream.jsonl"
    made = run_cli("alerts", "generate", str(stream), "--rules",
                   str(alert_fixtures / "kube-prometheus-alerts.tsv"), "--days", "6",
                   "--per-day", "30")  # fmt: skip
    assert made.returncode == 0, made.stderr
    done = run_cli("alerts", "replay", str(stream), "--json", timeout=300)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    f = out["figures"]
    assert f["pages_grouping"] > 0 and f["pages_everything"] >= f["pages_kubesift"] > 0
    assert 0 < f["recall_needs_human"] <= 1 and f["episodes_later_half"] > 50
    assert out["decisions"] and {"decision", "score", "why", "truth"} <= set(out["decisions"][0])
    bad = run_cli("alerts", "replay", str(alert_fixtures / "kube-prometheus-alerts.tsv"))
    assert bad.returncode == 2 and "not a JSON line" in bad.stderr


def test_answers_through_the_cli_change_the_next_model(home: Path, alert_fixtures: Path) -> None:
    from kubesift.alerts import signals
    from kubesift.alerts.ingest import Triage
    from kubesift.alerts.service import ingest

    engine = store()
    triage = Triage()
    base = json.loads((alert_fixtures / "alertmanager_v4_crashloop_firing.json").read_text())
    for n in range(40):
        payload = json.loads(json.dumps(base))
        alert = payload["alerts"][0]
        name = "NoisyThing" if n % 2 else "RealThing"
        alert["labels"] = {**alert["labels"], "alertname": name, "pod": f"p{n}-7d9f8c6b5-x2k9q"}
        alert["fingerprint"] = f"{n:016x}"
        alert["startsAt"] = f"2026-08-{1 + n // 4:02d}T{10 + n % 4:02d}:00:00Z"
        ingest(engine, triage, signals.from_alertmanager(payload))
    before = run_cli("alerts", "train", "--json")
    assert json.loads(before.stdout)[1]["action"] == "none"  # no answers yet: the prior stays
    for n in range(40):
        answer = "noise" if n % 2 else "important"
        assert run_cli("alerts", "feedback", str(n + 1), answer).returncode == 0
    after = json.loads(run_cli("alerts", "train", "--json").stdout)[1]
    assert after["action"] == "promoted", after
    listing = json.loads(run_cli("alerts", "list", "--json").stdout)
    assert listing["summary"]["model"]["id"] == after["model"]
