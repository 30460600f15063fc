"""``kubesift import issues``: labelled issues from CSV or JSON lines, as a user gives
them (CSV quirks, label maps, re-imports, bad rows), then ``train --repo`` on them."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kubesift.collect.issuefile import parse_file, parse_label_map
from kubesift.config import find_datasets, load_settings
from kubesift.errors import UserError
from kubesift.learn.dataset import load_dataset
from kubesift.store import open_store
from kubesift.store.schema import items
from tests.conftest import run_cli

MAP = ["--label-map", "bug=kind/bug", "--label-map", "feature=kind/feature"]


def _csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["repo", "created_at", "label", "title", "body"])
        writer.writeheader()
        writer.writerows(rows)
    return path


def _rows(n: int, repo: str = "o/react") -> list[dict[str, str]]:
    return [
        {"repo": repo, "created_at": f"2023-01-{1 + i % 28:02d} 10:00:{i % 60:02d}",
         "label": "bug" if i % 2 else "feature",
         "title": f"Issue {i}: {'crash' if i % 2 else 'please add'}",
         "body": f'line one\n"quoted, with commas"\n{"x" * 200_000 if i == 3 else ""}'}
        for i in range(n)
    ]  # fmt: skip


def test_a_csv_as_published_imports_once_with_mapped_labels(home: Path, tmp_path: Path) -> None:
    path = _csv(tmp_path / "issues.csv", _rows(40) + _rows(20, "o/vscode"))
    done = run_cli("import", "issues", str(path), *MAP, "--json")
    assert done.returncode == 0, done.stderr
    first = json.loads(done.stdout)
    assert (first["rows"], first["created"], first["bad_rows"]) == (60, 60, 0)
    assert first["labels"] == {"kind/bug": 30, "kind/feature": 30}
    assert first["repos"] == {"o/react": 40, "o/vscode": 20}
    again = json.loads(run_cli("import", "issues", str(path), *MAP, "--json").stdout)
    assert (again["created"], again["updated"]) == (0, 60)  # a re-import adds nothing
    engine = open_store(load_settings())
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(items)).scalar() == 60
        long_body = conn.execute(select(func.max(func.length(items.c.body)))).scalar()
    assert long_body == 65_536  # a 200,000-character body (past csv's default) kept, capped
    react = load_dataset(engine, "items", repo="o/react")
    assert len(react.examples) == 40
    assert {label for e in react.examples for label in e.positives} == {"kind/bug", "kind/feature"}
    with pytest.raises(UserError, match="no repository o/none"):
        load_dataset(engine, "items", repo="o/none")
    engine.dispose()


def test_bad_rows_are_named_and_the_rest_kept(home: Path, tmp_path: Path) -> None:
    path = tmp_path / "issues.jsonl"
    good = {"repo": "o/n", "created_at": "2023-02-01T00:00:00Z", "title": "t", "labels": ["bug"]}
    path.write_text("\n".join([
        json.dumps(good),
        json.dumps({**good, "title": "u", "labels": "bug, feature", "number": 7}),
        "{not json",
        json.dumps({**good, "created_at": "yesterday"}),
        json.dumps({**good, "repo": "nope"}),
        json.dumps({**good, "labels": []}),
        json.dumps(["a list"]),
    ]) + "\n", encoding="utf-8")  # fmt: skip
    done = run_cli("import", "issues", str(path), "--label-map", "bug=kind/bug")
    assert done.returncode == 0, done.stderr
    assert "Imported 2 issues" in done.stdout
    assert "skipped 5 bad rows:" in done.stderr
    for reason in ("line 3: not JSON", "line 4: created_at 'yesterday' is not a date",
                   "line 5: repo must look like OWNER/NAME", "line 6: it has no label",
                   "line 7: not a JSON object"):  # fmt: skip
        assert reason in done.stderr, reason
    assert "Traceback" not in done.stderr
    rows, _bad = parse_file(path, label_map={"bug": "kind/bug"})
    assert rows[1].number == 7 and rows[1].labels == ("kind/bug", "feature")
    assert rows[0].number > 1_000_000_000  # derived, stable: the same on every read
    assert parse_file(path)[0][0].number == rows[0].number


def test_user_mistakes_are_one_line_errors(home: Path, tmp_path: Path) -> None:
    missing = run_cli("import", "issues", str(tmp_path / "nope.csv"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    bad_map = run_cli("import", "issues", str(tmp_path / "nope.csv"), "--label-map", "bug")
    assert bad_map.returncode == 2 and "FROM=TO" in bad_map.stderr
    empty = tmp_path / "empty.csv"
    empty.write_text("repo,created_at,label,title,body\n")
    nothing = run_cli("import", "issues", str(empty))
    assert nothing.returncode != 0 and "no importable issue" in nothing.stderr
    assert all("Traceback" not in d.stderr for d in (missing, bad_map, nothing))
    with pytest.raises(UserError):
        parse_label_map(["=x"])


def test_train_on_one_repository(home: Path, tmp_path: Path) -> None:
    path = _csv(tmp_path / "issues.csv", _rows(160) + _rows(60, "o/vscode"))
    assert run_cli("import", "issues", str(path), *MAP).returncode == 0
    done = run_cli("train", "--source", "items", "--family", "kind", "--repo", "o/react",
                   "--no-compare", "--json", timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    trained = json.loads(done.stdout)
    assert trained["metrics"]["train_items"] + trained["metrics"]["test_items"] == 160
    registry = home / "models-items" / "repos" / "o" / "react"
    assert registry.is_dir()
    listed = json.loads(run_cli("models", "list", "--source", "items", "--repo", "o/react",
                                "--json").stdout)  # fmt: skip
    assert len(listed["rows"]) == 1 and listed["rows"][0]["source"] == "items"
    issue = run_cli("predict", "--source", "items", "--repo", "o/react", "Issue 9: crash")
    assert issue.returncode == 0, issue.stderr
    # A promise no forward fold can keep: the model abstains on every label, and says so.
    strict = run_cli("train", "--source", "items", "--family", "kind", "--repo", "o/vscode",
                     "--no-compare", "--target-precision", "0.999", timeout=300)  # fmt: skip
    assert strict.returncode == 0, strict.stderr
    said = run_cli("predict", "--source", "items", "--repo", "o/vscode", "Issue 9: crash")
    assert said.returncode == 0 and json.loads(said.stdout)["labels"] == []
    assert "abstains on every label for issues" in said.stderr
    bad = run_cli("train", "--source", "items", "--repo", "react")
    assert bad.returncode == 2 and "OWNER/NAME" in bad.stderr


def test_the_shared_nlbse_training_half_imports_whole(home: Path) -> None:
    datasets = find_datasets()
    path = datasets / "nlbse24" / "issues_train.csv" if datasets else None
    if path is None or not path.is_file():
        pytest.skip("../shared/datasets/nlbse24/issues_train.csv is absent")
    done = run_cli("import", "issues", str(path), "--label-map", "bug=kind/bug",
                   "--label-map", "feature=kind/feature", "--label-map",
                   "question=kind/support", "--json")  # fmt: skip
    found = json.loads(done.stdout)
    assert found["rows"] == 1500 and found["bad_rows"] == 0
    assert found["labels"] == {"kind/bug": 500, "kind/feature": 500, "kind/support": 500}
    assert len(found["repos"]) == 5
