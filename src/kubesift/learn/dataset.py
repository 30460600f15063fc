"""Datasets for label models, read from the store with label provenance.

An :class:`Example` holds only what existed when the item was opened (its text, title,
author, kind and documentation links) plus its targets. Targets come from the current
labels, corrected by the label events: a label kubesift's own bot applied is never a
target (it is *unknown* for that item), and a label a human removed is a negative.

Splits are temporal: by release (``release:1.30`` trains on releases before 1.30 and
tests on 1.30 and later) or by creation time (``created:2024-01-01``).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from kubesift import defaults
from kubesift.collect.krel import version_key
from kubesift.errors import UserError
from kubesift.github.actors import is_human_verdict
from kubesift.store.schema import (
    bot_decisions,
    item_labels,
    items,
    label_events,
    labels,
    release_notes,
    repositories,
)

#: The only fields a model may read. Everything else on an item is derived from labels
#: or from what happened after it was opened.
INPUT_FIELDS = defaults.INPUT_FIELDS

#: The binary task of the original project: bug (or regression) vs anything else.
BUG_TASK = "kind/bug"
BUG_LABELS = frozenset({"kind/bug", "kind/regression"})

OWN_BOT = "kubesift[bot]"
DEFAULT_OWN_BOTS = (OWN_BOT, "kubesift-bot")


@dataclass(frozen=True)
class Example:
    """One item as a model may see it, with its targets.

    ``positives`` are the labels humans (or trusted automation) applied; ``negatives``
    the labels a human removed; ``unknown`` the labels only kubesift's own bot applied.
    """

    id: str
    text: str
    title: str | None = None
    author: str | None = None
    kind: str = "pr"
    documentation: str = ""
    release: str | None = None
    created_at: str | None = None
    positives: frozenset[str] = frozenset()
    negatives: frozenset[str] = frozenset()
    unknown: frozenset[str] = frozenset()

    def inputs(self) -> dict[str, str | None]:
        """The model's input: the allowed fields and nothing else."""
        return {name: getattr(self, name) for name in INPUT_FIELDS}


@dataclass(frozen=True)
class Targets:
    """A label matrix ``y`` (n × L, 0/1) with ``known`` (n × L, bool): which cells count."""

    labels: tuple[str, ...]
    y: np.ndarray
    known: np.ndarray


@dataclass
class Dataset:
    """Examples in time order, with helpers to build targets and temporal splits."""

    examples: list[Example]
    source: str = "release-notes"
    meta: dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.examples)

    def inputs(self) -> list[dict[str, str | None]]:
        return [e.inputs() for e in self.examples]

    def subset(self, index: Iterable[int]) -> Dataset:
        chosen = [self.examples[i] for i in index]
        return Dataset(chosen, self.source, dict(self.meta))

    def family_labels(self, family: str, min_support: int = 1) -> tuple[str, ...]:
        """Labels named ``family/…`` with at least ``min_support`` positives, by name."""
        counts: dict[str, int] = defaultdict(int)
        for example in self.examples:
            for name in example.positives:
                if name.startswith(f"{family}/"):
                    counts[name] += 1
        return tuple(sorted(n for n, c in counts.items() if c >= min_support))

    def data_hash(self) -> str:
        """A sha256 over ids, inputs and targets: the same data gives the same hash."""
        digest = hashlib.sha256()
        for e in self.examples:
            row = [e.id, e.inputs(), sorted(e.positives), sorted(e.negatives), sorted(e.unknown)]
            digest.update(json.dumps(row, sort_keys=True).encode())
        return digest.hexdigest()


