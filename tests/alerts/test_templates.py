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


TESTS = [
    "should provide DNS for services",
    "should mutate configmap",
    "should be consumable from pods in volume with defaultMode set [LinuxOnly]",
    "should support (root,0644,tmpfs) [LinuxOnly] [NodeConformance]",
    "should have session affinity timeout work for NodePort service",
]


def e2e_like(rounds: int = 1) -> list[str]:
    """Kubernetes e2e output: fixed steps that recur in every test, and each test's
    name (free text of any length) once after [It] (each round runs other tests)."""
    lines = []
    for r in range(rounds):
        for n, name in enumerate(TESTS):
            lines += [
                "STEP: Creating a kubernetes client",
                f"STEP: Building a namespace api object, basename test-{r}{n}",
                f"[It] {name} [Conformance]" if r == 0 else f"[It] {name} on run {r}",
                f'STEP: Destroying namespace "test-{r}{n}" for this suite.',
            ]
    return lines


def test_free_text_of_any_length_is_one_template_and_fixed_steps_stay_apart() -> None:
    lines = e2e_like()
    found = dict(zip(lines, mine(lines), strict=True))
    [(_, template)] = {found[f"[It] {name} [Conformance]"] for name in TESTS}
    assert template == "[It] should <...>"  # five names, 3 to 10 words: one event
    steps = {found[line][0] for line in lines if line.startswith("STEP:")}
    assert len(steps) == 3  # creating, building, destroying: each its own


def test_a_receiver_merges_free_text_once_it_had_time_to_recur_and_keeps_it() -> None:
    miner = Miner(tail_every=30)
    first = [miner.add(line) for line in e2e_like(1)]
    assert len({t.id for t in first}) == 8  # 20 lines: too soon to say what is free text
    later = [miner.add(line) for line in e2e_like(3)]  # line 60 looks at lines 1-30
    it = later[-2]
    assert it.text == "[It] should <...>"
    assert miner.add("[It] should do what was never done before").id == it.id
    # A restarted receiver gets its templates back from the store, in id order.
    again = Miner(tail_every=40)
    for t in sorted(miner.templates, key=lambda t: t.id):
        again.restore(type(t)(t.id, list(t.tokens), t.count))
    assert again.add("[It] should pass yet another test").id == it.id
    assert again.add("[It] should mutate configmap [Conformance]").id == it.id
    assert again.add("STEP: Creating a kubernetes client").text == (
        "STEP: Creating a kubernetes client"
    )


def test_rare_lines_of_different_programs_never_become_one_tail() -> None:
    lines = [
        "E1207 10:00:00.000001 1 reflector.go:138] failed to list pods",
        "E1207 10:00:01.000001 1 server.go:77] listen tcp: bind: address already in use",
        "E1207 10:00:02.000001 1 controller.go:9] sync failed for deployment shop/api again",
    ]
    found = mine(lines)
    assert len({t for t, _ in found}) == 3  # a klog header is not an event's prefix
