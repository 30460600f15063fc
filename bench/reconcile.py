"""Reconcile benchmark: one full pass on the generated repository after N changes.

Setup (not timed): the fake GitHub (``kubesift dev fake-github``) with the generated
Kubernetes-like repository, a first ``kubesift reconcile --once`` (full export + the
first model), and N changes made by the fake (its realistic mix: relabels, comments,
renames, closes, merges, reopens, lifecycle labels). Then, timed, as separate processes:

* the pass after the changes: export update → train (the data changed) → evaluate →
  promote → canary → rollback;
* a pass with nothing changed (one 304, nothing to train);
* N more changes and a pass with ``events = false``: the deployment where the bot receives
  the label webhooks, so the export needs no walk of GitHub's event history.

The desired state retrains whenever the data changed (``freshness.max_age = "0s"``),
so the timed pass includes a full training of kind/bug + the kind and sig families.

    python bench/reconcile.py            # 91,000 items, 1,000 changes
    python bench/reconcile.py --quick    # 5,000 items, 200 changes (under a minute)
    python bench/reconcile.py --json out.json
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx
from _measure import items_and_changes_main, run_measured
from export import REPO, TOKEN, fake_stats, reset_stats, start_fake

CONFIG = """\
[reconcile]
repositories = ["{repo}"]
labels = ["kind/bug"]
families = ["kind", "sig"]

events = {events}

[reconcile.freshness]
max_age = "0s"
"""


def run_pass(url: str, home: Path) -> dict[str, Any]:
    env = {
        **os.environ,
        "GITHUB_TOKEN": TOKEN,
        "KUBESIFT_HOME": str(home),
        "KUBESIFT_API_URL": url,
        "KUBESIFT_CONFIG": str(home.parent / "kubesift.toml"),
        "COLUMNS": "200",
    }
    env.pop("KUBESIFT_DATABASE_URL", None)
    run = run_measured([sys.executable, "-m", "kubesift", "reconcile", "--once"], env)
    if run.returncode != 0:
        raise SystemExit(f"reconcile failed:\n{run.stderr[-3000:]}")
    show = run_measured(
        [sys.executable, "-m", "kubesift", "reconcile", "status", "--json", "--runs", "1"], env
    )
    decisions = json.loads(show.stdout)["runs"][0]["decisions"]
    return {"seconds": run.seconds, "rss_mb": run.peak_rss_bytes / 2**20, "decisions": decisions}


def make_changes(url: str, count: int) -> None:
    """``count`` changes by the fake's realistic mix, 30 s of fake time apart (as on GitHub,
    where changes do not all share one second)."""
    with httpx.Client(base_url=url, timeout=30) as client:
        for i in range(count):
            client.post("/_fake/clock", json={"advance": 30}).raise_for_status()
            client.post(
                "/_fake/mutate", json={"repo": REPO, "action": "touch", "count": 1, "seed": i}
            ).raise_for_status()


def github_requests(url: str) -> int:
    return int(fake_stats(url)["total"])


def bench(items: int, changes: int) -> dict[str, float]:
    proc, url = start_fake(items)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            home = Path(tmp) / "home"
            config = Path(tmp) / "kubesift.toml"
            config.write_text(CONFIG.format(repo=REPO, events="true"))
            first = run_pass(url, home)
            make_changes(url, changes)
            reset_stats(url)
            after = run_pass(url, home)
            after_requests = github_requests(url)
            reset_stats(url)
            idle = run_pass(url, home)
            idle_requests = github_requests(url)
            # With the bot installed its webhooks bring the label history: no event walk.
            config.write_text(CONFIG.format(repo=REPO, events="false"))
            make_changes(url, changes)
            reset_stats(url)
            pushed = run_pass(url, home)
            pushed_requests = github_requests(url)
    finally:
        proc.terminate()
        proc.wait(10)
    by = {d["controller"] + ":" + d["action"]: d for d in after["decisions"]}
    trained = by.get("train:trained", {}).get("details", {})
    exported = next((d for d in after["decisions"] if d["controller"] == "export"), {})
    judged = next((d for d in after["decisions"] if d["controller"] == "evaluate"), {})
    print(f"evaluate: {judged.get('action')}: {judged.get('reason')}")
    return {
        "items": items,
        "changes": changes,
        "setup_pass_seconds": round(first["seconds"], 1),
        "pass_seconds": round(after["seconds"], 1),
        "pass_rss_mb": round(after["rss_mb"]),
        "pass_github_requests": after_requests,
        "pass_export_items": exported.get("details", {}).get("items", 0),
        "pass_export_events": exported.get("details", {}).get("events", 0),
        "pass_trained": int("train:trained" in by),
        "pass_train_examples": trained.get("examples", 0),
        "pass_fit_seconds": trained.get("fit_seconds") or 0,
        "pass_evaluated": int(any(k.startswith("evaluate:") and "none" not in k for k in by)),
        "pass_promoted": int("promote:promoted" in by),
        "idle_pass_seconds": round(idle["seconds"], 1),
        "idle_pass_github_requests": idle_requests,
        "no_events_pass_seconds": round(pushed["seconds"], 1),
        "no_events_pass_github_requests": pushed_requests,
    }


def print_table(f: dict[str, float]) -> None:
    rows = [
        ("repository", f"{f['items']:,.0f} items; {f['changes']:,.0f} changes"),
        ("setup pass (full export + first model)", f"{f['setup_pass_seconds']:.1f} s"),
        ("pass after the changes: wall time", f"{f['pass_seconds']:.1f} s (target ≤ 90 s)"),
        ("  GitHub requests", f"{f['pass_github_requests']:.0f} (target ≤ 15)"),
        ("  items / label events stored", f"{f['pass_export_items']:,.0f} / "
         f"{f['pass_export_events']:,.0f}"),
        ("  trained on (examples), fit time", f"{f['pass_train_examples']:,.0f}, "
         f"{f['pass_fit_seconds']:.1f} s"),
        ("  evaluated / promoted", f"{f['pass_evaluated']:.0f} / {f['pass_promoted']:.0f}"),
        ("  peak RSS", f"{f['pass_rss_mb']:.0f} MB"),
        ("pass with no change: wall time", f"{f['idle_pass_seconds']:.1f} s"),
        ("  GitHub requests", f"{f['idle_pass_github_requests']:.0f}"),
        ("events = false pass: wall time", f"{f['no_events_pass_seconds']:.1f} s"),
        ("  GitHub requests (label history from the bot's webhooks)",
         f"{f['no_events_pass_github_requests']:.0f} (target ≤ 15)"),
    ]  # fmt: skip
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


def main() -> None:
    items_and_changes_main(__doc__ or "", bench, print_table)


if __name__ == "__main__":
    main()