def targets(dataset: Dataset, task: Sequence[str], families: Sequence[str] = ()) -> Targets:
    """Build the label matrix for ``task`` labels and whole ``families``.

    ``kind/bug`` as a task means bug *or* regression (the binary task). For a family,
    an item that carries none of its labels and has no human negative is unlabelled for
    that family (unknown), not a negative of every label in it.
    """
    names = list(dict.fromkeys(task))
    for family in families:
        names += [n for n in dataset.family_labels(family, 5) if n not in names]
    n, width = len(dataset), len(names)
    y = np.zeros((n, width), dtype=np.int8)
    known = np.ones((n, width), dtype=bool)
    for i, ex in enumerate(dataset.examples):
        for j, name in enumerate(names):
            y[i, j], known[i, j] = _target(ex, name, families)
    return Targets(tuple(names), y, known)


def labelled_count(dataset: Dataset, task: Sequence[str], families: Sequence[str] = ()) -> int:
    """Examples that carry a positive for one of ``task`` or of a family: the training
    signal a retrain would add (the reconciler's "new labelled items")."""
    wanted = set(task) | (BUG_LABELS if BUG_TASK in task else set())
    prefixes = tuple(f"{f}/" for f in families)
    return sum(
        1
        for ex in dataset.examples
        if any(p in wanted or (prefixes and p.startswith(prefixes)) for p in ex.positives)
    )


def _target(ex: Example, name: str, families: Sequence[str]) -> tuple[int, bool]:
    wanted = BUG_LABELS if name == BUG_TASK else frozenset({name})
    if ex.positives & wanted:
        return 1, True
    if ex.unknown & wanted:
        return 0, False
    if ex.negatives & wanted:
        return 0, True
    family = name.split("/", 1)[0]
    if family in families and not _touches(ex, family):
        return 0, False
    return 0, True


def _touches(ex: Example, family: str) -> bool:
    prefix = f"{family}/"
    return any(n.startswith(prefix) for n in ex.positives | ex.negatives)


# -- temporal splits ----------------------------------------------------------------------------


def minor_of(release: str) -> tuple[int, int]:
    key = version_key(release)
    return key[0], key[1]


def parse_split(spec: str) -> tuple[str, str, str | None]:
    """``release:1.30`` or ``release:1.30..1.33`` or ``created:2024-01-01`` → parts."""
    kind, _, rest = spec.partition(":")
    start, _, end = rest.partition("..")
    if kind not in ("release", "created") or not start:
        raise UserError(
            f"--split must look like release:1.30, release:1.30..1.33 or created:2024-01-01, "
            f"not {spec!r}"
        )
    if kind == "release":
        for value in (start, end):
            if value:
                try:
                    version_key(value)
                except ValueError as exc:
                    raise UserError(f"--split: {value!r} is not a release like 1.30") from exc
    return kind, start, end or None


def temporal_split(dataset: Dataset, spec: str) -> tuple[Dataset, Dataset]:
    """Split into (train, test): everything strictly before the boundary trains.

    Items without the split field (no release, no created time) are left out of both.
    """
    kind, start, end = parse_split(spec)
    train: list[int] = []
    test: list[int] = []
    for i, ex in enumerate(dataset.examples):
        side = _side(ex, kind, start, end)
        if side == "train":
            train.append(i)
        elif side == "test":
            test.append(i)
    if not train or not test:
        raise UserError(
            f"split {spec} leaves {len(train)} training and {len(test)} test items; "
            "pick a boundary inside the data"
        )
    return dataset.subset(train), dataset.subset(test)


def _side(ex: Example, kind: str, start: str, end: str | None) -> str | None:
    if kind == "release":
        if not ex.release:
            return None
        minor = minor_of(ex.release)
        if minor < minor_of(start):
            return "train"
        return "test" if end is None or minor <= minor_of(end) else None
    if not ex.created_at:
        return None
    if ex.created_at < start:
        return "train"
    return "test" if end is None or ex.created_at < end else None


# -- reading the store --------------------------------------------------------------------------


