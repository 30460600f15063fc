"""Release notes for the generated repository: the real ones from the shared datasets
when found, else none (the generator synthesises plausible ones)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

NOTES_SUBDIR = Path("k8s-release-notes") / "kubernetes-sigs-release-notes"
_NONE_LIKE = frozenset({"none", "n/a", "na", "no", "nothing", "-"})


@dataclass(frozen=True, slots=True)
class Note:
    """A release note: its text, author and the PR's kind/sig/area labels (no prefixes)."""

    text: str
    author: str | None
    kinds: tuple[str, ...]
    sigs: tuple[str, ...]
    areas: tuple[str, ...]


def find_datasets_dir() -> Path | None:
    """The shared datasets folder (:func:`kubesift.config.find_datasets`), if present."""
    from kubesift.config import find_datasets

    return find_datasets()


def load_release_notes(directory: Path) -> list[Note]:
    """Read every krel JSON file in ``directory``: one note per PR number, in number order,
    leaving out empty or ``NONE``-like texts and broken template leftovers."""
    merged: dict[str, dict[str, object]] = {}
    for path in sorted(directory.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for key, value in data.items():
            if isinstance(value, dict):
                merged.setdefault(str(key), value)
    notes = []
    for key in sorted(merged, key=lambda k: (len(k), k)):
        value = merged[key]
        text = value.get("text")
        if isinstance(text, str) and _usable_note(text):
            notes.append(
                Note(
                    text.strip(),
                    _opt_str(value.get("author")),
                    _strs(value, "kinds"),
                    _strs(value, "sigs"),
                    _strs(value, "areas"),
                )
            )
    return notes


def _usable_note(text: str) -> bool:
    """Skip the dataset's junk: empty/"NONE"-like notes and template leftovers."""
    bare = text.strip().strip('".').lower()
    return bool(bare) and bare not in _NONE_LIKE and "```" not in text


def _opt_str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _strs(value: dict[str, object], key: str) -> tuple[str, ...]:
    raw = value.get(key)
    return tuple(x for x in raw if isinstance(x, str)) if isinstance(raw, list) else ()


def _resolve_notes(release_notes_dir: Path | None, use: bool) -> list[Note]:
    if not use:
        return []
    directory = release_notes_dir
    if directory is None:
        base = find_datasets_dir()
        directory = base / NOTES_SUBDIR if base else None
    return load_release_notes(directory) if directory and directory.is_dir() else []
