"""Grid, flakes, regressions, search and clusters on a generated history with known truth."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from kubesift.ci import clusters, regressions, variants
from kubesift.ci.importer import import_runs
from kubesift.ci.sources import LocalSource
from kubesift.config import load_settings
from kubesift.store import open_store
from kubesift.testing.cihistory import CIHistory, generate
from tests.ci.helpers import END, END_ISO, export_tracked_issues, prow_run
from tests.conftest import run_cli

NOW = "2026-01-01T00:00:00Z"
ISSUES_REPO = "openshift/origin"


@pytest.fixture
def history(home: Path, tmp_path: Path) -> tuple[Engine, CIHistory]:
    h = generate(tmp_path / "tree", end=END, days=37, jobs=8, tests=30, seed=5, noise_rate=0)
    engine = open_store(load_settings())
    import_runs(engine, LocalSource(h.root), variants.load(), now=NOW)
    return engine, h


def _cli_json(*args: str) -> Any:
    done = run_cli("ci", *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_regressions_find_the_injected_ones_and_nothing_else(
    history: tuple[Engine, CIHistory],
) -> None:
    _engine, h = history
    report = _cli_json("regressions", "--end", END_ISO)
    found = {(r["test"], r["variants"].split(",")[0]) for r in report["regressions"]}
    truth = {(r.test, f"Platform:{r.platform}") for r in h.regressions}
    assert found == truth
    assert report["opened"] == len(report["regressions"])  # one record per regressed cell
    worst = report["components"]
    for r in h.regressions:
        comp = r.test.split("]")[0].lstrip("[")
        col = f"Platform:{r.platform},Topology:ha,Network:ovn"
        assert worst[comp][col] in ("SignificantRegression", "ExtremeRegression")
    again = _cli_json("regressions", "--end", END_ISO)
    assert again["opened"] == 0 and {r["regression_id"] for r in again["regressions"]} == {
        r["regression_id"] for r in report["regressions"]
    }


def test_regression_records_close_and_reopen_with_hysteresis(
    history: tuple[Engine, CIHistory],
) -> None:
    engine, _h = history
    cols = list(variants.load().columns)
    with engine.begin() as conn:
        first = regressions.report(conn, cols, end=END_ISO, now=NOW)
        ids = {c.regression_id for c in first.regressed}
        # a week later nothing ran: the cells roll off and close
        later = regressions.report(conn, cols, end="2026-01-09", now="2026-01-09T00:00:00Z")
        assert later.closed == len(ids) and not later.regressed
        # seen again within 5 days of closing: the same records reopen, opened time kept
        back = regressions.report(conn, cols, end=END_ISO, now="2026-01-12T00:00:00Z")
        assert back.reopened == len(ids) and back.opened == 0
        assert {c.regression_id for c in back.regressed} == ids
        assert {c.opened_at for c in back.regressed} == {NOW}
        # closed more than 5 days ago: a new record
        regressions.report(conn, cols, end="2026-01-20", now="2026-01-20T00:00:00Z")
        fresh = regressions.report(conn, cols, end=END_ISO, now="2026-01-30T00:00:00Z")
        assert fresh.opened == len(ids) and not ({c.regression_id for c in fresh.regressed} & ids)


def test_an_open_regression_is_judged_with_hysteresis(history: tuple[Engine, CIHistory]) -> None:
    engine, _h = history
    cols = list(variants.load().columns)
    strict = regressions.Settings(confidence=99, pity=5.0)
    with engine.begin() as conn:
        opened = regressions.report(conn, cols, regressions.Settings(), end=END_ISO, now=NOW)
        kept = regressions.report(conn, cols, strict, end=END_ISO, now=NOW, record=False)
        # at 99 % a fresh cell needs p < 0.01; an open one is judged at 94 %
        assert len(kept.regressed) == len(opened.regressed)


def test_triage_links_a_regression_to_an_issue(history: tuple[Engine, CIHistory]) -> None:
    report = _cli_json("regressions", "--end", END_ISO)
    rid = report["regressions"][0]["regression_id"]
    done = run_cli("ci", "triage", str(rid), "openshift/origin#12")
    assert done.returncode == 0 and "tracked by openshift/origin#12" in done.stdout
    again = _cli_json("regressions", "--end", END_ISO)
    assert {r["issue"] for r in again["regressions"] if r["regression_id"] == rid} == {
        "openshift/origin#12"
    }
    bad = run_cli("ci", "triage", str(rid), "not-an-issue")
    assert bad.returncode == 2 and "owner/name#123" in bad.stderr
    gone = run_cli("ci", "triage", "9999", "a/b#1")
    assert gone.returncode == 2 and "no regression 9999" in gone.stderr


def test_flakes_finds_the_injected_flakes(history: tuple[Engine, CIHistory]) -> None:
    _engine, h = history
    rows = _cli_json("flakes", "--end", END_ISO)
    for f in h.flakes:
        mine = [r for r in rows if r["test"] == f.test]
        assert len(mine) >= len(h.jobs) // 2, f"{f.test}: flaky on {len(mine)} jobs"
        if f.in_run:  # retried and passed in the run: Sippy's flake
            assert all(r["flake_pct"] > 0 and r["working_pct"] == 100.0 for r in mine)
        else:
            assert all(r["flip_flakiness"] > 0 for r in mine)


def test_grid_shows_runs_newest_first_and_alerts_after_three_failures(
    home: Path, tmp_path: Path
) -> None:
    tree = tmp_path / "tree"
    ok = '<testcase name="[sig-node] steady"/>'
    for build, fails in [(1, False), (2, False), (3, True), (4, True), (5, True)]:
        bad = (
            '<testcase name="[sig-node] broken"><failure>boom</failure></testcase>'
            if fails
            else '<testcase name="[sig-node] broken"/>'
        )
        xml = f'<testsuite name="e2e">{ok}{bad}</testsuite>'.encode()
        prow_run(
            tree,
            f"logs/ci-e2e-kind/{build}",
            started=END - 10_000 + build * 100,
            finished={"timestamp": END - 9_000 + build * 100, "passed": not fails},
            junit={"junit_01.xml": xml},
        )
    assert run_cli("ci", "import", str(tree)).returncode == 0
    grid = _cli_json("grid", "ci-e2e-kind")
    assert [c["build"] for c in grid["columns"]] == ["5", "4", "3", "2", "1"]
    rows = {r["name"]: r for r in grid["rows"]}
    assert rows["[sig-node] broken"]["cells"] == [12, 12, 12, 1, 1]
    assert rows["[sig-node] broken"]["alert"] == {
        "fail_count": 3,
        "first_fail": "3",
        "latest_fail": "5",
        "last_pass": "2",
    }
    assert rows["Overall"]["cells"] == [12, 12, 12, 1, 1] and grid["alerts"] == 2
    assert rows["[sig-node] broken"]["messages"][0] == "boom"
    failing = _cli_json("grid", "ci-e2e-kind", "--failing")
    assert [r["name"] for r in failing["rows"]] == ["Overall", "[sig-node] broken"]
    unknown = run_cli("ci", "grid", "ci-e2e-kin")
    assert unknown.returncode == 2 and "no CI job named 'ci-e2e-kin'" in unknown.stderr
    assert "did you mean ci-e2e-kind" in unknown.stderr


def test_search_says_where_and_since_when(history: tuple[Engine, CIHistory]) -> None:
    _engine, h = history
    reg = next(r for r in h.regressions if "i/o timeout" in _template(r.error))
    res = _cli_json("search", "i/o timeout", "--days", "7", "--end", END_ISO, "--by", "day")
    assert res["matching_runs"] > 0
    assert {j["job"].split("-e2e-")[1].split("-")[0] for j in res["jobs"]} == {reg.platform}
    assert res["tests"][0]["name"] == reg.test
    counts = {b["at"]: b["runs"] for b in res["histogram"]["counts"]}
    assert len(counts) == 7
    assert all(c == 0 for d, c in counts.items() if d < "2025-12-28")  # it started 4 days ago
    assert counts["2025-12-28"] > 0
    assert res["histogram"]["bucket"] == "day"
    only = _cli_json("search", "i/o timeout", "--days", "7", "--end", END_ISO, "--job", "-ovn$")
    assert only["jobs"] and all(j["job"].endswith("-ovn") for j in only["jobs"])
    assert 0 < only["matching_runs"] < res["matching_runs"]
    # no literal to narrow by: every text is read, the same runs are found
    loose = _cli_json("search", r"i.o\s+timeout", "--days", "7", "--end", END_ISO)
    assert loose["matching_runs"] == res["matching_runs"]
    # capitals make the pattern case-sensitive (smart case, like ripgrep)
    assert _cli_json("search", "I/O TIMEOUT", "--days", "7", "--end", END_ISO)["matching_runs"] == 0
    bad = run_cli("ci", "search", "([", "--end", END_ISO)
    assert bad.returncode == 2 and "not a valid regular expression" in bad.stderr
    when = run_cli("ci", "search", "x", "--end", "yesterday")
    assert when.returncode == 2 and "not a date or time" in when.stderr


def _template(i: int) -> str:
    from kubesift.testing.cihistory import ERRORS

    return ERRORS[i]


def test_clusters_are_pure_and_name_the_issue_that_tracks_them(
    history: tuple[Engine, CIHistory],
) -> None:
    engine, h = history
    numbers = export_tracked_issues(engine, h, ISSUES_REPO)
    with engine.connect() as conn:
        found = clusters.clusters(conn, days=37, end=END_ISO)
        rows = clusters.failures(conn, clusters.queries.window(37, END_ISO))
        texts = clusters.queries.texts(conn, {r["text_id"] for r in rows})
    total = sum(c.failures for c in found)
    assert total == len(rows)
    # purity: each cluster's failures mostly come from one error template
    text_of = {(r["run_id"], r["test_id"]): texts[r["text_id"]] for r in rows}
    majority = 0
    for c in found:
        truth = Counter(h.error_of_text[text_of[m]] for m in c.members)
        majority += truth.most_common(1)[0][1]
    assert majority / total >= 0.9
    tracked = {t: n for t, n in numbers.items()}
    checked = 0
    for c in found:
        top = c.tests[0][0]
        if c.failures >= 5 and top in tracked:
            assert c.issue is not None and c.issue.number == tracked[top], (top, c.issue)
            assert c.issue.state == "open"
            checked += 1
    assert checked >= 2
    # through the CLI too, and the search finds the issue that quotes the error
    out = _cli_json("clusters", "--days", "37", "--end", END_ISO)
    assert any(c["issue"] and c["issue"]["repo"] == ISSUES_REPO for c in out)
    res = _cli_json("search", "i/o timeout", "--days", "7", "--end", END_ISO)
    assert any(i["repo"] == ISSUES_REPO and i["state"] == "open" for i in res["issues"])


def test_rederive_applies_changed_rules_to_stored_runs(
    history: tuple[Engine, CIHistory], tmp_path: Path
) -> None:
    _engine, h = history
    rules = tmp_path / "rules.toml"
    rules.write_text(
        'columns = ["Cloud"]\n'
        '[[variant]]\nname = "Cloud"\ndefault = "other"\nrules = [["-aws-", "amazon"]]\n'
        '[components]\n"Secrets" = "team-secrets"\n'
    )
    done = run_cli("ci", "rederive", "--variants", str(rules), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["jobs_changed"] == len(h.jobs) and result["variant_rows"] > 0
    jobs = {j["name"]: j["variants"] for j in _cli_json("jobs")}
    assert {v for n, v in jobs.items() if "-aws-" in n} == {"Cloud:amazon"}
    report = _cli_json("regressions", "--end", END_ISO, "--variants", str(rules), "--no-record")
    assert {r["column"] for r in report["regressions"]} <= {"Cloud:amazon", "Cloud:other"}
    assert report["regressions"]  # still found, now per Cloud
    bad = tmp_path / "bad.toml"
    bad.write_text('columns = ["Nope"]\n[[variant]]\nname = "Cloud"\n')
    failed = run_cli("ci", "rederive", "--variants", str(bad))
    assert failed.returncode == 2 and "columns name unknown variants ['Nope']" in failed.stderr


def test_informing_tests_are_not_judged(home: Path, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    for k in range(74):  # 37 days, two runs a day; both tests break 5 days before the end
        at = END - 37 * 86_400 + k * 43_200
        broken = at > END - 5 * 86_400
        cases = "".join(
            f'<testcase name="[sig-node] {name}"{extra}>'
            + ("<failure>boom</failure>" if broken else "")
            + "</testcase>"
            for name, extra in (("blocking one", ""), ("informing one", ' lifecycle="informing"'))
        )
        xml = f'<testsuite name="e2e">{cases}</testsuite>'.encode()
        prow_run(tree, f"logs/periodic-e2e-aws-ovn/{k + 1}", started=at,
                 finished={"timestamp": at + 60, "passed": not broken},
                 junit={"junit_01.xml": xml})  # fmt: skip
    assert run_cli("ci", "import", str(tree)).returncode == 0
    report = _cli_json("regressions", "--end", END_ISO)
    assert [r["test"] for r in report["regressions"]] == ["[sig-node] blocking one"]


def test_search_shares_are_never_over_100_and_count_what_they_say(
    history: tuple[Engine, CIHistory],
) -> None:
    """An in-run flake fails and then passes in a run that succeeds: its text matches in
    runs that did not fail. "% of failures" counts only the matching runs that failed
    (it once divided every matching run by the failed ones: 600 %)."""
    engine, h = history
    flake = next(f for f in h.flakes if f.in_run)
    literal = _template(flake.error).split("{")[0].strip()[:40]
    res = _cli_json("search", re.escape(literal), "--days", "37", "--end", END_ISO,
                    "--in", "failures")  # fmt: skip
    assert res["jobs"], literal
    caseless = not any(c.isupper() for c in literal)  # smart case, as the search reads it
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "select j.name, u.id, u.state, t.text from ci_runs u "
                "join ci_jobs j on j.id = u.job_id join ci_results r on r.run_id = u.id "
                "join ci_texts t on t.id = r.text_id "
                "where u.started_at >= :start and u.started_at < :end"
            ),
            {"start": res["window"]["start"], "end": res["window"]["end"]},
        ).all()
    hit: dict[str, set[int]] = {}
    failed_hit: dict[str, set[int]] = {}
    for job, run, state, body in rows:
        if (literal.lower() in body.lower()) if caseless else (literal in body):
            hit.setdefault(job, set()).add(run)
            if state != "success":
                failed_hit.setdefault(job, set()).add(run)
    assert any(j["matching_runs"] > j["matching_failed_runs"] for j in res["jobs"])
    for j in res["jobs"]:
        assert 0 <= j["pct_of_runs"] <= 100 and 0 <= j["pct_of_failures"] <= 100, j
        assert j["matching_runs"] == len(hit[j["job"]])
        assert j["matching_failed_runs"] == len(failed_hit.get(j["job"], ())), j
        share = 100 * j["matching_failed_runs"] / j["failed_runs"] if j["failed_runs"] else 0
        assert j["pct_of_failures"] == round(share, 2)


def _first_column(out: str) -> str:
    """The first column of a Rich table, its folded pieces joined back together."""
    cells = [line.split("│")[1].strip() for line in out.splitlines() if line.startswith("│")]
    return "".join(cells)


def test_tables_show_whole_job_names_in_a_narrow_terminal(
    history: tuple[Engine, CIHistory],
) -> None:
    _engine, h = history
    done = run_cli("ci", "jobs", env={"COLUMNS": "80"})
    assert done.returncode == 0, done.stderr
    assert "…" not in done.stdout
    assert max(len(line) for line in done.stdout.splitlines()) <= 80
    shown = _first_column(done.stdout)
    assert all(job in shown for job in h.jobs), (h.jobs, done.stdout)
    assert len(h.jobs[0]) > 40  # long enough to have been cut before