def load_dataset(
    engine: Engine,
    source: str = "release-notes",
    own_bots: Sequence[str] = DEFAULT_OWN_BOTS,
    repo: str | None = None,
) -> Dataset:
    """Read examples from the store (only ``repo``'s when given).

    ``release-notes``: one example per release note (PR bodies or imported krel files,
    the body's note winning); ``items``: issue/PR title and body, exported from GitHub or
    imported from a file (``kubesift import issues``).
    """
    if source not in ("release-notes", "items"):
        raise UserError(f"unknown dataset source {source!r} (release-notes or items)")
    with engine.connect() as conn:
        rows = _note_rows(conn) if source == "release-notes" else _item_rows(conn)
        if repo is not None:
            wanted = conn.execute(
                select(repositories.c.id).where(repositories.c.full_name == repo)
            ).scalar()
            if wanted is None:
                raise UserError(f"the store holds no repository {repo}")
            rows = [r for r in rows if int(str(r["repository_id"])) == int(wanted)]
        current = _current_labels(conn)
        events = _label_events(conn)
    examples = [_example(row, current, events, frozenset(own_bots)) for row in rows]
    examples.sort(key=_time_key)
    if not examples:
        raise UserError(
            "the store holds no training data; run "
            "`kubesift import release-notes …` or `kubesift export` first"
        )
    return Dataset(examples, source)


def _time_key(ex: Example) -> tuple[tuple[int, ...], str, str]:
    release = version_key(ex.release) if ex.release else (0,)
    return release, ex.created_at or "", ex.id


def _note_rows(conn: Connection) -> list[dict[str, object]]:
    query = (
        select(
            items.c.id,
            items.c.repository_id,
            items.c.number,
            items.c.kind,
            items.c.author,
            items.c.created_at,
            release_notes.c.source,
            release_notes.c.text,
            release_notes.c.release,
            release_notes.c.documentation,
            release_notes.c.author.label("note_author"),
        )
        .select_from(release_notes.join(items, items.c.id == release_notes.c.item_id))
        .where(release_notes.c.status == "note", items.c.state.not_in(["deleted"]))
    )
    best: dict[int, dict[str, object]] = {}
    for row in conn.execute(query).mappings():
        if not row["text"]:
            continue
        item_id = int(row["id"])
        previous = best.get(item_id)
        if previous is None or row["source"] == "body":
            best[item_id] = {**row, "release": row["release"] or (previous or {}).get("release")}
    return [
        {
            "item_id": r["id"],
            "repository_id": r["repository_id"],
            "number": r["number"],
            "kind": r["kind"],
            "text": r["text"],
            "title": None,
            "author": r["note_author"] or r["author"],
            "created_at": r["created_at"],
            "release": r["release"],
            "documentation": r["documentation"],
        }
        for r in best.values()
    ]


#: Where items models learn from: GitHub exports and labelled files (not release notes).
ITEM_SOURCES = ("github", "file")


def _item_rows(conn: Connection) -> list[dict[str, object]]:
    query = select(
        items.c.id.label("item_id"),
        items.c.repository_id,
        items.c.number,
        items.c.kind,
        items.c.title,
        items.c.body.label("text"),
        items.c.author,
        items.c.created_at,
    ).where(items.c.state.not_in(["deleted"]), items.c.source.in_(ITEM_SOURCES))
    return [
        {**r, "text": r["text"] or "", "release": None, "documentation": None}
        for r in conn.execute(query).mappings()
        if (r["text"] or r["title"])
    ]


def _current_labels(conn: Connection) -> dict[int, set[str]]:
    found: dict[int, set[str]] = defaultdict(set)
    query = select(item_labels.c.item_id, labels.c.name).select_from(
        item_labels.join(labels, labels.c.id == item_labels.c.label_id)
    )
    for item_id, name in conn.execute(query):
        found[int(item_id)].add(str(name))
    return found


