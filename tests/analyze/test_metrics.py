"""Metrics on a hand-made store with known answers."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from kubesift.analyze import ANALYSES, Filters, Frames, analyze, load, metrics
from kubesift.analyze.charts import png_bytes
from kubesift.config import load_settings
from kubesift.errors import UserError
from kubesift.store import open_store
from tests.analyze.sample import build_store


@pytest.fixture
def frames(tmp_path: Path) -> Frames:
    return load(build_store(tmp_path), Filters())


def test_deleted_items_and_their_events_are_left_out(frames: Frames) -> None:
    assert sorted(frames.items["number"]) == [1, 2, 3, 4, 5, 6]
    assert 7 not in set(frames.events["item_number"])


def test_created_and_closed_are_cumulative_per_day(frames: Frames) -> None:
    created = metrics.cumulative(frames.items["created_at"])
    assert created.index[0] == pd.Timestamp("2024-01-01")
    assert created[pd.Timestamp("2024-01-04")] == 2  # items 1 and 4 (7 is deleted)
    assert created.iloc[-1] == 6
    closed = metrics.cumulative(metrics.closed_times(frames.items))
    assert closed.iloc[-1] == 4
    assert closed.index[-1] == pd.Timestamp("2024-02-20")


def test_created_vs_closed_running_sum_is_the_open_count(frames: Frames) -> None:
    table = metrics.created_vs_closed(frames.items)
    # by Jan 10: created 1, 2, 4, 5; closed 4 and 1
    assert table.loc["2024-01-10"].tolist() == [4, 2, 2]
    assert table.iloc[-1].tolist() == [6, 4, 2]  # issues 2 and 3 stay open


def test_label_groups_count_each_item_once_and_rank_ties_by_name(frames: Frames) -> None:
    groups = metrics.labels_by_group(frames.labels, top=25)
    assert groups.to_dict() == {
        "kind": 3,
        "sig": 3,
        "area": 1,
        "lgtm": 1,
        "release-note": 1,
    }
    assert list(metrics.labels_by_group(frames.labels, top=2).index) == ["kind", "sig"]
    assert metrics.labels_by_name(frames.labels, top=2).to_dict() == {"kind/bug": 2, "sig/node": 2}


def test_users_by_created_and_closed(frames: Frames) -> None:
    assert metrics.users_by_created(frames.items, 25).to_dict() == {
        "alice": 2,
        "bob": 2,
        "carol": 2,
    }
    assert metrics.users_by_closed(frames.items, 25).to_dict() == {"alice": 1}


def test_users_by_closed_says_so_when_no_closer_is_known(tmp_path: Path) -> None:
    frames = load(build_store(tmp_path, closed_by=False), Filters())
    (result,) = analyze(frames, ["users-by-closed"], Filters(), 25)
    assert result.empty
    assert result.note is not None and "does not know who closed" in result.note


def test_release_notes_summary_and_kinds(frames: Frames) -> None:
    summary = metrics.release_notes_summary(frames.items, frames.notes)
    assert summary.to_dict() == {
        "pull requests": 3,
        "note": 1,
        "none": 1,
        "missing": 1,
        "error": 0,
        "unknown": 0,
    }
    kinds = metrics.release_notes_by_kind(frames.items, frames.labels, frames.notes, 25)
    assert kinds.to_dict() == {"kind/feature": 1}


def test_time_to_merge_ignores_never_merged_prs(frames: Frames) -> None:
    table = metrics.time_to_merge(frames.items)
    assert list(table.index) == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-02-01")]
    assert table["merged"].tolist() == [1, 1]  # PR 6 was closed without merging
    assert table["median_days"].tolist() == [2.0, 30.0]
    assert table["p85_days"].tolist() == [2.0, 30.0]


def test_backlog_counts_open_items_and_their_age_at_month_end(frames: Frames) -> None:
    table = metrics.backlog(frames.items)
    january = table.loc[pd.Timestamp("2024-01-31")]
    # open on Jan 31: issue 2 (since Jan 5) and PR 5 (Jan 10 to Feb 9)
    assert january["open"] == 2
    assert january["median_age_days"] == pytest.approx((26.5 + 21.5) / 2)
    assert table["open"].iloc[-1] == 2  # issues 2 and 3 are still open


def test_velocity_by_sig(frames: Frames) -> None:
    table = metrics.velocity_by_sig(frames.items, frames.labels, 25)
    rows = {(r.sig, f"{r.month:%Y-%m}"): (r.opened, r.closed) for r in table.itertuples()}
    assert rows == {("sig/api-machinery", "2024-01"): (1, 1), ("sig/node", "2024-01"): (2, 1)}


def test_label_actors_counts_only_labels_applied(frames: Frames) -> None:
    table = metrics.label_actors(frames.events)
    assert table[["bot", "human"]].to_dict("index") == {
        pd.Timestamp("2024-01-01"): {"bot": 1, "human": 1},
        pd.Timestamp("2024-02-01"): {"bot": 1, "human": 0},
    }
    assert table["bot_share"].tolist() == [0.5, 1.0]


def test_missing_labels(frames: Frames) -> None:
    table = metrics.missing_labels(frames.items, frames.labels)
    assert table.loc["issues"].to_dict() == {
        "items": 3,
        "no kind/": 2,
        "no sig/": 1,
        "neither": 1,
        "open without kind/ or sig/": 2,
    }
    assert table.loc["pull requests"].to_dict() == {
        "items": 3,
        "no kind/": 1,
        "no sig/": 2,
        "neither": 1,
        "open without kind/ or sig/": 0,
    }


@pytest.mark.parametrize(
    ("filters", "numbers"),
    [
        (Filters(kinds=("pr",)), [4, 5, 6]),
        (Filters(kinds=("issue",)), [1, 2, 3]),
        (Filters(include=("^sig/",)), [1, 2, 4]),
        (Filters(exclude=("^kind/",)), [2, 3, 6]),
        (Filters(since=date(2024, 2, 1)), [3, 6]),
        (Filters(until=date(2024, 1, 2)), [1, 4]),
        (Filters(repo="o/r", include=("node",), exclude=("bug",)), [2]),
    ],
)
def test_filters(tmp_path: Path, filters: Filters, numbers: list[int]) -> None:
    frames = load(build_store(tmp_path), filters)
    assert sorted(frames.items["number"]) == numbers
    assert set(frames.labels["item_id"]) <= set(frames.items["id"])


def test_unknown_repo_and_bad_regex_are_user_errors(tmp_path: Path) -> None:
    engine = build_store(tmp_path)
    with pytest.raises(UserError, match="not in the store"):
        load(engine, Filters(repo="x/y"))
    with pytest.raises(UserError, match="--include"):
        load(engine, Filters(include=("(",)))


def test_empty_store_and_no_match_are_user_errors(tmp_path: Path) -> None:
    empty = open_store(load_settings({"KUBESIFT_HOME": str(tmp_path / "empty")}))
    with pytest.raises(UserError, match="no items"):
        analyze(load(empty, Filters()), ["created"], Filters(), 25)
    nothing = load(build_store(tmp_path), Filters(include=("no-such-label",)))
    with pytest.raises(UserError, match="no items"):
        analyze(nothing, list(ANALYSES), Filters(), 25)


def test_every_analysis_copes_with_items_without_labels_events_or_notes(tmp_path: Path) -> None:
    frames = load(build_store(tmp_path, notes=False), Filters(since=date(2024, 2, 1)))
    frames = Frames(
        frames.items[frames.items["number"] == 3],
        frames.labels.iloc[:0],
        frames.events.iloc[:0],
        frames.notes.iloc[:0],
    )
    results = analyze(frames, list(ANALYSES), Filters(), 5)
    by_name = {r.name: r for r in results}
    assert by_name["created"].table["created"].iloc[-1] == 1
    assert by_name["labels-by-name"].empty
    assert by_name["time-to-merge"].empty
    assert by_name["label-actors"].empty
    for result in results:
        assert png_bytes(result).startswith(b"\x89PNG")


def test_report_tables_print_counts_as_grouped_integers() -> None:
    import pandas as pd

    from kubesift.analyze.analyses import Analysis
    from kubesift.analyze.report import _table_html

    table = pd.DataFrame({"notes": [6601.0, 12.0], "median days": [2.25, 10.0]}, index=["a", "b"])
    html = _table_html(Analysis("x", "X", table, "barh", "", ""))
    assert "6,601" in html and "6601.0" not in html and "6,601.0" not in html
    assert "2.2" in html and ">12<" in html
