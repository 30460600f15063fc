"""Read the release-note JSON files written by the Kubernetes release tooling.

``krel``/``release-notes`` write one JSON object per release, keyed by PR number,
whose values are note objects (``pr_number``, ``text``, ``author``, ``kinds``,
``sigs``, ``areas``, ``documentation``, ``action_required``, ...). Published files
are named ``release-notes-<version>.json`` (``1.18.3``, ``1.22.0-alpha.1``) and
the release team's drafts ``release-notes-draft-<minor>.json`` (read as ``<minor>.0``).

Only the fields a model may read are kept. ``markdown``, ``feature``,
``duplicate``, ``duplicate_kind`` and ``release_version`` are derived from the
labels, so they are never read; ``do_not_publish`` and ``is_mapped`` are ignored
too, but such entries are kept: they are real PRs with real labels.

A PR found in several files becomes one ``KrelNote``: ``release`` is the earliest
version it appears in (version order, not file order); its text and labels come
from that earliest appearance, or from the next one in order when the earliest has
an empty text. At equal versions a published file wins over a draft, then the file
name decides. A PR whose text is empty in every file is left out (there is nothing
to learn from), and the number is taken from the note's ``pr_number``, not from
the object key (one draft file has the key ``12908`` for PR 129083).
"""

from __future__ import annotations

import glob
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from kubesift.errors import ImportError_

_PUBLISHED_NAME = re.compile(
    r"release-notes-(?P<version>\d+\.\d+\.\d+(?:-(?:alpha|beta|rc)\.\d+)?)"
)
_DRAFT_NAME = re.compile(r"release-notes-draft-(?P<minor>\d+\.\d+)")
_VERSION = re.compile(r"v?(\d+)\.(\d+)(?:\.(\d+))?(?:-(alpha|beta|rc)\.(\d+))?")
_STAGES = {"alpha": 0, "beta": 1, "rc": 2, None: 3}
_LABEL_FIELDS = ("kinds", "sigs", "areas")
_GLOB_CHARS = "*?["


@dataclass(frozen=True)
class KrelNote:
    """One PR's release note with its labels, from the release tooling's JSON.

    ``kinds``/``sigs``/``areas`` are label names without their prefix (``bug`` for
    ``kind/bug``); ``documentation`` holds the KEP/doc links as given (``url``,
    ``type`` and usually ``description``); ``release`` is the first release the PR
    appears in and ``source`` the file name its text and labels were taken from.
    """

    pr_number: int
    text: str
    author: str | None
    kinds: tuple[str, ...]
    sigs: tuple[str, ...]
    areas: tuple[str, ...]
    documentation: tuple[dict[str, str], ...]
    action_required: bool
    release: str
    source: str


def release_of(path: Path | str) -> str:
    """Return the release a file is for: ``release-notes-1.18.3.json`` -> ``1.18.3``.

    Drafts (``release-notes-draft-1.29.json``) give ``1.29.0``.
    """
    name = Path(path).name
    if not name.endswith(".json"):
        raise ImportError_(f"{path}: not a .json release-notes file")
    stem = name[: -len(".json")]
    draft = _DRAFT_NAME.fullmatch(stem)
    if draft:
        return f"{draft.group('minor')}.0"
    published = _PUBLISHED_NAME.fullmatch(stem)
    if published:
        return published.group("version")
    raise ImportError_(
        f"{path}: cannot tell the release from the file name "
        "(expected release-notes-X.Y.Z.json or release-notes-draft-X.Y.json)"
    )


def version_key(version: str) -> tuple[int, ...]:
    """Sort key for versions: ``1.22.0-alpha.1`` < ``1.22.0-rc.0`` < ``1.22.0`` < ``1.22.1``."""
    match = _VERSION.fullmatch(version.strip())
    if match is None:
        raise ValueError(f"not a version: {version!r}")
    major, minor, patch, stage, number = match.groups()
    return (int(major), int(minor), int(patch or 0), _STAGES[stage], int(number or 0))


def expand_paths(specs: Iterable[str]) -> list[Path]:
    """Turn files, directories (``*.json`` inside, recursively) and globs into paths.

    The result keeps the order of ``specs``, each spec's matches sorted, without
    duplicates. A spec that matches nothing raises ``ImportError_``.
    """
    found: dict[Path, None] = {}
    for spec in specs:
        matches = _expand_one(spec)
        if not matches:
            raise ImportError_(f"no release-note JSON files match '{spec}'")
        found.update(dict.fromkeys(matches))
    return list(found)


def _expand_one(spec: str) -> list[Path]:
    path = Path(spec).expanduser()
    if path.is_file():
        return [path]
    if path.is_dir():
        return _json_files_under(path)
    if any(char in spec for char in _GLOB_CHARS):
        return _expand_glob(str(path))
    return []


