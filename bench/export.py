"""Export benchmark: kubesift against the fake GitHub, beside the original one-GET-per-number way.

Runs the fake GitHub (``kubesift dev fake-github``) and each ``kubesift export`` as separate
processes on loopback, then reports requests, wall time, items/s and peak RSS for:
a full export, an update after no change, an update after N changes, and the same
repository fetched the original kubernetes-analysis way (``GET /issues/{n}`` per number).

    python bench/export.py            # 91,000 items (several minutes)
    python bench/export.py --quick    # 5,000 items, under a minute on 2 cores
    python bench/export.py --json out.json
"""

from __future__ import annotations

import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from _measure import items_and_changes_main, run_measured

REPO = "kubernetes/kubernetes"
TOKEN = "ghp_bench0000000000000000000000000000000"
ISSUES = "GET /repos/{owner}/{repo}/issues"
EVENTS = "GET /repos/{owner}/{repo}/issues/events"


def start_fake(items: int) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kubesift",
            "dev",
            "fake-github",
            "--items",
            str(items),
            "--port",
            "0",
            "--token",
            TOKEN,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("Fake GitHub: "):
            url = line.split(": ", 1)[1].strip()
            break
    else:
        raise SystemExit("the fake GitHub did not start")
    for _ in range(200):
        try:
            httpx.get(url + "/_fake/stats", timeout=2)
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.05)
    raise SystemExit("the fake GitHub does not answer")


def run_export(url: str, home: Path, *extra: str) -> dict[str, float]:
    """One ``kubesift export`` process; wall time and peak RSS sampled every 20 ms."""
    env = {**os.environ, "GITHUB_TOKEN": TOKEN, "KUBESIFT_HOME": str(home)}
    cmd = [sys.executable, "-m", "kubesift", "export", "--repo", REPO, "--api-url", url, *extra]
    run = run_measured(cmd, env)
    if run.returncode != 0:
        raise SystemExit(f"export failed: {run.stderr}")
    return {"seconds": run.seconds, "rss_mb": run.peak_rss_bytes / 2**20}


def fake_stats(url: str) -> dict[str, Any]:
    return httpx.get(url + "/_fake/stats", timeout=10).json()  # type: ignore[no-any-return]


def reset_stats(url: str) -> None:
    httpx.post(url + "/_fake/stats/reset", timeout=10).raise_for_status()


def ok_count(stats: dict[str, Any], route: str) -> int:
    return int(sum(n for s, n in stats["by_route"].get(route, {}).items() if s != "304"))


def make_changes(url: str, count: int, numbers: list[int]) -> None:
    """``count`` distinct items changed one by one, 30 s of fake time apart (no ties)."""
    rng = random.Random(7)
    with httpx.Client(base_url=url, timeout=10) as client:
        for i, number in enumerate(rng.sample(numbers, count)):
            client.post("/_fake/clock", json={"advance": 30}).raise_for_status()
            action = (
                {"action": "add_label", "label": "lifecycle/stale", "actor": "k8s-triage-robot"}
                if i % 2
                else {"action": "edit", "title": f"changed {i}"}
            )
            client.post(
                "/_fake/mutate", json={"repo": REPO, "number": number, **action}
            ).raise_for_status()


def unlimited_token(url: str) -> str:
    """A fresh user whose quota will not run out, so the original way is timed fairly
    (at GitHub's 5,000 requests/hour it would mostly be waiting)."""
    httpx.post(url + "/_fake/config", json={"rate_limit": 10**9}).raise_for_status()
    answer = httpx.post(url + "/_fake/tokens", json={"login": "bench-original"})
    answer.raise_for_status()
    return str(answer.json()["token"])


