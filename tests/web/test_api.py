"""``kubesift web`` as a real process: the JSON API, its errors, and the token on actions."""

from __future__ import annotations

import time

import httpx
from sqlalchemy import select

from kubesift.learn import registry
from kubesift.learn.service import save_trained
from kubesift.learn.train import Trained
from kubesift.reconcile.controllers.rollback import _promoted_at
from kubesift.store.schema import repositories
from tests.web.conftest import ISSUES_REPO, REPO, TOKEN, Web

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def get(web: Web, path: str, params: dict[str, str] | None = None) -> httpx.Response:
    return httpx.get(f"{web.url}{path}", params=params, timeout=30)


def test_overview_counts_models_bot_and_alerts(web: Web) -> None:
    data = get(web, "/api/overview").json()
    assert data["models"]["release-notes"]["production"] == web.model_ref
    items = registry.list_versions(web.home / "models-items")
    assert data["models"]["items"] == {
        "versions": 1, "production": registry.ref(items[0]), "canary": None, "canary_share": None,
    }  # fmt: skip
    assert data["bot"]["decisions"] == {"added": 96, "held_back": 24}
    assert data["bot"]["corrections"] == 1 + 24  # #1001's removal, 24 items triaged
    assert sum(data["alerts"]["incidents"].values()) == 3
    assert data["alerts"]["incidents"]["page"] >= 1  # the critical one always pages
    assert data["ci"]["jobs"] == 4 and data["ci"]["open_regressions"] == 1  # 3 + timeline
    assert sum(data["ci"]["runs"].values()) >= 3 * 3 * 6  # 3 jobs × 3 runs a day, a week


def test_decisions_paginate_filter_and_show_corrections(web: Web) -> None:
    first = get(web, "/api/bot/decisions?per_page=50").json()
    assert first["total"] == 120 and len(first["rows"]) == 50
    assert first["rows"][0]["number"] == 1119  # newest first
    last = get(web, "/api/bot/decisions?per_page=50&page=3").json()
    assert len(last["rows"]) == 20
    bugs = get(web, "/api/bot/decisions?label=kind/bug&per_page=200").json()
    assert bugs["total"] == 60 and {r["label"] for r in bugs["rows"]} == {"kind/bug"}
    corrected = [r for r in bugs["rows"] if r["corrected"]]
    assert [(r["number"], r["label"]) for r in corrected] == [(1001, "kind/bug")]
    # The repository was exported from a fake GitHub: the link is the item there, never an
    # unrelated github.com page.
    with web.engine.connect() as conn:
        api = conn.execute(
            select(repositories.c.api_url).where(repositories.c.full_name == REPO)
        ).scalar()
    assert api and "github.com" not in api
    assert corrected[0]["url"] == f"{api}/repos/{REPO}/issues/1001"
    for bad in ("page=0", "per_page=5000", "page=two"):
        r = get(web, f"/api/bot/decisions?{bad}")
        assert r.status_code == 400 and "error" in r.json(), bad


def test_models_list_detail_card_and_online_precision(web: Web) -> None:
    listed = get(web, "/api/models").json()
    [row] = [r for r in listed["rows"] if r["ref"] == web.model_ref]
    weekly = listed["online_weekly"]
    column = f"production {web.model_ref}"
    assert weekly["columns"] == ["week", column]  # no canary
    values = [r[column] for r in weekly["rows"]]
    assert values and all(0 < v <= 1 for v in values)
    assert min(values) < 1  # the week of #1001, whose label a human removed
    assert row["ref"] == web.model_ref and row["production"] and row["fit"] == "evaluation"
    assert row["calibration"] == "forward"
    name, version = row["name"], row["version"]
    detail = get(web, f"/api/models/{name}/{version}").json()
    promised = {p["label"]: p for p in detail["promises"]}
    bug = promised["kind/bug"]
    assert bug["threshold"] is not None and bug["promised"] >= 0.9
    assert bug["delivered_precision"] is not None
    [decision] = detail["reconciler"]
    assert (decision["step"], decision["action"]) == ("evaluate", "accepted")
    assert get(web, "/api/models").json()["reconciler"][0]["reason"].startswith("no worse")
    online = {s["label"]: s for s in detail["online"]}
    assert online["kind/bug"]["removed"] == 1  # the human correction of #1001
    card = get(web, f"/models/{name}/{version}/card.html")
    assert card.status_code == 200 and "Model card" in card.text
    assert "{" not in card.text.split("<body", 1)[1]  # no Python dict printed in the card
    assert "<style>" in card.text and "<table>" in card.text  # a styled page, tables as tables


