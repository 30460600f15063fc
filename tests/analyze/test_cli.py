"""``kubesift analyze`` and ``kubesift report`` run as processes."""

from __future__ import annotations

import json
import re
from pathlib import Path

from kubesift.analyze import ANALYSES
from tests.analyze.sample import build_store
from tests.conftest import run_cli


def _valid_svg(path: Path) -> bool:
    text = path.read_text()
    return "<svg" in text[:2000] and text.rstrip().endswith("</svg>") and len(text) > 5000


def _valid_png(path: Path) -> bool:
    data = path.read_bytes()
    return data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 5000


def test_analyze_all_writes_an_svg_and_a_png_per_chart(home: Path) -> None:
    build_store(home)
    done = run_cli("analyze", "--all")
    assert done.returncode == 0, done.stderr
    paths = [Path(line) for line in done.stdout.split()]
    assert len(paths) == 2 * len(ANALYSES)
    assert home / "assets" / "created-vs-closed-issues-and-pull-requests.svg" in paths
    for path in paths:
        assert path.parent == home / "assets"
        assert _valid_svg(path) if path.suffix == ".svg" else _valid_png(path), path


def test_analyze_one_chart_for_pull_requests(home: Path) -> None:
    build_store(home)
    done = run_cli("analyze", "--created-vs-closed", "--pull-requests", "--since", "2024-01-01")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [
        str(home / "assets" / "created-vs-closed-pull-requests.svg"),
        str(home / "assets" / "created-vs-closed-pull-requests.png"),
    ]
    svg = (home / "assets" / "created-vs-closed-pull-requests.svg").read_text()
    assert "Pull requests created, closed and open" in svg


def test_analyze_prints_numbers_as_json_and_csv(home: Path) -> None:
    build_store(home)
    done = run_cli("analyze", "--users-by-created", "--missing-labels", "--format", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["users-by-created"]["rows"] == [
        {"value": "alice", "items": 2},
        {"value": "bob", "items": 2},
        {"value": "carol", "items": 2},
    ]
    assert data["missing-labels"]["rows"][0]["kind"] == "issues"
    csv = run_cli("analyze", "--time-to-merge", "--format", "csv")
    assert csv.stdout.splitlines() == [
        "month,median_days,p85_days,merged",
        "2024-01-01,2.0,2.0,1",
        "2024-02-01,30.0,30.0,1",
    ]
    assert not (home / "assets").exists()


def test_analyze_explains_empty_store_bad_filters_and_missing_choice(home: Path) -> None:
    empty = run_cli("analyze", "--all")
    assert empty.returncode == 2
    assert "no items to analyze" in empty.stderr
    build_store(home)
    cases = {
        ("--created",): None,
        ("--all", "--include", "^no-such/"): "no items to analyze",
        ("--all", "--repo", "nope/nope"): "not in the store",
        ("--all", "--since", "2024-03-01", "--until", "2024-01-01"): "--since",
        ("--all", "--exclude", "(["): "not a valid regular expression",
        ("--pull-requests",): "choose an analysis",
    }
    for args, message in cases.items():
        done = run_cli("analyze", *args)
        if message is None:
            assert done.returncode == 0, done.stderr
        else:
            assert done.returncode == 2, args
            assert message in done.stderr, (args, done.stderr)


def _external_refs(page: str) -> list[str]:
    return re.findall(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page)


def test_report_is_one_self_contained_file(home: Path) -> None:
    build_store(home)
    done = run_cli("report")
    assert done.returncode == 0, done.stderr
    path = home / "assets" / "report.html"
    assert done.stdout.strip() == str(path)
    page = path.read_text()
    assert _external_refs(page) == []
    assert "<link" not in page and "@import" not in page and "url(" not in page
    assert page.count('<img class=chart alt="') == len(ANALYSES)
    assert page.count("data:image/png;base64,") == len(ANALYSES)
    assert "<h2 id=store>The store</h2>" in page and "o/r" in page
    assert "items created 2024-01-01 to 2024-02-15" in page
    assert "Pull request time to merge" in page


def test_report_without_data_still_renders(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "r.html"
    done = run_cli("report", "--output", str(out))
    assert done.returncode == 0, done.stderr
    page = out.read_text()
    assert "No data" in page and "The store is empty" in page
    assert "<img" not in page


def test_report_and_charts_on_release_notes_without_dates(home: Path, tmp_path: Path) -> None:
    """What `make demo` does: imported release notes carry labels but no dates."""
    notes = {
        str(n): {
            "pr_number": n,
            "text": f"Fixed thing {n}",
            "author": "alice",
            "kinds": ["bug" if n % 2 else "feature"],
            "sigs": ["node"],
        }
        for n in range(1, 9)
    }
    (tmp_path / "release-notes-1.20.0.json").write_text(json.dumps(notes))
    assert (
        run_cli("import", "release-notes", str(tmp_path / "release-notes-1.20.0.json")).returncode
        == 0
    )
    report = run_cli("report")
    assert report.returncode == 0, report.stderr
    page = Path(report.stdout.strip()).read_text()
    assert "kind/bug" in page and "Traceback" not in report.stderr
    charts = run_cli("analyze", "--all")
    assert charts.returncode == 0, charts.stderr
