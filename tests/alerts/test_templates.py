"""Log templates: the same message across pods and times is one template."""

from __future__ import annotations

import json
from pathlib import Path

from kubesift.alerts.templates import Miner, mask, mine
from tests.conftest import run_cli


def test_masks_the_variable_parts() -> None:
    line = (
        "Aug 17 17:04:34.854: INFO: Waiting up to 5m0s for pod "
        '"pod-projected-secrets-4df4c370-3683-4c1c-9fe1-037c7059cdd2" in namespace '
        '"projected-7279" on 10.244.0.5:8080 after 3 tries (0x7f3a)'
    )
    assert mask(line) == (
        '<TIME>: INFO: Waiting up to <DUR> for pod "pod-projected-secrets-<UUID>" in '
        'namespace "projected<ID>" on <IP> after <NUM> tries (<HEX>)'
    )


def test_the_same_message_from_other_pods_is_one_template() -> None:
    lines = [
        'I0817 17:04:34.750065 24 kubelet.go:1234] Pod "web-7d4b9c-x2k4p" failed: OOMKilled',
        'I0817 18:11:02.000001 24 kubelet.go:1234] Pod "api-5f6d8b-qq9z1" failed: OOMKilled',
        'I0817 19:00:00.123456 31 kubelet.go:1234] Pod "db-0" failed: OOMKilled',
        "E0817 19:00:01.000000 31 server.go:77] listen tcp 0.0.0.0:443: bind: address in use",
    ]
    found = mine(lines)
    assert found[0][0] == found[1][0] == found[2][0] != found[3][0]
    assert found[0][1] == "<TIME> <NUM> kubelet.go:<NUM>] Pod <*> failed: OOMKilled"


def test_dissimilar_lines_of_one_length_stay_apart() -> None:
    miner = Miner(similarity=0.5)
    a = miner.add("connection refused by upstream server")
    b = miner.add("certificate expired for upstream server")
    assert a.id != b.id  # 2 of 5 tokens agree: under the threshold


def test_the_cli_on_a_real_kubernetes_build_log(ci_fixtures: Path) -> None:
    log = ci_fixtures / "sonobuoy-e2e" / "e2e.head.log"
    done = run_cli("alerts", "templates", str(log), "--json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert len(rows) == 300 and rows[0]["line"] == 1
    ids = {r["template_id"] for r in rows}
    assert len(ids) < 150  # the many pods, namespaces and times collapse
    steps = {r["template"] for r in rows if "basename" in r["template"]}
    assert steps == {"STEP: Building a namespace api object, basename <*>"}
    missing = run_cli("alerts", "templates", "/nonexistent/file.log")
    assert missing.returncode == 2 and "cannot read /nonexistent/file.log" in missing.stderr


def test_grouping_accuracy_counts_lines_whose_group_is_exactly_their_event() -> None:
    from kubesift.alerts.templates import grouping_accuracy

    assert grouping_accuracy([1, 1, 2, 3], ["a", "a", "b", "b"]) == 0.5  # b split in two
    assert grouping_accuracy([1, 1, 1], ["a", "a", "b"]) == 0.0  # a and b merged
    assert grouping_accuracy([7, 7, 9], ["x", "x", "y"]) == 1.0


def test_labelled_kubernetes_style_lines_are_grouped_by_their_event() -> None:
    from kubesift.alerts.templates import grouping_accuracy
    from kubesift.testing.logsamples import labelled_lines

    data = labelled_lines(2000, seed=9)
    found = mine([line for _, line in data])
    assert grouping_accuracy([t for t, _ in found], [e for e, _ in data]) >= 0.95