def _decimals(value: object) -> int:
    return len(repr(value).split(".")[1]) if isinstance(value, float) else 0


def test_the_model_page_names_its_fields_rounds_and_says_why_a_label_abstains(web: Web) -> None:
    name, version = web.model_ref.split("@")
    detail = get(web, f"/api/models/{name}/{version}").json()
    for row in detail["evaluation"]:
        assert set(row) <= {"model", "group", "f1_at_0.5", "f1_best", "f1_acting",
                            "acting_precision", "acting_recall"}  # fmt: skip
        assert all(_decimals(v) <= 3 for v in row.values()), row
    assert detail["evaluation"] and "f1_best" in detail["evaluation"][0]
    for p in detail["promises"]:
        assert all(_decimals(v) <= 3 for v in p.values() if not isinstance(v, list)), p
        if p["threshold"] is None:  # a reason in words, with the figure behind it
            because = p["abstains_because"]
            assert because and any(ch.isdigit() for ch in because), p
            if p["best_precision"] is not None and p["best_precision"] < 0.9:
                assert because.startswith(f"best forward precision {p['best_precision']:.2f}")
        else:
            assert p["abstains_because"] is None and p["lift"] > 1, p
    assert any(p["threshold"] is None for p in detail["promises"]), "no abstaining label"
    assert get(web, f"/models/{name}/{version}/metadata.json").status_code == 404
    missing = get(web, f"/api/models/{name}/19990101T000000000000Z")
    assert missing.status_code == 404 and "no model version" in missing.json()["error"]
    # Each source reads its own registry: the items list holds the items model only.
    items = get(web, "/api/models?source=items").json()["rows"]
    refs = [r["ref"] for r in items]
    assert refs == [registry.ref(v) for v in registry.list_versions(web.home / "models-items")]
    assert web.model_ref not in refs


