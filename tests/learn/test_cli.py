"""The train / predict / models commands as real processes."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.engine import Engine

from kubesift.collect.importer import import_release_notes
from kubesift.config import load_settings
from kubesift.learn.dataset import load_dataset
from kubesift.learn.service import save_trained
from kubesift.learn.train import TrainSpec, train
from kubesift.store import open_store
from tests.conftest import GitHubFixture, run_cli


def test_train_predict_models(engine: Engine, home: Path, tmp_path: Path) -> None:
    result = run_cli("train", "--label", "kind/bug", "--family", "sig", "--split", "release:1.29")
    assert result.returncode == 0, result.stderr
    assert "seed-mlp" in result.stdout and "sift-linear" in result.stdout
    one = run_cli("predict", "Fix panic crash in the kubelet", "--author", "dev1")
    assert one.returncode == 0, one.stderr
    assert "kind/bug" in json.loads(one.stdout)["labels"]

    lines = [{"id": 1, "text": "Fix a race and a leak"}, {"id": "b", "text": "Add new field"}]
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text("".join(json.dumps(x) + "\n" for x in lines))
    batch = run_cli("predict", "--input", str(src), "--output", str(dst))
    assert batch.returncode == 0, batch.stderr
    out = [json.loads(x) for x in dst.read_text().splitlines()]
    assert [o["id"] for o in out] == [1, "b"]
    assert "kind/bug" in out[0]["labels"] and "kind/bug" not in out[1]["labels"]
    assert set(out[0]["scores"]) >= {"kind/bug", "sig/node"}

    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n")
    refused = run_cli("predict", "--input", str(bad))
    assert refused.returncode == 2 and "bad.jsonl:1" in refused.stderr
    for line, said in (('{"id": 1}', "give 'text' (or 'title')"),
                       ('{"text": 5}', "'text' must be text, not int"),
                       ('{"text": "x", "kind": "epic"}', "'kind' must be issue or pr"),
                       ('["x"]', "expected a JSON object")):  # fmt: skip
        bad.write_text(line + "\n")
        wrong = run_cli("predict", "--input", str(bad))
        assert wrong.returncode == 2 and said in wrong.stderr, (line, wrong.stderr)
        assert "Traceback" not in wrong.stderr
    missing = run_cli("predict", "--input", str(tmp_path / "missing.jsonl"))
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert missing.stderr.strip().splitlines() == [
        f"Error: cannot read {tmp_path / 'missing.jsonl'}: No such file or directory"
    ]

    listed = run_cli("models", "list")
    assert listed.returncode == 0 and "sift-linear" in listed.stdout
    version = next((home / "models" / "sift-linear").iterdir()).name
    assert run_cli("models", "promote", "sift-linear", version).returncode == 0
    assert run_cli("models", "show").returncode == 0

    model_file = home / "models" / "sift-linear" / version / "model.skops"
    model_file.write_bytes(model_file.read_bytes() + b"x")
    broken = run_cli("predict", "Fix panic")
    assert broken.returncode == 1
    assert "sha256 does not match" in broken.stderr and "Traceback" not in broken.stderr


def test_production_fit_on_every_note_with_forward_thresholds(engine: Engine, home: Path) -> None:
    args = ("train", "--label", "kind/bug", "--family", "sig", "--no-compare")
    evaluation = run_cli(*args, "--split", "release:1.29", "--json")
    production = run_cli(*args, "--split", "release:1.29", "--production")
    assert evaluation.returncode == 0 and production.returncode == 0, production.stderr
    assert "production fit" in production.stdout and "promises precision" in production.stdout
    # Progress on standard error, a line per step with the time left; stdout stays JSON.
    steps = [line for line in production.stderr.splitlines() if "s left" in line]
    assert any(line.startswith("evaluation run on ") for line in steps), production.stderr
    assert any("production fit on 240 items: forward block 5/5 (7/7)" in ln for ln in steps)
    assert "evaluation run on" in evaluation.stderr
    ev = json.loads(evaluation.stdout)
    versions = sorted((home / "models" / "sift-linear").iterdir())
    meta = json.loads((versions[-1] / "metadata.json").read_text())
    metrics = json.loads((versions[-1] / "metrics.json").read_text())
    assert ev["model"]["fit"] == "evaluation" and meta["fit"] == "production"
    # The evaluation run trains before 1.29; the production fit on all 240 notes.
    assert ev["metrics"]["train_items"] < 240 == metrics["production"]["train_items"]
    assert metrics["calibration"]["method"] == "forward"
    assert metrics["test_items"] == ev["metrics"]["test_items"] > 0  # the evaluation's figures
    assert meta["evaluation"]["split"] == "release:1.29"
    assert (versions[-1] / "evaluation.skops").is_file()
    card = (versions[-1] / "card.md").read_text()
    assert "Fit: **production**, on all 240 examples" in card
    assert "Abstains (never acts; cannot promise" in card and "promised precision" in card
    assert "best forward precision" in card or not metrics["calibration"]["abstains"]
    abstains = metrics["calibration"]["abstains"]
    for name, threshold in zip(meta["labels"], meta["thresholds"], strict=True):
        assert (threshold is None) == (name in abstains)
    listed = run_cli("models", "list")
    assert "production" in listed.stdout and "evaluation" in listed.stdout


def test_user_mistakes_exit_2(engine: Engine) -> None:
    """kubesift's own one-line errors (not click's usage errors, which also exit 2)."""
    untrained = run_cli("predict", "x")
    assert untrained.returncode == 2
    assert "no trained model" in untrained.stderr and "Usage:" not in untrained.stderr
    bad_split = run_cli("train", "--split", "random")
    assert bad_split.returncode == 2
    assert "random" in bad_split.stderr and "Usage:" not in bad_split.stderr
    assert len(bad_split.stderr.strip().splitlines()) == 1, bad_split.stderr


def test_original_test_texts_go_the_right_way(home: Path, datasets: Path) -> None:
    engine = open_store(load_settings({"KUBESIFT_HOME": str(home)}))
    import_release_notes(engine, [str(datasets / "k8s-release-notes")])
    spec = TrainSpec(params={"use_char": False}, compare=(), folds=3)
    save_trained(home / "models", train(load_dataset(engine), spec))
    result = run_cli("predict", "--test")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK" in result.stdout


def test_train_on_exported_issues_and_prs(home: Path, github: GitHubFixture) -> None:
    """``--source items``: titles and bodies exported from GitHub, split by creation time."""
    from sqlalchemy import func, select

    from kubesift.store.schema import items
    from tests.conftest import REPO

    assert run_cli("export", "--repo", REPO, env=github.env()).returncode == 0
    engine = open_store(load_settings())
    with engine.connect() as conn:
        created = sorted(conn.execute(select(items.c.created_at)).scalars())
        assert conn.execute(select(func.count()).select_from(items)).scalar() == len(created)
    boundary = created[int(len(created) * 0.8)]
    out = run_cli(
        "train", "--source", "items", "--family", "kind", "--label", "kind/bug",
        "--split", f"created:{boundary}", "--no-compare",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert not (home / "models").exists()  # items models have their own registry
    meta = json.loads(next((home / "models-items").glob("*/*/metadata.json")).read_text())
    assert meta["source"] == "items" and meta["examples"] > len(created) * 0.9
    assert set(meta["thresholds_by_kind"]) == {"issue", "pr"}  # each kind its own promise
    assert meta["split"] == f"created:{boundary}" and "kind/bug" in meta["labels"]
    wrong = run_cli("train", "--source", "items", "--split", "release:1.30")
    assert wrong.returncode == 2 and "split" in wrong.stderr


def test_train_tune_records_the_search(engine: Engine, home: Path) -> None:
    result = run_cli(
        "train", "--label", "kind/bug", "--split", "release:1.29", "--no-compare",
        "--tune", "--budget", "4",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Tuning:" in result.stdout and "trials" in result.stdout
    version = next((home / "models" / "sift-linear").iterdir())
    search = json.loads((version / "tuning.json").read_text())
    metadata = json.loads((version / "metadata.json").read_text())
    assert search["trials"] and search["budget_seconds"] == 4
    # the saved model was fit with the best parameters found
    for key, value in search["best_params"].items():
        assert metadata["params"][key] == value
    assert metadata["tuning"]["best_score"] == max(t["score"] for t in search["trials"])
