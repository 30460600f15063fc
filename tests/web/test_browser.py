"""The dashboard in a real headless Chromium (Debian's), over the DevTools protocol: every
page fills its tables, every same-site link answers, a click path per page works, and
no page logs a console error, throws, or fails a request."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import httpx
import pytest

from kubesift.testing.browser import CHROMIUM, Browser
from tests.web.conftest import REPO, TIMELINE_JOB, TOKEN, Web

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="/usr/bin/chromium is missing (apt-get install chromium)"
)

APP_TEXT = "document.getElementById('app').innerText"


def check_page(b: Browser, base: str, path: str, expected: str) -> None:
    """``path`` renders ``expected``, finished loading without an error, and every link
    of this site on it answers 200."""
    b.open(f"{base}{path}")
    text = b.js(APP_TEXT)
    assert expected in text, f"{path}: {expected!r} not in {text[:500]!r}"
    assert "Loading…" not in text and "Could not load" not in text, path
    links = b.js("[...document.querySelectorAll('a[href]')].map(a => a.href)")
    for link in links:
        if link.startswith(base):
            assert httpx.get(link, timeout=10).status_code == 200, f"{path} links to {link}"


def set_token(b: Browser) -> None:
    b.js(f"(() => {{ const t = document.getElementById('token'); t.value = '{TOKEN}';"
         " t.dispatchEvent(new Event('change')); })()")  # fmt: skip


def triage(b: Browser, issue: str) -> None:
    b.js(f"document.querySelector('#regressions form.triage input').value = {issue!r}")
    b.click("#regressions form.triage button")


def test_every_page_renders_with_working_links_and_no_errors(web: Web) -> None:
    name, version = web.model_ref.split("@")
    with Browser() as b:
        check_page(b, web.url, "/", web.model_ref)
        assert ".0" not in b.js("document.getElementById('cards').innerText")
        check_page(b, web.url, "/models", web.model_ref)
        check_page(b, web.url, "/project", "Issues and pull requests created")
        project = httpx.get(f"{web.url}/api/project", timeout=30).json()
        drawn = [a for a in project["analyses"] if a["rows"] and a["chart"] != "facets"]
        assert b.js("document.querySelectorAll('#charts .uplot canvas').length") >= len(drawn)
        # The page's figures are the API's: the created chart ends at the items counted.
        created = next(a for a in project["analyses"] if a["name"] == "created")
        last = created["rows"][-1]
        assert last["created"] == project["items"]
        caption = b.js("document.querySelector('#created .caption').innerText")
        unit = created["units"]["created"]  # what it counts: "issues and pull requests"
        assert caption == f"Latest ({last['date']}): created {last['created']:,} {unit}.", caption
        assert f"{project['items']:,} items" in b.js("document.getElementById('scope').innerText")
        # Units on the axes: time to merge in days on one axis, PRs merged on the other.
        legend = b.js(
            "[...document.querySelectorAll('#time-to-merge .u-label')].map(e => e.innerText)"
        )
        assert "median_days (days from opened to merged)" in legend, legend
        assert "merged (pull requests merged)" in legend, legend
        check_page(b, web.url, f"/models/{name}/{version}", "kind/bug")
        check_page(b, web.url, "/bot", f"{REPO}#1119")
        check_page(b, web.url, "/ci", "kubernetes/kubernetes#4242")
        check_page(b, web.url, "/alerts", "KubePodCrashLooping")
        inbox = httpx.get(f"{web.url}/api/alerts/incidents", timeout=10).json()
        d, q = inbox["decisions"], inbox["quality"]
        line = b.js("document.getElementById('summary-line').innerText")
        assert line.startswith(
            f"{q['incidents']} incidents = {d['page']} paged + {d['digest']} in a digest + "
            f"{d['record']} recorded + {d['drop']} dropped"
        ), line
        cards = b.js("document.getElementById('summary').innerText")
        if q["precision"] is None:  # an empty figure says why
            assert q["why"]["precision"] in cards, cards
        assert b.errors == []


def test_click_paths_models_bot_and_alerts(web: Web, tmp_path: Path) -> None:
    with Browser() as b:
        b.open(f"{web.url}/")
        b.click('a.card[href="/models"]')
        assert b.js("location.pathname") == "/models"
        assert b.js("document.querySelectorAll('#deployed-weekly .uplot canvas').length") >= 1
        weekly = httpx.get(f"{web.url}/api/models", timeout=10).json()["online_weekly"]
        week = weekly["rows"][-1]
        shown = b.js("document.querySelector('#deployed-weekly .caption').innerText")
        column = weekly["columns"][1]
        assert shown.startswith(f"Latest ({week['week']}): {column} {week[column]:.3f}"), shown
        b.click('#versions a[href^="/models/"]')
        assert b.js("location.pathname") == f"/models/{web.model_ref.replace('@', '/')}"
        assert "kind/bug" in b.js("document.getElementById('promises').innerText")
        detail = httpx.get(
            f"{web.url}/api/models/{web.model_ref.replace('@', '/')}", timeout=10
        ).json()
        reasons = [p["abstains_because"] for p in detail["promises"] if p["abstains_because"]]
        shown = b.js("document.getElementById('abstains').innerText")
        assert reasons and all(r in shown for r in reasons), (reasons, shown)
        assert "promise" in b.js("document.querySelector('#facts dl').innerText")
        assert b.js("document.getElementById('state').innerText") == "In production."
        assert b.js("document.querySelectorAll('#online-weekly .uplot canvas').length") >= 1
        assert b.js("document.querySelector('#curves img').naturalWidth") > 100

        # Every registry's production model side by side; one repository's own opens.
        b.open(f"{web.url}/models")
        deployed = b.js("document.getElementById('deployed').innerText")
        for registry in ("release notes", "issues and PRs, every repository",
                         "issues and PRs of kubernetes/kubernetes"):  # fmt: skip
            assert registry in deployed, deployed
        b.click('#deployed a[href*="repo="]')
        assert "repo=kubernetes%2Fkubernetes" in b.js("location.search")
        facts = b.js("document.querySelector('#facts dl').innerText")
        assert "kubernetes/kubernetes (its own model)" in facts, facts
        assert "kind/feature" in b.js("document.getElementById('evaluation').innerText")

        b.open(f"{web.url}/bot")
        assert b.js("document.querySelectorAll('#decisions tbody tr').length") == 50
        b.js("document.querySelector('#filters [name=label]').value = 'kind/bug'")
        b.click("#filters button[type=submit]")
        labels = b.js(
            "[...document.querySelectorAll('#decisions tbody tr')].map(r => r.cells[3].innerText)"
        )
        assert labels and set(labels) == {"kind/bug"}
        assert "label=kind%2Fbug" in b.js("location.search")
        b.click("#pager button:last-child")  # older
        assert "page 2 of 2" in b.js("document.getElementById('pager').innerText")

        b.open(f"{web.url}/alerts?decision=page")
        set_token(b)
        b.click("#incidents tbody tr button")  # "needed"
        assert "Recorded" in b.js("document.getElementById('status').innerText")
        answers = b.js("document.querySelector('#incidents tbody tr').cells[7].innerText")
        assert answers == "1"
        assert b.errors == []

        shot = tmp_path / "overview.png"
        b.open(f"{web.url}/")
        b.screenshot(shot)
        assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 20_000
        # `make screenshots` sets this to refresh the README's picture.
        target = os.environ.get("KUBESIFT_SCREENSHOTS")
        if target:
            shutil.copy(shot, Path(target) / "dashboard-overview.png")


def test_ci_click_path_from_the_table_to_the_tracking_issue(web: Web) -> None:
    jobs = httpx.get(f"{web.url}/api/ci/jobs", timeout=10).json()
    test = jobs["regressions"][0]["test"]
    grids = {
        j["name"]: httpx.get(f"{web.url}/api/ci/grid", params={"job": j["name"]}, timeout=10).json()
        for j in jobs["jobs"]
    }
    job = next(
        name for name, g in grids.items() if any(r["issue"] and 12 in r["cells"] for r in g["rows"])
    )
    with Browser() as b:
        b.open(f"{web.url}/ci")
        b.click("#readiness td.ready[title$='TriagedRegression']")  # → the triaged regressed cell
        assert test in b.js("document.getElementById('cell').innerText")
        assert b.js("document.querySelector('#cell a.issue').href").endswith("/issues/4242")
        b.click(f'#jobs a[href="/ci/grid?job={job}"]')
        assert b.js("location.search") == f"?job={job}"
        assert b.js("document.querySelectorAll('#grid td.cell').length") > 0
        # The run's red cell in the Overall row lists its failed tests; one opens its failure.
        clicked = b.js(
            "(() => { const rows = [...document.querySelectorAll('#grid tbody tr')];"
            f" const row = rows.find(r => r.cells[0].innerText.startsWith({test!r}));"
            " const i = row ? [...row.cells].findIndex(c => c.classList.contains('s12')) : -1;"
            " if (i < 0) return false; rows[0].cells[i].click(); return true; })()"
        )
        assert clicked, f"no red cell for {test}"
        overall = b.js("document.getElementById('failure').innerText")
        assert "Overall: fail in build" in overall and "failed" in overall, overall
        b.click("#failure-detail li a")
        b.loaded()  # the panel asks the API for the whole failure, its cluster and issue
        panel = b.js("document.getElementById('failure').innerText")
        assert test in panel and "fail in build" in panel
        assert "(no failure text recorded)" not in panel  # the failure's text is shown
        link = b.js("document.querySelector('#failure a.issue').href")
        assert link == "https://github.com/kubernetes/kubernetes/issues/4242"
        assert "failures of" in b.js("document.querySelector('#failure p.cluster').innerText")
        b.click("#failure p.cluster a")  # → its cluster on the CI page
        assert b.js("location.pathname + location.hash").startswith("/ci#cluster-")
        assert test in b.js("document.querySelector('#clusters tr.focus').innerText")
        assert b.errors == []


def test_a_runs_timeline_from_the_grid_highlights_its_failed_test(web: Web) -> None:
    from kubesift.testing.ciruns import FAILED_TEST, NODE

    with Browser() as b:
        b.open(f"{web.url}/ci/grid?job={TIMELINE_JOB}")
        b.click("#grid thead th.build a")  # the build's column header → its timeline
        b.loaded()
        assert b.js("location.pathname") == "/ci/run"
        summary = b.js("document.getElementById('run-summary').innerText")
        assert summary.startswith("failure:") and "1 failed tests" in summary, summary
        failed = b.js(
            "[...document.querySelectorAll('#timeline .lane.failed .name')].map(e => e.innerText)"
        )
        assert FAILED_TEST in failed, failed
        # the failed test's bar is drawn highlighted, and the node's NotReady lies inside it
        box = (
            "(sel) => { const r = document.querySelector(sel).getBoundingClientRect();"
            " return [r.left, r.right]; }"
        )
        test_bar = b.js(f"({box})('#timeline .lane.failed[data-kind=test] .bar.failed')")
        node_bar = b.js(f"({box})('#timeline .lane[data-kind=node] .bar.warning')")
        assert test_bar[0] <= node_bar[0] and node_bar[1] <= test_bar[1], (test_bar, node_bar)
        assert NODE in b.js("document.getElementById('timeline').innerText")
        title = b.js("document.querySelector('#timeline .bar.failed[data-source=junit]').title")
        assert "junit: failed in 120.0 s" in title, title
        # filter to failed tests only: nodes and pods go
        b.js(
            "(() => { const s = document.querySelector('#filters [name=only]');"
            " s.value = 'failed'; s.dispatchEvent(new Event('change', {bubbles: true})); })()"
        )
        b.loaded()
        kinds = b.js("[...new Set([...document.querySelectorAll('#timeline .lane')]"
                     ".map(l => l.dataset.kind))]")  # fmt: skip
        assert kinds == ["test"], kinds
        assert b.errors == []


def test_symptoms_show_on_the_grid_and_regressions_and_can_be_defined(web: Web) -> None:
    from tests.web.conftest import OOM_SYMPTOM

    regression = httpx.get(f"{web.url}/api/ci/jobs", timeout=10).json()["regressions"][0]
    [share] = regression["symptoms"]
    assert share["id"] == OOM_SYMPTOM.id and 0 < share["share"] <= 1
    job = next(
        j["name"] for j in httpx.get(f"{web.url}/api/ci/jobs", timeout=10).json()["jobs"]
        if any(c["symptoms"] for c in httpx.get(f"{web.url}/api/ci/grid",
               params={"job": j["name"]}, timeout=10).json()["columns"])
    )  # fmt: skip
    with Browser() as b:
        b.open(f"{web.url}/ci")
        shown = b.js("document.getElementById('regressions').innerText")
        assert f"{OOM_SYMPTOM.summary} {100 * share['share']:.0f}%" in shown, shown
        assert OOM_SYMPTOM.id in b.js("document.getElementById('symptoms').innerText")
        b.open(f"{web.url}/ci/grid?job={job}")
        tab = httpx.get(f"{web.url}/api/ci/tabs", params={"job": job}, timeout=10).json()
        state = b.js("document.getElementById('tab-state').innerText")
        assert state.startswith(f"{tab['rows'][0]['state']} {tab['rows'][0]['reason']}"), state
        mark = b.js("document.querySelector('#grid thead .symptom-mark').title")
        assert mark == f"symptoms: {OOM_SYMPTOM.summary}", mark
        # the token holder defines one from the dashboard; it is applied to history
        b.open(f"{web.url}/ci")
        set_token(b)
        fields = {"id": "api-timeout", "summary": "API server unreachable", "matcher": "regex",
                  "pattern": "dial tcp [0-9.]+:6443: i/o timeout"}  # fmt: skip
        b.js("(() => { const f = document.getElementById('symptom-form').elements;"
             + "".join(f" f.namedItem({k!r}).value = {v!r};" for k, v in fields.items())
             + " })()")  # fmt: skip
        b.click("#symptom-form button[type=submit]")
        b.loaded()
        status = b.js("document.getElementById('symptom-status').innerText")
        assert status.startswith("Symptom api-timeout applied to"), status
        assert "labels 0" not in status
        assert "api-timeout" in b.js("document.getElementById('symptoms').innerText")
        assert b.errors == []
    listed = httpx.get(f"{web.url}/api/ci/symptoms", timeout=10).json()["rows"]
    assert {r["id"]: r["origin"] for r in listed} == {"api-timeout": "dashboard",
                                                      "oom-kill": "file"}  # fmt: skip
    # a file-defined symptom cannot be removed from the dashboard, and removal needs the token
    gone = httpx.delete(f"{web.url}/api/ci/symptoms/oom-kill", timeout=10,
                        headers={"Authorization": f"Bearer {TOKEN}"})  # fmt: skip
    assert gone.status_code == 400 and "defined from the file" in gone.json()["error"]
    assert httpx.delete(f"{web.url}/api/ci/symptoms/api-timeout", timeout=10).status_code == 401
    removed = httpx.delete(f"{web.url}/api/ci/symptoms/api-timeout", timeout=10,
                           headers={"Authorization": f"Bearer {TOKEN}"})  # fmt: skip
    assert removed.status_code == 200


def test_ci_flakes_search_and_triage(web: Web) -> None:
    from tests.web.test_api import found_words

    flake = web.ci.flakes[0]
    with Browser() as b:
        b.open(f"{web.url}/ci")
        assert flake.test in b.js("document.getElementById('flakes').innerText")
        b.js(f"document.querySelector('#search [name=q]').value = {found_words(web)!r}")
        b.click("#search button[type=submit]")
        results = b.js("document.getElementById('search-results').innerText")
        assert "runs" in results and "First seen in this window" in results, results
        assert b.js("document.querySelectorAll('#search-results .uplot canvas').length") >= 1
        assert "q=" in b.js("location.search")

        set_token(b)
        triage(b, "openshift/origin#5")
        status = b.js("document.getElementById('ci-status').innerText")
        assert "tracked by openshift/origin#5" in status, status
        assert "openshift/origin#5" in b.js("document.getElementById('regressions').innerText")
        assert "openshift/origin#5" in b.js("document.getElementById('triages').innerText")
        triage(b, "kubernetes/kubernetes#4242")
        assert b.errors == []