def _json_files_under(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*.json") if p.is_file())


def _expand_glob(pattern: str) -> list[Path]:
    paths: list[Path] = []
    for match in sorted(glob.glob(pattern, recursive=True)):
        path = Path(match)
        paths.extend(_json_files_under(path) if path.is_dir() else [path])
    return paths


def read_krel_notes(paths: Iterable[Path]) -> list[KrelNote]:
    """Read release-note JSON files and merge each PR's appearances into one note.

    Returns the notes sorted by PR number. Unreadable or malformed files raise
    ``ImportError_`` with a one-line ``"<path>: <problem>"`` message.
    """
    appearances: dict[int, list[KrelNote]] = defaultdict(list)
    for path in paths:
        for note in read_krel_file(Path(path)):
            appearances[note.pr_number].append(note)
    merged = (merge_appearances(notes) for notes in appearances.values())
    return sorted((n for n in merged if n is not None), key=lambda n: n.pr_number)


def read_krel_file(path: Path) -> list[KrelNote]:
    """Read one release-note JSON file; every entry becomes a ``KrelNote``."""
    release = release_of(path)
    data = _load_json(path)
    if not isinstance(data, dict):
        raise ImportError_(
            f"{path}: expected a JSON object keyed by PR number, got {_json_type(data)}"
        )
    return [_parse_note(path, release, key, value) for key, value in data.items()]


def merge_appearances(notes: Iterable[KrelNote]) -> KrelNote | None:
    """Merge one PR's notes from several files (see the module docstring).

    ``None`` when every appearance has an empty text.
    """
    ordered = sorted(notes, key=_appearance_key)
    if not ordered:
        return None
    chosen = next((n for n in ordered if n.text), None)
    return None if chosen is None else replace(chosen, release=ordered[0].release)


def _appearance_key(note: KrelNote) -> tuple[tuple[int, ...], bool, str]:
    return (version_key(note.release), "-draft-" in note.source, note.source)


def _load_json(path: Path) -> Any:
    try:
        with path.open("rb") as fh:
            return json.load(fh)
    except OSError as exc:
        raise ImportError_(f"{path}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ImportError_(f"{path}: not UTF-8 text") from exc
    except json.JSONDecodeError as exc:
        raise ImportError_(
            f"{path}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from exc


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "a number")


def _parse_note(path: Path, release: str, key: str, value: object) -> KrelNote:
    where = f"{path}: note '{key}'"
    if not isinstance(value, dict):
        raise ImportError_(f"{where} is {_json_type(value)}, not an object")
    labels = {name: _string_tuple(where, value, name) for name in _LABEL_FIELDS}
    return KrelNote(
        pr_number=_pr_number(where, value),
        text=_text(where, value),
        author=_author(where, value),
        kinds=labels["kinds"],
        sigs=labels["sigs"],
        areas=labels["areas"],
        documentation=_documentation(where, value),
        action_required=_flag(where, value, "action_required"),
        release=release,
        source=path.name,
    )


def _pr_number(where: str, note: Mapping[str, Any]) -> int:
    if "pr_number" not in note:
        raise ImportError_(f"{where} has no 'pr_number'")
    number = note["pr_number"]
    if isinstance(number, bool) or not isinstance(number, int) or number <= 0:
        raise ImportError_(f"{where} has a 'pr_number' that is not a positive integer")
    return number


def _text(where: str, note: Mapping[str, Any]) -> str:
    if "text" not in note:
        raise ImportError_(f"{where} has no 'text'")
    text = note["text"]
    if not isinstance(text, str):
        raise ImportError_(f"{where} has a 'text' that is {_json_type(text)}, not a string")
    return text.strip()


def _author(where: str, note: Mapping[str, Any]) -> str | None:
    author = note.get("author")
    if author is not None and not isinstance(author, str):
        raise ImportError_(f"{where} has an 'author' that is {_json_type(author)}, not a string")
    return author or None


def _string_tuple(where: str, note: Mapping[str, Any], field: str) -> tuple[str, ...]:
    values = note.get(field)
    if values is None:
        return ()
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ImportError_(f"{where} has '{field}' that is not a list of strings")
    return tuple(values)


def _documentation(where: str, note: Mapping[str, Any]) -> tuple[dict[str, str], ...]:
    links = note.get("documentation")
    if links is None:
        return ()
    if not isinstance(links, list) or not all(_is_string_object(link) for link in links):
        raise ImportError_(f"{where} has 'documentation' that is not a list of link objects")
    return tuple(dict(link) for link in links)


def _is_string_object(value: object) -> bool:
    return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())


def _flag(where: str, note: Mapping[str, Any], field: str) -> bool:
    value = note.get(field, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ImportError_(f"{where} has '{field}' that is {_json_type(value)}, not true/false")
    return value
