"""Reading the Kubernetes release tooling's release-note JSON files."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from kubesift.collect.krel import (
    KrelNote,
    expand_paths,
    merge_appearances,
    read_krel_file,
    read_krel_notes,
    release_of,
    version_key,
)
from kubesift.config import find_datasets
from kubesift.errors import ImportError_, UserError

REPO_ROOT = Path(__file__).resolve().parents[2]


def datasets_dir() -> Path:
    return find_datasets() or Path("../shared/datasets")  # absent: the tests skip


RELEASE_NOTES_DIR = datasets_dir() / "k8s-release-notes"


def note_json(pr: int, text: str = "Fixed a thing", **extra: Any) -> dict[str, Any]:
    return {
        "commit": "0" * 40,
        "text": text,
        "markdown": f"{text} ([#{pr}](https://github.com/kubernetes/kubernetes/pull/{pr})) [SIG X]",
        "author": "someone",
        "author_url": "https://github.com/someone",
        "pr_url": f"https://github.com/kubernetes/kubernetes/pull/{pr}",
        "pr_number": pr,
        **extra,
    }


def write(directory: Path, name: str, content: Any) -> Path:
    path = directory / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


# --- file names and versions -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "release"),
    [
        ("release-notes-1.18.3.json", "1.18.3"),
        ("release-notes-1.14.0.json", "1.14.0"),
        ("release-notes-1.22.0-alpha.1.json", "1.22.0-alpha.1"),
        ("release-notes-1.23.0-rc.1.json", "1.23.0-rc.1"),
        ("release-notes-draft-1.29.json", "1.29.0"),
        ("some/dir/release-notes-draft-1.33.json", "1.33.0"),
    ],
)
def test_release_of(name: str, release: str) -> None:
    assert release_of(Path(name)) == release


@pytest.mark.parametrize("name", ["notes.json", "release-notes-1.18.json", "release-notes-1.18.3"])
def test_release_of_rejects_other_names(name: str) -> None:
    with pytest.raises(ImportError_, match=f"^{name}: "):
        release_of(name)


def test_version_key_orders_like_releases() -> None:
    versions = ["1.22.0", "1.21.10", "1.22.0-rc.0", "1.22.0-alpha.1", "1.21.9", "1.22.0-beta.0"]
    assert sorted(versions, key=version_key) == [
        "1.21.9",
        "1.21.10",
        "1.22.0-alpha.1",
        "1.22.0-beta.0",
        "1.22.0-rc.0",
        "1.22.0",
    ]
    assert version_key("1.29") == version_key("1.29.0") == version_key("v1.29.0")


def test_version_key_rejects_garbage() -> None:
    with pytest.raises(ValueError, match="not a version"):
        version_key("latest")


# --- reading and merging -------------------------------------------------------------------------


def test_note_fields_and_what_is_left_out(tmp_path: Path) -> None:
    docs = [{"description": "[KEP]", "url": "https://github.com/k/e/keps/1", "type": "KEP"}]
    entry = note_json(
        101,
        "Added --foo",
        kinds=["feature"],
        sigs=["cli"],
        areas=["kubectl"],
        documentation=docs,
        action_required=True,
        feature=True,
        duplicate=True,
        release_version="1.20.0",
        do_not_publish=True,
    )
    path = write(tmp_path, "release-notes-1.20.0.json", {"101": entry})
    [note] = read_krel_notes([path])
    assert note == KrelNote(
        pr_number=101,
        text="Added --foo",
        author="someone",
        kinds=("feature",),
        sigs=("cli",),
        areas=("kubectl",),
        documentation=tuple(docs),
        action_required=True,
        release="1.20.0",
        source="release-notes-1.20.0.json",
    )
    fields = {f.name for f in dataclasses.fields(KrelNote)}
    assert not fields & {"markdown", "feature", "duplicate", "release_version", "do_not_publish"}


def test_missing_labels_are_empty(tmp_path: Path) -> None:
    entry = note_json(5, author=None, kinds=None)
    del entry["author"]
    [note] = read_krel_notes([write(tmp_path, "release-notes-1.20.0.json", {"5": entry})])
    assert (note.kinds, note.sigs, note.areas, note.documentation) == ((), (), (), ())
    assert note.author is None
    assert note.action_required is False


def test_merge_uses_earliest_version_not_file_order(tmp_path: Path) -> None:
    later = write(
        tmp_path, "release-notes-1.20.10.json", {"7": note_json(7, "Later text", kinds=["cleanup"])}
    )
    earlier = write(
        tmp_path, "release-notes-1.20.8.json", {"7": note_json(7, "First text", kinds=["bug"])}
    )
    for order in ([later, earlier], [earlier, later]):
        [note] = read_krel_notes(order)
        assert (note.release, note.text, note.kinds) == ("1.20.8", "First text", ("bug",))
        assert note.source == "release-notes-1.20.8.json"


def test_merge_prerelease_before_release_and_draft(tmp_path: Path) -> None:
    paths = [
        write(tmp_path, "release-notes-draft-1.22.json", {"9": note_json(9, "Draft")}),
        write(tmp_path, "release-notes-1.22.0.json", {"9": note_json(9, "Final")}),
        write(tmp_path, "release-notes-1.22.0-alpha.1.json", {"9": note_json(9, "Alpha")}),
    ]
    [note] = read_krel_notes(paths)
    assert (note.release, note.text) == ("1.22.0-alpha.1", "Alpha")


def test_published_file_beats_draft_of_the_same_release(tmp_path: Path) -> None:
    paths = [
        write(tmp_path, "release-notes-draft-1.21.json", {"9": note_json(9, "Draft")}),
        write(tmp_path, "release-notes-1.21.0.json", {"9": note_json(9, "Published")}),
    ]
    [note] = read_krel_notes(paths)
    assert (note.release, note.text, note.source) == (
        "1.21.0",
        "Published",
        "release-notes-1.21.0.json",
    )


def test_empty_earliest_text_falls_back_to_next_appearance(tmp_path: Path) -> None:
    paths = [
        write(tmp_path, "release-notes-1.16.0.json", {"3": note_json(3, "  ", kinds=["feature"])}),
        write(tmp_path, "release-notes-1.16.2.json", {"3": note_json(3, "Real", kinds=["bug"])}),
    ]
    [note] = read_krel_notes(paths)
    assert (note.release, note.text, note.kinds) == ("1.16.0", "Real", ("bug",))
    assert note.source == "release-notes-1.16.2.json"


def test_pr_with_only_empty_texts_is_left_out(tmp_path: Path) -> None:
    content = {"3": note_json(3, ""), "4": note_json(4, "Kept")}
    notes = read_krel_notes([write(tmp_path, "release-notes-1.16.0.json", content)])
    assert [n.pr_number for n in notes] == [4]
    assert merge_appearances([]) is None


def test_notes_sorted_by_pr_and_number_comes_from_the_note(tmp_path: Path) -> None:
    content = {"30": note_json(30), "12908": note_json(129083), "2": note_json(2)}
    notes = read_krel_notes([write(tmp_path, "release-notes-1.32.0.json", content)])
    assert [n.pr_number for n in notes] == [2, 30, 129083]


def test_read_krel_file_keeps_every_entry(tmp_path: Path) -> None:
    content = {"1": note_json(1), "2": note_json(2, do_not_publish=True)}
    notes = read_krel_file(write(tmp_path, "release-notes-1.20.1.json", content))
    assert [(n.pr_number, n.release) for n in notes] == [(1, "1.20.1"), (2, "1.20.1")]


# --- errors ---------------------------------------------------------------------------------------


def _without(field: str) -> dict[str, Any]:
    entry = note_json(1)
    del entry[field]
    return entry


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "not valid JSON (Expecting property name enclosed in double quotes"),
        ([note_json(1)], "expected a JSON object keyed by PR number, got a list"),
        ({"1": "text"}, "note '1' is a string, not an object"),
        ({"1": _without("pr_number")}, "note '1' has no 'pr_number'"),
        ({"1": note_json("1")}, "note '1' has a 'pr_number' that is not a positive integer"),  # type: ignore[arg-type]
        ({"1": _without("text")}, "note '1' has no 'text'"),
        ({"1": note_json(1, None)}, "note '1' has a 'text' that is null, not a string"),  # type: ignore[arg-type]
        ({"1": note_json(1, kinds="bug")}, "note '1' has 'kinds' that is not a list of strings"),
        ({"1": note_json(1, sigs=[1])}, "note '1' has 'sigs' that is not a list of strings"),
        (
            {"1": note_json(1, documentation=["https://k8s.io"])},
            "note '1' has 'documentation' that is not a list of link objects",
        ),
        (
            {"1": note_json(1, action_required="yes")},
            "note '1' has 'action_required' that is a string, not true/false",
        ),
        ({"1": note_json(1, author=7)}, "note '1' has an 'author' that is a number, not a string"),
    ],
)
def test_bad_files_give_one_line_user_errors(tmp_path: Path, content: Any, problem: str) -> None:
    path = write(tmp_path, "release-notes-1.20.0.json", content)
    with pytest.raises(ImportError_) as info:
        read_krel_notes([path])
    message = info.value.message
    assert message.startswith(f"{path}: ")
    assert problem in message
    assert "\n" not in message
    assert isinstance(info.value, UserError) and info.value.exit_code == 2


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "release-notes-1.20.0.json"
    with pytest.raises(ImportError_, match=r"release-notes-1\.20\.0\.json: cannot read: "):
        read_krel_notes([path])


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "release-notes-1.20.0.json"
    path.write_bytes(b'{"1": "\xff"}')
    with pytest.raises(ImportError_, match=r"release-notes-1\.20\.0\.json: not"):
        read_krel_notes([path])


# --- expanding paths ------------------------------------------------------------------------------


def test_expand_paths(tmp_path: Path) -> None:
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    one = write(tmp_path / "a", "release-notes-1.20.1.json", {})
    two = write(sub, "release-notes-1.20.0.json", {})
    write(tmp_path / "a", "README.md", "not json")

    assert expand_paths([str(one)]) == [one]
    # Sorted by path: ".../a/b/release-notes-1.20.0.json" comes before ".../a/release-notes-...".
    assert expand_paths([str(tmp_path / "a")]) == [two, one]
    assert expand_paths([str(tmp_path / "a" / "*.json")]) == [one]
    assert expand_paths([str(tmp_path / "**" / "*.json")]) == [two, one]
    assert expand_paths([str(one), str(tmp_path / "a")]) == [one, two]


@pytest.mark.parametrize("spec", ["nowhere/release-notes-1.0.0.json", "nowhere/*.json", "empty"])
def test_expand_paths_nothing_matches(tmp_path: Path, spec: str) -> None:
    (tmp_path / "empty").mkdir()
    full = str(tmp_path / spec)
    with pytest.raises(ImportError_) as info:
        expand_paths([full])
    assert info.value.message == f"no release-note JSON files match '{full}'"


# --- the real data set ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_notes() -> list[KrelNote]:
    if not RELEASE_NOTES_DIR.is_dir():
        pytest.skip(
            f"shared data set not found at {RELEASE_NOTES_DIR} "
            "(set KUBESIFT_DATASETS to the datasets directory)"
        )
    return read_krel_notes(expand_paths([str(RELEASE_NOTES_DIR)]))


def test_real_data_set_reads_and_has_about_6600_prs(real_notes: list[KrelNote]) -> None:
    assert 6_000 <= len(real_notes) <= 7_500
    assert len({n.pr_number for n in real_notes}) == len(real_notes)
    assert all(n.text for n in real_notes)


def test_real_data_first_release_by_version(real_notes: list[KrelNote]) -> None:
    by_pr = {n.pr_number: n for n in real_notes}
    # In release-notes-1.18.0.json and release-notes-1.19.0.json.
    assert by_pr[82785].release == "1.18.0"
    # In 1.20.10 and 1.20.8: file-name order would say 1.20.10.
    assert by_pr[102542].release == "1.20.8"
    # Stored under the key "12908" in the 1.32 draft.
    assert by_pr[129083].release == "1.32.0"


def test_real_data_labels(real_notes: list[KrelNote]) -> None:
    kinds = Counter(kind for n in real_notes for kind in n.kinds)
    assert kinds["bug"] > 1_000
    assert {"feature", "cleanup", "api-change"} <= set(kinds)
    assert sum(1 for n in real_notes if n.kinds) > 0.95 * len(real_notes)
    links = [link for n in real_notes for link in n.documentation]
    assert links and all({"url", "type"} <= set(link) for link in links)


def test_real_data_reference_split(real_notes: list[KrelNote]) -> None:
    # docs/evaluation.md: train on releases <= 1.29 (about 5,480), test on 1.30-1.33 (about 1,120).
    test = [n for n in real_notes if version_key(n.release) >= version_key("1.30.0-alpha.0")]
    assert 5_300 <= len(real_notes) - len(test) <= 5_700
    assert 1_000 <= len(test) <= 1_250