def test_alert_answers_need_the_token_and_the_same_origin(web: Web) -> None:
    inbox = get(web, "/api/alerts/incidents?decision=page").json()
    incident = inbox["rows"][0]
    url = f"{web.url}/api/alerts/incidents/{incident['id']}/feedback"
    body = {"needs_human": True, "note": "woke up for it"}
    assert httpx.post(url, json=body).status_code == 401
    wrong = httpx.post(url, json=body, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    cross = httpx.post(url, json=body, headers={**AUTH, "Origin": "https://evil.example"})
    assert cross.status_code == 403 and "cross-origin" in cross.json()["error"]
    bad = httpx.post(url, content=b"{", headers={**AUTH, "Content-Type": "application/json"})
    assert bad.status_code == 400
    assert httpx.post(url, json={"needs_human": "yes"}, headers=AUTH).status_code == 400
    ok = httpx.post(url, json=body, headers={**AUTH, "Origin": web.url})
    assert ok.status_code == 200, ok.text
    after = get(web, "/api/alerts/incidents?decision=page").json()["rows"][0]
    assert after["feedback"][-1]["via"] == "web" and after["feedback"][-1]["needs_human"]
    gone = httpx.post(f"{web.url}/api/alerts/incidents/999999/feedback", json=body, headers=AUTH)
    assert gone.status_code == 404
    assert get(web, "/api/alerts/incidents?decision=maybe").status_code == 400


def test_pages_render_and_never_show_the_token(web: Web) -> None:
    model_page = f"/models/{web.model_ref.replace('@', '/')}"
    for path in (
        "/",
        "/project",
        "/models",
        "/bot",
        "/ci",
        "/ci/grid?job=x",
        "/alerts",
        model_page,
    ):
        page = get(web, path)
        assert page.status_code == 200, path
        assert 'id="app"' in page.text and "/static/app.js" in page.text
        assert TOKEN not in page.text
    assert get(web, "/static/app.js").status_code == 200
    assert get(web, "/nowhere").status_code == 404
    metrics = get(web, "/metrics").text
    assert 'kubesift_web_requests_total{route="/alerts",status="200"}' in metrics
    assert 'route="/healthz",status="200"' in metrics


def test_slow_views_are_warmed_at_startup(web: Web) -> None:
    deadline = time.monotonic() + 60
    while not get(web, "/healthz").json()["warm"]:
        assert time.monotonic() < deadline, "the caches were never warmed"
        time.sleep(0.1)


def test_ci_jobs_regressions_and_grid(web: Web) -> None:
    data = get(web, "/api/ci/jobs").json()
    assert len(data["jobs"]) == 4 and all(j["runs"] > 0 for j in data["jobs"])  # 3 + timeline
    assert all(0 <= j["pass_pct"] <= 100 and j["failed"] <= j["runs"] for j in data["jobs"])
    [regression] = data["regressions"]
    assert regression["issue_url"] == "https://github.com/kubernetes/kubernetes/issues/4242"
    failing = [
        g for g in (get(web, f"/api/ci/grid?job={j['name']}&only=failing").json()
                    for j in data["jobs"])
        if any(r["issue"] for r in g["rows"])
    ]  # fmt: skip
    assert failing, "no grid shows the triaged regression"
    row = next(r for r in failing[0]["rows"] if r["issue"])
    assert row["name"] == regression["test"] and 12 in row["cells"]
    assert len(failing[0]["columns"]) == 30
    assert get(web, "/api/ci/grid?job=nope").status_code == 404
    assert get(web, "/api/ci/grid").status_code == 400
    assert get(web, f"/api/ci/grid?job={data['jobs'][0]['name']}&only=red").status_code == 400


def test_project_analyses_filters_and_cache(web: Web) -> None:
    data = get(web, "/api/project").json()
    assert data["items"] >= 390
    names = {a["name"] for a in data["analyses"]}
    assert {"created", "closed", "labels-by-name", "time-to-merge"} <= names
    created = next(a for a in data["analyses"] if a["name"] == "created")
    assert created["rows"] and created["columns"][0] in ("created_at", "month", "name", "date")
    issues = get(web, "/api/project?kind=issue").json()
    assert 0 < issues["items"] < data["items"]
    late = get(web, "/api/project?since=2026-01-01").json()
    assert late["items"] < data["items"]
    for bad in ("since=yesterday", "since=2026-02-01&until=2026-01-01", "kind=bots", "repo=x"):
        r = get(web, f"/api/project?{bad}")
        assert r.status_code == 400 and "error" in r.json(), bad


def test_component_readiness_shows_the_regressed_cell_with_its_issue(web: Web) -> None:
    data = get(web, "/api/ci/readiness").json()
    assert data["judged"] > 0 and data["columns"]
    bad = [
        (component, column)
        for component, row in data["components"].items()
        for column, status in row.items()
        # triaged to kubernetes/kubernetes#4242 by the fixture: shown as a triaged regression
        if status in ("SignificantTriagedRegression", "ExtremeTriagedRegression")
    ]
    assert bad, data["components"]
    [cell] = [c for c in data["cells"] if (c["component"], c["column"]) in bad]
    assert cell["issue_url"] == "https://github.com/kubernetes/kubernetes/issues/4242"
    assert cell["jobs"] and cell["sample"]["failure"] > 0
    assert "triaged: kubernetes/kubernetes#4242" in cell["explanation"]
    rows = get(web, "/api/ci/triages").json()["rows"]
    triage = next(t for t in rows if t["issue"] == "kubernetes/kubernetes#4242")
    assert triage["failing_runs"] > 0 and triage["regressions"][0]["test"] == cell["test"]
    again = get(web, "/api/ci/readiness").json()
    assert again == data  # served from the cache until CI data changes


def _red_cell(web: Web, test: str, status: int = 12) -> dict[str, str]:
    """The newest cell of ``test`` with ``status`` in any job's grid, as failure-API args."""
    for job in get(web, "/api/ci/jobs").json()["jobs"]:
        grid = get(web, f"/api/ci/grid?job={job['name']}&runs=60").json()
        for row in grid["rows"]:
            if row["name"] == test and status in row["cells"]:
                i = row["cells"].index(status)
                build = grid["columns"][i]["build"]
                return {"job": job["name"], "build": build, "suite": row["suite"], "test": test}
    raise AssertionError(f"no cell of {test!r} has status {status}")


def test_failure_drills_down_to_its_cluster_and_tracking_issue(web: Web) -> None:
    regression, flake = web.ci.regressions[0], web.ci.flakes[0]
    found = get(web, "/api/ci/failure", params=_red_cell(web, regression.test)).json()
    assert found["text"] and found["status"] == 12
    assert regression.test in [t["name"] for t in found["cluster"]["tests"]]
    assert found["issue"]["ref"] == "kubernetes/kubernetes#4242"  # triaged wins
    flaky = get(web, "/api/ci/failure", params=_red_cell(web, flake.test, 13)).json()
    issue = flaky["issue"]
    assert issue, {k: flaky[k] for k in ("cluster", "text")}
    assert issue["ref"].startswith(f"{ISSUES_REPO}#") and "names" in issue["why"]
    assert get(web, "/api/ci/failure?job=nope&build=1&test=x").status_code == 404
    assert get(web, "/api/ci/failure?job=x").status_code == 400
    cell = _red_cell(web, regression.test)
    passing = {**cell, "test": web.ci.tests[-1] if web.ci.tests[-1] != regression.test else "x"}
    assert get(web, "/api/ci/failure", params=passing).status_code == 404


def test_clusters_flakes_and_search_with_when_it_started(web: Web) -> None:
    regression, flake = web.ci.regressions[0], web.ci.flakes[0]
    clusters = get(web, "/api/ci/clusters").json()
    assert clusters["total"] >= 1 and clusters["failures"] >= clusters["rows"][0]["failures"] > 0
    by_test = {t["name"]: c for c in clusters["rows"] for t in c["tests"]}
    assert by_test[regression.test]["issue"] is not None
    flakes = get(web, "/api/ci/flakes").json()
    assert flake.test in {r["test"] for r in flakes["rows"]}
    assert regression.test not in {r["test"] for r in flakes["rows"] if r["flakes"]}
    assert get(web, "/api/ci/flakes?job=nope").status_code == 404
    assert get(web, "/api/ci/flakes?days=9999").status_code == 400
    # The regression's error text: the histogram starts when the regression did.
    words = found_words(web)
    hits = get(web, "/api/ci/search", params={"q": words}).json()
    assert hits["matching_runs"] > 0
    first = next(c["at"] for c in hits["histogram"]["counts"] if c["runs"])
    started = time.strftime("%Y-%m-%d", time.gmtime(regression.start))
    assert first[:10] >= started, (first, started)
    assert hits["histogram"]["bucket"] == "day"
    for bad in ("q=", "q=(unclosed", "q=x&days=0"):
        r = get(web, f"/api/ci/search?{bad}")
        assert r.status_code == 400 and "error" in r.json(), bad


def found_words(web: Web) -> str:
    """A literal piece of the regression's error text, as a user would paste it."""
    from kubesift.testing.cihistory import ERRORS

    template = ERRORS[web.ci.regressions[0].error]
    return max(template.replace("{", "}").split("}")[::2], key=len).strip()


def test_triage_and_promote_need_the_token(web: Web) -> None:
    [regression] = get(web, "/api/ci/jobs").json()["regressions"]
    url = f"{web.url}/api/ci/regressions/{regression['id']}/triage"
    assert httpx.post(url, json={"issue": "o/n#1"}).status_code == 401
    assert httpx.post(url, json={"issue": "not an issue"}, headers=AUTH).status_code == 400
    huge = httpx.post(url, json={"issue": "o/n#1", "pad": "x" * 20_000}, headers=AUTH)
    assert huge.status_code == 413 and "at most" in huge.json()["error"]
    missing = httpx.post(f"{web.url}/api/ci/regressions/9999/triage", json={"issue": "o/n#1"},
                         headers=AUTH)  # fmt: skip
    assert missing.status_code == 404 and "no regression" in missing.json()["error"]
    try:
        ok = httpx.post(url, json={"issue": "openshift/origin#77"}, headers=AUTH)
        assert ok.status_code == 200, ok.text
        [now] = get(web, "/api/ci/jobs").json()["regressions"]
        assert now["issue_url"] == "https://github.com/openshift/origin/issues/77"
    finally:
        httpx.post(url, json={"issue": regression["issue"]}, headers=AUTH)


def test_promote_needs_the_token_and_refuses_a_damaged_version(
    web: Web, web_model: Trained
) -> None:
    name, version = web.model_ref.split("@")
    pin = httpx.post(f"{web.url}/api/models/{name}/{version}/promote", headers=AUTH)
    assert pin.status_code == 200  # pinned: a newer version does not replace it by itself
    newer = save_trained(web.home / "models", web_model)
    assert get(web, "/api/overview").json()["models"]["release-notes"]["production"] == (
        web.model_ref
    )
    promote = f"{web.url}/api/models/{newer.name}/{newer.version}/promote"
    assert httpx.post(promote).status_code == 401
    gone = httpx.post(f"{web.url}/api/models/{newer.name}/19990101T000000000000Z/promote",
                      headers=AUTH)  # fmt: skip
    assert gone.status_code == 404
    try:
        done = httpx.post(promote, headers=AUTH)
        assert done.status_code == 200, done.text
        assert done.json() == {"production": f"{newer.name}@{newer.version}"}
        overview = get(web, "/api/overview").json()
        assert overview["models"]["release-notes"]["production"] == done.json()["production"]
        # Recorded as the reconciler records its own (its rollback watches it the same way).
        page = get(web, f"/api/models/{newer.name}/{newer.version}").json()
        assert page["reconciler"], {k: page[k] for k in ("ref", "reconciler")}
        [made] = page["reconciler"]
        assert (made["step"], made["action"]) == ("manual", "promoted")
        assert made["reason"] == f"promoted by hand (the dashboard); production was {web.model_ref}"
        at, previous = _promoted_at(web.engine, newer)  # what the rollback step reads
        assert at and previous == web.model_ref
    finally:
        back = httpx.post(f"{web.url}/api/models/{name}/{version}/promote", headers=AUTH)
        assert back.status_code == 200
    with (newer.path / "model.skops").open("ab") as f:
        f.write(b"tampered")
    refused = httpx.post(promote, headers=AUTH)
    assert refused.status_code == 400 and "sha256" in refused.json()["error"]
    assert get(web, "/api/overview").json()["models"]["release-notes"]["production"] == (
        web.model_ref
    )


def test_search_from_a_red_cell_finds_every_occurrence_and_the_true_first_seen(web: Web) -> None:
    """The cell's search is built from what its occurrences share, not from one run's pod
    name: it finds every run that failed this way in the window, from the first."""
    import re

    from sqlalchemy import select

    from kubesift.ci import queries
    from kubesift.store.schema import ci_results, ci_runs, ci_texts
    from kubesift.testing.cihistory import ERRORS

    regression = web.ci.regressions[0]
    found = get(web, "/api/ci/failure", params=_red_cell(web, regression.test)).json()
    search = found["search"]
    assert search["days"] == queries.FAILURE_DAYS and search["q"]
    hits = get(web, "/api/ci/search", params={"q": search["q"]}).json()
    # Independently: the runs in the same window with a failure text of the same template.
    template = re.escape(ERRORS[regression.error]).replace(r"\{", "{").replace(r"\}", "}")
    shape = re.compile(re.sub(r"\{\w+\}", ".+?", template))
    start = queries.window(queries.FAILURE_DAYS).start
    with web.engine.connect() as conn:
        rows = conn.execute(
            select(ci_runs.c.id, ci_runs.c.started_at, ci_texts.c.text)
            .join(ci_results, ci_results.c.run_id == ci_runs.c.id)
            .join(ci_texts, ci_texts.c.id == ci_results.c.text_id)
            .where(ci_runs.c.started_at >= start)
        ).all()
    failed = {(r.id, r.started_at) for r in rows if shape.search(r.text)}
    assert len(failed) >= 3
    assert hits["matching_runs"] >= len(failed)
    first = min(at for _, at in failed)
    assert min(j["first_seen"] for j in hits["jobs"]) == first
    assert f"the {queries.FAILURE_DAYS:g} days" in hits["headline"]


def test_the_chart_library_is_served_from_static_with_its_licence(web: Web) -> None:
    """Vendored from npm at the pinned version: no CDN, no fetch at run time."""
    from pathlib import Path

    import kubesift.web

    js = get(web, "/static/vendor/uplot/uPlot.iife.min.js")
    assert js.status_code == 200 and "uPlot" in js.text[:2000]
    assert get(web, "/static/vendor/uplot/uPlot.min.css").status_code == 200
    vendor = Path(kubesift.web.__file__).parent / "static" / "vendor"
    assert "MIT License" in (vendor / "uplot" / "LICENSE").read_text()
    templates = Path(kubesift.web.__file__).parent / "templates"
    for page in templates.glob("*.html"):
        assert "://" not in page.read_text().replace("http://www.w3.org", ""), page.name
