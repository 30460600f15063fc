"""``make demo``'s loop, small: every step runs, the dashboard starts, nothing is left."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
from sqlalchemy import func, select

from kubesift.config import find_datasets, load_settings
from kubesift.learn import registry
from kubesift.store import open_store
from kubesift.store.schema import alert_incidents, bot_jobs, ci_runs, items
from kubesift.testing.browser import CHROMIUM, Browser
from tests.serve.conftest import free_port
from tests.web.conftest import start_web
from tests.web.test_browser import check_page


@pytest.mark.timeout(660)  # its own subprocess limit is 600 s; the suite's is 300
def test_the_demo_runs_the_loop_and_stops_everything(tmp_path: Path) -> None:
    home = tmp_path / "demo"
    env = {**os.environ, "KUBESIFT_HOME": str(home)}
    env.pop("KUBESIFT_DATABASE_URL", None)
    ports = [str(free_port()) for _ in range(3)]
    # `make demo`'s own path (release notes from the shared datasets) when they are here.
    datasets = find_datasets()
    notes = datasets is not None and (datasets / "k8s-release-notes").is_dir()
    done = subprocess.run(
        [sys.executable, "-m", "kubesift.demo", "--items", "600", "--no-hold",
         *([] if notes else ["--no-notes"]),
         "--web-port", ports[0], "--bot-port", ports[1], "--serve-port", ports[2]],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    for step in ("export the repository", "train kind/bug", "the bot labels new PRs",
                 "CI results from a fake GCS", "the dashboard"):  # fmt: skip
        assert step in out, step
    assert f"kubesift is running: open http://127.0.0.1:{ports[0]}/" in out
    assert "stopped everything the demo started" in out
    engine = open_store(load_settings({"KUBESIFT_HOME": str(home)}))
    with engine.connect() as conn:
        count = lambda t: conn.execute(select(func.count()).select_from(t)).scalar()  # noqa: E731
        assert count(items) >= 590 and count(ci_runs) > 0
        done = select(func.count()).select_from(bot_jobs).where(bot_jobs.c.status == "done")
        assert conn.execute(done).scalar() == 3  # the bot handled the three new PRs live
        if "alert replay" in out and "skipped" not in out.split("alert replay")[1][:300]:
            assert count(alert_incidents) > 0
            # The demo says the figures the Alerts page shows: the store's.
            paged = conn.execute(
                select(func.count()).where(alert_incidents.c.decision == "page")
            ).scalar()
            said = re.search(r"(\d[\d,]*) incidents = (\d[\d,]*) paged", out)
            assert said, out[-2000:]
            assert int(said[1].replace(",", "")) == count(alert_incidents)
            assert int(said[2].replace(",", "")) == paged
    engine.dispose()
    # What the demo deploys is the production fit, as the README says to deploy.
    settings = load_settings({"KUBESIFT_HOME": str(home)})
    deployed = registry.production(settings.models_dir_for("release-notes" if notes else "items"))
    assert deployed.metadata["fit"] == "production", deployed.metadata
    left = [
        p
        for p in psutil.process_iter(["cmdline"])
        if str(home) in " ".join(p.info["cmdline"] or [])
    ]
    assert not left, [p.info["cmdline"] for p in left]
    assert not (home / "demo.pid").exists()
    pages = dict(DEMO_PAGES)
    if notes:  # the release-note model labels the three new PRs, and the feed shows it
        assert "→ labels ['kind/bug'" in out, out[-2000:]
        pages |= {"/models": "sift-linear@", "/bot": "kubernetes/kubernetes#"}
    else:  # trained on 600 generated items, the model abstains: nothing is labelled
        pages |= {"/models?source=items": "sift-linear-cv@", "/bot": "Bot"}  # no encoder
    dashboard_on_the_demo_data(home, tmp_path, pages)


DEMO_PAGES = {
    "/": "production model",
    "/project": "Issues and pull requests created",
    "/ci": "Component Readiness",
    "/alerts": "paged",
}


def dashboard_on_the_demo_data(home: Path, tmp_path: Path, pages: dict[str, str]) -> None:
    """Every page of the dashboard the demo left behind renders non-empty in Chromium; the
    README's picture is this overview (``make screenshots`` copies it to docs/)."""
    if not CHROMIUM.exists():
        return  # the browser suite says why it skips
    proc, url = start_web(home, {})
    try:
        with Browser() as b:
            for path, expected in pages.items():
                check_page(b, url, path, expected)
                rows = b.js("document.querySelectorAll('#app tbody tr, #app .uplot').length")
                assert rows > 0 or path == "/bot", f"{path} shows no table row or chart"
            assert b.errors == []
            b.open(f"{url}/")
            shot = tmp_path / "demo-overview.png"
            b.screenshot(shot, 1280, 800)
            assert shot.stat().st_size > 20_000
            target = os.environ.get("KUBESIFT_SCREENSHOTS")
            if target:
                shutil.copy(shot, Path(target) / "demo-overview.png")
    finally:
        proc.terminate()
        proc.wait(10)