def _label_events(conn: Connection) -> dict[tuple[int, int], list[tuple[str, str, str, bool]]]:
    """(repository, number) → [(event, label, actor, actor_is_bot)] in time order."""
    found: dict[tuple[int, int], list[tuple[str, str, str, bool]]] = defaultdict(list)
    query = select(
        label_events.c.repository_id,
        label_events.c.item_number,
        label_events.c.event,
        label_events.c.label,
        label_events.c.actor,
        label_events.c.actor_is_bot,
        label_events.c.created_at,
    ).order_by(label_events.c.created_at, label_events.c.id)
    timed: dict[tuple[int, int], list[tuple[str, tuple[str, str, str, bool]]]] = defaultdict(list)
    for repo, number, event, label, actor, is_bot, at in conn.execute(query):
        timed[(int(repo), int(number))].append(
            (at or "", (event, label, actor or "", bool(is_bot)))
        )
    # The bot's own additions, from its decision records: known even when the export does
    # not walk GitHub's event history (the bot's webhooks bring the humans' changes).
    own = (
        select(
            repositories.c.id,
            bot_decisions.c.number,
            bot_decisions.c.label,
            bot_decisions.c.created_at,
        )
        .select_from(
            bot_decisions.join(repositories, repositories.c.full_name == bot_decisions.c.repo)
        )
        .where(bot_decisions.c.action == "added", bot_decisions.c.dry_run.is_(False))
    )
    for repo, number, label, at in conn.execute(own):
        timed[(int(repo), int(number))].append((at or "", ("labeled", label, OWN_BOT, True)))
    for key, rows in timed.items():
        rows.sort(key=lambda r: r[0][:19])  # whole seconds: the two sources differ below that
        found[key] = [event for _, event in rows]
    return found


def provenance(
    current: Iterable[str],
    events: Sequence[tuple[str, str, str, bool]],
    own_bots: frozenset[str],
) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """Apply the provenance rules → (positives, negatives, unknown).

    A current label whose last ``labeled`` event is by one of ``own_bots`` is unknown.
    A label absent now whose last ``unlabeled`` event is a human verdict (a person, or
    Prow applying a person's command; not our bot, not other automation) is a negative.
    """
    last_added: dict[str, str] = {}
    last_removed: dict[str, tuple[str, bool]] = {}
    for event, label, actor, is_bot in events:
        if event == "labeled":
            last_added[label] = actor
        else:
            last_removed[label] = (actor, is_bot)
    now = set(current)
    unknown = {n for n in now if last_added.get(n) in own_bots}
    negatives = {
        n
        for n, (actor, is_bot) in last_removed.items()
        if n not in now and actor not in own_bots and is_human_verdict(actor, is_bot)
    }
    return frozenset(now - unknown), frozenset(negatives), frozenset(unknown)


def _example(
    row: dict[str, object],
    current: dict[int, set[str]],
    events: dict[tuple[int, int], list[tuple[str, str, str, bool]]],
    own_bots: frozenset[str],
) -> Example:
    key = (int(str(row["repository_id"])), int(str(row["number"])))
    pos, neg, unk = provenance(current.get(int(str(row["item_id"])), set()), events[key], own_bots)
    return Example(
        id=f"{row['number']}",
        text=str(row["text"] or ""),
        title=_opt(row["title"]),
        author=_opt(row["author"]),
        kind=str(row["kind"]),
        documentation=documentation_text(_opt(row["documentation"])),
        release=_opt(row["release"]),
        created_at=_opt(row["created_at"]),
        positives=pos,
        negatives=neg,
        unknown=unk,
    )


def _opt(value: object) -> str | None:
    return None if value is None else str(value)


def documentation_text(raw: str | None) -> str:
    """Documentation links (JSON list of {url, description, type}) as plain text."""
    if not raw:
        return ""
    try:
        docs = json.loads(raw)
    except json.JSONDecodeError:
        return raw
    parts = []
    for doc in docs if isinstance(docs, list) else []:
        if isinstance(doc, dict):
            parts += [str(doc.get(k, "")) for k in ("type", "description", "url")]
    return " ".join(p for p in parts if p)