def original_way(url: str, top: int, out: Path) -> dict[str, float]:
    """kubernetes-analysis's export: one GET per number, everything written at the end."""
    started = time.perf_counter()
    result: list[Any] = []
    headers = {"Authorization": f"token {unlimited_token(url)}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        for number in range(1, top + 1):
            response = client.get(f"/repos/{REPO}/issues/{number}")
            if response.status_code == 200:
                result.append(response.json())
    out.write_text(json.dumps(result))
    return {"seconds": time.perf_counter() - started, "requests": top, "items": len(result)}


def store_count(home: Path) -> int:
    import sqlite3

    with sqlite3.connect(home / "kubesift.db") as conn:
        return int(conn.execute("select count(*) from items where gone_at is null").fetchone()[0])


def bench(items: int, changes: int) -> dict[str, float]:
    fake, url = start_fake(items)
    figures: dict[str, float] = {"items": items}
    try:
        with tempfile.TemporaryDirectory(prefix="kubesift-bench-") as tmp:
            home = Path(tmp) / "home"
            reset_stats(url)
            full = run_export(url, home)
            stats = fake_stats(url)
            stored = store_count(home)
            event_pages = ok_count(stats, EVENTS)
            figures.update(
                full_seconds=full["seconds"],
                full_rss_mb=full["rss_mb"],
                full_items_stored=stored,
                full_items_per_s=stored / full["seconds"],
                full_requests=stats["total"],
                full_item_requests=ok_count(stats, ISSUES),
                full_event_requests=event_pages,
                floor_requests=math.ceil(items / 100) + event_pages,
            )
            reset_stats(url)
            none = run_export(url, home)
            stats = fake_stats(url)
            figures.update(
                nochange_requests=stats["total"],
                nochange_304=stats["not_modified"],
                nochange_quota=stats["quota_used"],
                nochange_seconds=none["seconds"],
            )
            with __import__("sqlite3").connect(home / "kubesift.db") as conn:
                numbers = [
                    r[0] for r in conn.execute("select number from items where gone_at is null")
                ]
            make_changes(url, changes, numbers)
            reset_stats(url)
            upd = run_export(url, home)
            stats = fake_stats(url)
            figures.update(
                update_changes=changes,
                update_seconds=upd["seconds"],
                update_item_requests=int(sum(stats["by_route"].get(ISSUES, {}).values())),
                update_event_requests=int(sum(stats["by_route"].get(EVENTS, {}).values())),
                update_requests=stats["total"],
            )
            for label in ("after_update_nochange", "steady_nochange"):
                reset_stats(url)
                run_export(url, home)
                stats = fake_stats(url)
                figures[f"{label}_requests"] = stats["total"]
                figures[f"{label}_304"] = stats["not_modified"]
            top = int(
                httpx.get(
                    f"{url}/repos/{REPO}/issues?state=all&per_page=1",
                    headers={"Authorization": f"token {TOKEN}"},
                ).json()[0]["number"]
            )
            orig = original_way(url, top, Path(tmp) / "api.json")
            figures.update(
                original_seconds=orig["seconds"],
                original_requests=orig["requests"],
                original_items=orig["items"],
                original_hours_at_5000_per_hour=orig["requests"] / 5000,
                speedup_vs_original=orig["seconds"] / full["seconds"],
                request_ratio_vs_original=orig["requests"] / figures["full_item_requests"],
            )
    finally:
        fake.terminate()
        fake.wait(10)
    return figures


def print_table(f: dict[str, float]) -> None:
    rows = [
        ("items in the fake repository", f"{f['items']:,.0f}"),
        ("full export: wall time", f"{f['full_seconds']:.1f} s"),
        ("full export: items stored", f"{f['full_items_stored']:,.0f}"),
        ("full export: items/s", f"{f['full_items_per_s']:,.0f}"),
        ("full export: peak RSS", f"{f['full_rss_mb']:.0f} MB"),
        (
            "full export: requests (items + events + other)",
            f"{f['full_requests']:,.0f} ({f['full_item_requests']:,.0f} + "
            f"{f['full_event_requests']:,.0f} + "
            f"{f['full_requests'] - f['full_item_requests'] - f['full_event_requests']:,.0f})",
        ),
        ("floor: ceil(items/100) + event pages", f"{f['floor_requests']:,.0f}"),
        (
            "update after no change: requests (304s, quota)",
            f"{f['nochange_requests']:.0f} ({f['nochange_304']:.0f}, {f['nochange_quota']:.0f})",
        ),
        (
            f"update after {f['update_changes']:,.0f} changes: item requests",
            f"{f['update_item_requests']:.0f} (+{f['update_event_requests']:.0f} event pages)",
        ),
        (
            f"update after {f['update_changes']:,.0f} changes: wall time",
            f"{f['update_seconds']:.1f} s",
        ),
        (
            "next no-change update: requests (304s)",
            f"{f['after_update_nochange_requests']:.0f} ({f['after_update_nochange_304']:.0f})",
        ),
        (
            "steady no-change update: requests (304s)",
            f"{f['steady_nochange_requests']:.0f} ({f['steady_nochange_304']:.0f})",
        ),
        ("original way (GET per number): requests", f"{f['original_requests']:,.0f}"),
        ("original way: items received", f"{f['original_items']:,.0f}"),
        ("original way: wall time (quota lifted)", f"{f['original_seconds']:.1f} s"),
        (
            "original way: hours at 5,000 requests/h",
            f"{f['original_hours_at_5000_per_hour']:.1f} h",
        ),
        (
            "kubesift speed-up / request ratio",
            f"{f['speedup_vs_original']:.1f}x / {f['request_ratio_vs_original']:.0f}x fewer",
        ),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


def main() -> None:
    items_and_changes_main(__doc__ or "", bench, print_table)


if __name__ == "__main__":
    main()
