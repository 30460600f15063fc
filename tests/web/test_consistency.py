"""Every figure the dashboard shows equals the CLI's ``--json`` with the same parameters,
on one store (SQLite, and PostgreSQL in the PG lane): both call the same views. Where a
figure was wrong before, it is also checked against a count of our own from the store."""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlalchemy import func, select

from kubesift.store.schema import alert_incidents, ci_runs
from tests.conftest import run_cli
from tests.web.conftest import TIMELINE_BUILD, TIMELINE_JOB, Web


def api(web: Web, path: str, **params: Any) -> Any:
    r = httpx.get(f"{web.url}{path}", params=params, timeout=60)
    assert r.status_code == 200, r.text
    return r.json()


def cli(*args: str) -> Any:
    done = run_cli(*args, timeout=180)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_overview_models_and_bot_are_the_clis(web: Web) -> None:
    overview = api(web, "/api/overview")
    assert overview["repositories"] == cli("status", "--json")
    assert api(web, "/api/models") == cli("models", "list", "--json")
    name, version = web.model_ref.split("@")
    assert api(web, f"/api/models/{name}/{version}") == cli(
        "models", "show", name, version, "--json"
    )
    # Every registry's production model side by side, and one repository's own registry.
    deployed = api(web, "/api/models/deployed")
    assert deployed == cli("models", "deployed", "--json")
    assert [(r["trained_on"], r["group"]) for r in deployed["rows"]] == [
        ("release notes", "kind/bug"), ("release notes", "family:sig"),
        ("issues and PRs, every repository", "kind/bug"),
        ("issues and PRs of kubernetes/kubernetes", "kind/feature"),
    ]  # fmt: skip
    own = api(web, "/api/models", source="items", repo="kubernetes/kubernetes")
    assert own == cli("models", "list", "--source", "items", "--repo", "kubernetes/kubernetes",
                      "--json")  # fmt: skip
    assert [r["ref"] for r in own["rows"]] == [deployed["rows"][-1]["ref"]]
    bad = httpx.get(f"{web.url}/api/models", params={"source": "items", "repo": "../x"})
    assert bad.status_code == 400 and "OWNER/NAME" in bad.json()["error"]
    page = api(web, "/api/bot/decisions", per_page=50, page=2, label="kind/bug")
    assert page == cli("bot", "decisions", "--per-page", "50", "--page", "2", "--label",
                       "kind/bug", "--json")  # fmt: skip
    # Independently: the overview's bot card counts the week's decisions in the store.
    every = api(web, "/api/bot/decisions", per_page=200)
    assert sum(overview["bot"]["decisions"].values()) == every["total"] == 120


def test_ci_figures_are_the_clis(web: Web) -> None:
    jobs = api(web, "/api/ci/jobs", days=7)
    assert jobs["jobs"] == cli("ci", "jobs", "--days", "7", "--json")
    with web.engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(ci_runs)).scalar()
    assert sum(j["runs"] for j in cli("ci", "jobs", "--json")) == stored  # every stored run
    job = jobs["jobs"][0]["name"]
    grid = api(web, "/api/ci/grid", job=job, runs=30)
    mine = cli("ci", "grid", job, "--runs", "30", "--json")
    assert grid["columns"] == mine["columns"]
    assert [(r["name"], r["cells"]) for r in grid["rows"]] == [
        (r["name"], r["cells"]) for r in mine["rows"]
    ]
    assert api(web, "/api/ci/tabs")["rows"] == cli("ci", "tabs", "--json")
    timeline = api(web, "/api/ci/timeline", job=TIMELINE_JOB, build=TIMELINE_BUILD)
    mine = cli("ci", "timeline", TIMELINE_JOB, TIMELINE_BUILD, "--json")
    assert mine.pop("shown") == timeline["count"] > 10 and timeline == mine
    flakes = api(web, "/api/ci/flakes", days=7)
    assert flakes["rows"] == cli("ci", "flakes", "--days", "7", "--json")[:200]
    assert api(web, "/api/ci/clusters")["rows"][:5] == [
        {**c, "text": c["text"][:400], "issue_url": c["issue"]["url"] if c["issue"] else None}
        for c in cli("ci", "clusters", "--limit", "5", "--json")
    ]
    found = api(web, "/api/ci/search", q="timed out|timeout")
    mine = cli("ci", "search", "timed out|timeout", "--json")
    mine["examples"] = mine["examples"][:20]
    assert found == mine  # the same window by default (14 days), said in one headline
    assert all(j["pct_of_failures"] <= 100 and j["pct_of_runs"] <= 100 for j in found["jobs"])
    assert found["matching_runs"] <= found["runs"]


def test_alert_figures_are_the_clis_and_add_up(web: Web) -> None:
    page = api(web, "/api/alerts/incidents", per_page=50)
    mine = cli("alerts", "list", "--limit", "50", "--json")
    for key in ("total", "decisions", "quality", "summary", "rows", "templates"):
        assert page[key] == mine[key], key
    with web.engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(alert_incidents)).scalar()
    assert sum(page["decisions"].values()) == page["total"] == stored == len(page["rows"])


def test_project_charts_are_the_clis(web: Web) -> None:
    project = api(web, "/api/project")
    mine = cli("analyze", "--all", "--top", "10", "--format", "json")
    for a in project["analyses"]:
        assert a["rows"] == mine[a["name"]]["rows"], a["name"]
        assert a["note"] == mine[a["name"]]["note"], a["name"]
    created = next(a for a in project["analyses"] if a["name"] == "created")
    assert created["rows"][-1]["created"] == project["items"]  # the chart ends at the count
