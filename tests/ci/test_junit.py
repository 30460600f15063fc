"""JUnit parsing against Kettle's goldens, the Sonobuoy run, Sippy's in-run flake rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubesift.ci import junit
from kubesift.errors import CIInputError


@pytest.mark.parametrize(
    "name",
    [
        "standard.xml",
        "junit_no_suite_name.xml",
        "failure_message.xml",
        "failure_text.xml",
        "malformed_no_testcase_name.xml",
    ],
)
def test_kettle_goldens(name: str, ci_fixtures: Path, vectors: dict[str, Any]) -> None:
    expected = vectors["kettle_parse_junit"]["expected"][name]
    cases = junit.parse((ci_fixtures / "kettle" / name).read_bytes(), name)
    assert junit.kettle_rows(cases) == expected


def test_a_malformed_file_is_an_error_naming_it(ci_fixtures: Path) -> None:
    data = (ci_fixtures / "kettle" / "malformed.xml").read_bytes()
    with pytest.raises(CIInputError, match=r"^artifacts/junit_01\.xml: malformed XML"):
        junit.parse(data, "artifacts/junit_01.xml")


def test_the_sonobuoy_run_has_its_real_counts(ci_fixtures: Path) -> None:
    cases = junit.parse((ci_fixtures / "sonobuoy-e2e" / "junit_01.xml").read_bytes())
    outcomes, skipped = junit.outcomes(cases)
    assert sum(o.status == junit.FAIL for o in outcomes) == 4
    assert sum(o.status == junit.PASS for o in outcomes) == 21
    assert skipped == 50
    failed = [o for o in outcomes if o.status == junit.FAIL]
    assert all(o.suite == "Kubernetes e2e suite" for o in failed)
    assert any("at least 2 nodes" in o.text for o in failed)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">]>
<testsuite><testcase name="&lol2;"/></testsuite>"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>
<testsuite><testcase name="&e;"/></testsuite>"""


@pytest.mark.parametrize("data", [BILLION_LAUGHS, EXTERNAL])
def test_hostile_xml_is_refused(data: bytes) -> None:
    with pytest.raises(CIInputError, match="refused hostile XML"):
        junit.parse(data, "evil.xml")


def test_not_junit_is_refused() -> None:
    with pytest.raises(CIInputError, match=r"not a JUnit file \(root element <html>\)"):
        junit.parse(b"<html><body/></html>", "x.xml")


RETRIES = b"""<testsuites><testsuite name="openshift-tests">
 <testcase name="[sig-node] a"><failure message="boom">first try</failure></testcase>
 <testcase name="[sig-node] a"/>
 <testcase name="[sig-node] b"><failure>x</failure></testcase>
 <testcase name="[sig-node] b"><failure>y</failure></testcase>
 <testcase name="[sig-node] c" lifecycle="informing"><skipped/></testcase>
 <testcase name="[sig-node] d" lifecycle="informing"/>
 <testsuite name="inner"><testcase name="[sig-node] a"><error>oops</error></testcase></testsuite>
 <testcase name="a.b"/><testcase name="a"/>
</testsuite></testsuites>"""


def test_sippy_in_run_rules(vectors: dict[str, Any]) -> None:
    codes = vectors["sippy_flake_in_run"]["status_codes"]
    assert (codes["success"], codes["failure"], codes["flake"]) == (
        junit.PASS,
        junit.FAIL,
        junit.FLAKY,
    )
    got, skipped = junit.outcomes(junit.parse(RETRIES))
    by_key = {(o.suite, o.name): o for o in got}
    flake = by_key[("openshift-tests", "[sig-node] a")]
    assert flake.status == junit.FLAKY and flake.attempts == 2
    assert flake.text == "boom\nfirst try"  # the failure output is kept
    assert by_key[("openshift-tests", "[sig-node] b")].status == junit.FAIL
    assert skipped == 1  # skipped cases are dropped, but counted
    assert by_key[("inner", "[sig-node] a")].status == junit.FAIL  # a child suite uses its name
    assert {("openshift-tests", "a.b"), ("openshift-tests", "a")} <= set(by_key)
    assert by_key[("openshift-tests", "[sig-node] d")].lifecycle == "informing"
    assert by_key[("inner", "[sig-node] a")].lifecycle == "blocking"  # empty = blocking


def test_ginkgo_v2_status_attribute_and_long_text() -> None:
    long = "x" * 30_000
    data = f"""<testsuites><testsuite name="Kubernetes e2e suite">
      <testcase name="[It] t1" status="skipped"><skipped message="skipped - reason"/></testcase>
      <testcase name="[It] t2" status="timedout"><error type="timedout">{long}</error></testcase>
    </testsuite></testsuites>""".encode()
    got, skipped = junit.outcomes(junit.parse(data))
    assert skipped == 1 and len(got) == 1 and got[0].status == junit.FAIL
    assert len(got[0].text) <= junit.MAX_TEXT and "[truncated]" in got[0].text
