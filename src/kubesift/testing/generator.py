"""A deterministic generator of a Kubernetes-like repository's issue and PR history.

``generate_repo(91_000)`` builds numbers 1..~91,700 (about 0.8% of them gaps: deleted,
transferred or inaccessible), ~60% PRs with the Kubernetes PR template and release-note
blocks, label histories (who added or removed which label when) whose replay equals each
item's current labels, and realistic open/closed/merged states. Real release notes from
``../shared/datasets/k8s-release-notes`` are used when found (``$KUBESIFT_DATASETS``);
otherwise plausible notes are synthesised. The same arguments (and the same dataset, when
used) always give the same repository.
"""

from __future__ import annotations

import bisect
import calendar
import math
import random
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from kubesift.testing import _vocab as V
from kubesift.testing._notes import Note, _resolve_notes, find_datasets_dir, load_release_notes
from kubesift.testing._text import DAY, _issue_body, _issue_title, _pr_body, _pr_title
from kubesift.testing._users import _build_pool, _Pool, _stable_id
from kubesift.testing._vocab import BOT_LOGINS
from kubesift.testing.model import (
    Event,
    GeneratedRepo,
    Item,
    Label,
    Transfer,
    legacy_node_id,
    modern_node_id,
)

__all__ = [
    "BOT_LOGINS",
    "HISTORY_END",
    "HISTORY_START",
    "Note",
    "find_datasets_dir",
    "generate_repo",
    "load_release_notes",
]

HISTORY_START = calendar.timegm((2014, 6, 6, 0, 0, 0))
HISTORY_END = calendar.timegm((2026, 10, 31, 23, 59, 59))

GAP_SHARE = 0.008
PR_SHARE = 0.60
NOTE_SHARE = 0.45
SWEEP_HOUR = 8 * 3600 + 17 * 60  # the lifecycle bot's daily sweep, 08:17:00Z

_GROWTH = (  # (fraction of numbers, (y, m, d)): kubernetes/kubernetes' real growth curve
    (0.0, (2014, 6, 6)),
    (0.07, (2015, 6, 1)),
    (0.22, (2016, 8, 1)),
    (0.37, (2017, 8, 1)),
    (0.52, (2018, 8, 1)),
    (0.67, (2020, 4, 1)),
    (0.74, (2021, 3, 1)),
    (0.85, (2023, 1, 1)),
    (0.925, (2024, 6, 1)),
    (1.0, (2026, 10, 31)),
)
_TRANSFER_TARGETS = ("website", "kubectl", "enhancements", "kubeadm", "test-infra")


Op = tuple[int, int, str, str, str]  # (time, seq, "+"/"-", label, actor)


# --------------------------------------------------------------------------- labels


def _label_catalog(notes: list[Note]) -> dict[str, Label]:
    specs: list[tuple[str, str, str | None]] = []
    kinds = dict.fromkeys([*V.KIND_LABELS, *(k for n in notes for k in n.kinds)])
    for kind in kinds:
        color, desc = V.KIND_LABELS.get(kind, ("c7def8", None))
        specs.append((f"kind/{kind}", color, desc))
    for sig in dict.fromkeys([*V.SIGS, *(s for n in notes for s in n.sigs)]):
        title = V.SIGS.get(sig, sig.replace("-", " ").title())
        specs.append(
            (f"sig/{sig}", V.SIG_COLOR, f"Categorizes an issue or PR as relevant to SIG {title}.")
        )
    for area in dict.fromkeys([*V.AREAS, *(a for n in notes for a in n.areas)]):
        specs.append((f"area/{area}", V.AREA_COLOR, None))
    for size, color, lines in V.SIZES:
        specs.append(
            (
                f"size/{size}",
                color,
                f"Denotes a PR that changes {lines} lines, ignoring generated files.",
            )
        )
    specs.extend((name, color, desc) for name, (color, desc) in V.FIXED_LABELS.items())
    out = {}
    for i, (name, color, desc) in enumerate(specs):
        ident = 114_528_000 + i * 1_019
        out[name] = Label(name, color, desc, ident, legacy_node_id("Label", ident))
    return out


# --------------------------------------------------------------------------- time


def _created_times(rng: random.Random, count: int) -> list[int]:
    """Non-decreasing creation times following the growth curve."""
    knots = [(f, calendar.timegm((*d, 12, 0, 0))) for f, d in _GROWTH]
    knots[0] = (0.0, HISTORY_START + 3600)
    fracs = [k[0] for k in knots]
    out, prev = [], HISTORY_START
    for i in range(count):
        u = i / max(count - 1, 1)
        j = min(bisect.bisect_right(fracs, u), len(knots) - 1)
        (f0, t0), (f1, t1) = knots[j - 1], knots[j]
        base = t0 + (t1 - t0) * (u - f0) / (f1 - f0 or 1.0)
        step = (t1 - t0) / max((f1 - f0) * count, 1.0)
        prev = min(max(prev, int(base + rng.random() * step)), HISTORY_END - 7200)
        out.append(prev)
    return out


def _next_sweep(t: int) -> int:
    day = t - t % DAY
    sweep = day + SWEEP_HOUR
    return sweep if sweep >= t else sweep + DAY


def _item_id(created: int, prev: int, rng: random.Random) -> int:
    years = (created - HISTORY_START) / (365.25 * DAY)
    return max(prev + 1 + rng.randrange(40), int(35_000_000 * math.exp(0.374 * years)))


# --------------------------------------------------------------------------- generation


class _Builder:
    """Generates one item at a time; keeps the rng, user pool, notes and label catalog."""

    def __init__(
        self,
        rng: random.Random,
        pool: _Pool,
        notes: list[Note],
        labels: dict[str, Label],
        repo_id: int,
    ) -> None:
        self.rng = rng
        self.pool = pool
        self.notes = notes
        self.labels = labels
        self.repo_id = repo_id
        self.kinds = list(V.PR_KIND_WEIGHTS)
        self.kind_cum = _cumulate(V.PR_KIND_WEIGHTS.values())
        self.issue_kinds = list(V.ISSUE_KIND_WEIGHTS)
        self.issue_kind_cum = _cumulate(V.ISSUE_KIND_WEIGHTS.values())
        self.sigs = list(V.SIG_WEIGHTS)
        self.sig_cum = _cumulate(V.SIG_WEIGHTS.values())
        self.none_texts = [t for t, _ in V.NONE_VARIANTS]
        self.none_cum = _cumulate(w for _, w in V.NONE_VARIANTS)
        self.extra: list[tuple[int, int, int, str, str, str | None, str | None]] = []

    def weighted(self, names: list[str], cum: list[float]) -> str:
        return names[bisect.bisect(cum, self.rng.random() * cum[-1])]

    def note(self) -> Note:
        if self.notes:
            return self.notes[self.rng.randrange(len(self.notes))]
        rng = self.rng
        text = rng.choice(V.NOTE_SENTENCES).format(
            c=rng.choice(V.COMPONENTS), f=rng.choice(V.FLAG_WORDS)
        )
        kinds = (self.weighted(self.kinds, self.kind_cum),)
        sigs = tuple(
            dict.fromkeys(
                self.weighted(self.sigs, self.sig_cum) for _ in range(1 + (rng.random() < 0.4))
            )
        )
        areas = (rng.choice(V.AREAS),) if rng.random() < 0.5 else ()
        return Note(text, None, kinds, sigs, areas)

    def build(self, number: int, created: int, ident: int) -> tuple[Item, list[Op], str | None]:
        """One item, its label operations and its release-note text (PRs)."""
        rng = self.rng
        is_pr = rng.random() < PR_SHARE
        note = self.note() if is_pr and rng.random() < NOTE_SHARE else None
        if is_pr and note is None and created >= V.DEPENDABOT_SINCE and rng.random() < 0.004:
            user = "dependabot[bot]"
        else:
            user = note.author if note and note.author else self.pool.pick(rng)
        life = _Life.draw(rng, created, is_pr)
        item = Item(
            number=number,
            id=ident,
            node_id=modern_node_id("PR" if is_pr else "I", self.repo_id, ident),
            is_pr=is_pr,
            title="",
            body=None,
            user=user,
            labels=(),
            state="open",
            created_at=created,
            updated_at=created,
            author_association=self.pool.association.get(user, "CONTRIBUTOR"),
        )
        ops: list[Op] = []
        self._classify(item, note, life, ops)
        rn_text = self._text(item, note, life)
        self._finish(item, life, ops)
        return item, ops, rn_text

    # ----- labels

    def bot(self, t: int) -> str:
        return "k8s-ci-robot" if t >= V.CI_BOT_SINCE else "k8s-github-robot"

    def human(self, item: Item) -> str:
        return (
            item.user
            if self.rng.random() < 0.55 and "[bot]" not in item.user
            else self.pool.maintainer(self.rng)
        )

    def _classify(self, item: Item, note: Note | None, life: _Life, ops: list[Op]) -> None:
        rng, t = self.rng, item.created_at
        if note is not None:
            kinds = list(note.kinds[: 1 + (rng.random() < 0.3)])
            sigs = list(note.sigs[: 1 + (rng.random() < 0.2)])
            areas = list(note.areas[:1]) if rng.random() < 0.3 else []
        else:
            p_kind, p_sig = (0.16, 0.16) if item.is_pr else (0.36, 0.3)
            names, cum = (
                (self.kinds, self.kind_cum)
                if item.is_pr
                else (self.issue_kinds, self.issue_kind_cum)
            )
            kinds = [self.weighted(names, cum)] if rng.random() < p_kind else []
            sigs = [self.weighted(self.sigs, self.sig_cum)] if rng.random() < p_sig else []
            areas = [rng.choice(V.AREAS)] if rng.random() < 0.05 else []
        names = [
            n
            for n in [f"kind/{k}" for k in kinds]
            + [f"sig/{s}" for s in sigs]
            + [f"area/{a}" for a in areas]
            if n in self.labels
        ]
        by_command = t >= V.CI_BOT_SINCE and rng.random() < 0.5
        life.kinds, life.commands, life.command_labels = kinds, by_command, names
        for name in names:
            if by_command:
                ops.append((t + rng.randrange(3, 90), len(ops), "+", name, self.bot(t)))
            else:
                when = t + int(rng.expovariate(1 / max(life.span() / 4, 60)))
                ops.append((min(when, life.end - 1), len(ops), "+", name, self.human(item)))
        if item.is_pr:
            self._pr_bot_labels(item, note, life, ops)
        else:
            self._issue_labels(item, life, ops, bool(sigs))
        self._corrections(item, life, ops)

    def _pr_bot_labels(self, item: Item, note: Note | None, life: _Life, ops: list[Op]) -> None:
        rng, t = self.rng, item.created_at
        if t < 1433116800:  # 2015-06-01: no label bots yet
            return
        bot = self.bot(t)
        if rng.random() < 0.1:
            size = V.SIZES[min(int(rng.expovariate(0.8)), 5)][0]
            ops.append((t + rng.randrange(5, 60), len(ops), "+", f"size/{size}", bot))
        if t >= 1491004800 and rng.random() < 0.06:  # CNCF CLA from 2017-04
            ops.append((t + rng.randrange(5, 60), len(ops), "+", "cncf-cla: yes", bot))
        if t >= 1467331200 and rng.random() < (0.4 if note else 0.25):  # notes from 2016-07
            name = "release-note" if note else "release-note-none"
            ops.append((t + rng.randrange(5, 90), len(ops), "+", name, bot))
        if life.merged and rng.random() < 0.04:
            when = max(t + 1, life.end - rng.randrange(60, 3600))
            ops.append((when, len(ops), "+", "lgtm", bot))
        if life.merged and rng.random() < 0.04:
            when = max(t + 1, life.end - rng.randrange(30, 600))
            ops.append((when, len(ops), "+", "approved", bot))

    def _issue_labels(self, item: Item, life: _Life, ops: list[Op], has_sig: bool) -> None:
        rng, t = self.rng, item.created_at
        if t >= 1564617600 and rng.random() < 0.18:  # needs-triage from 2019-08
            ops.append((t + rng.randrange(2, 30), len(ops), "+", "needs-triage", self.bot(t)))
            if rng.random() < 0.35:
                when = min(t + int(rng.expovariate(1 / (3 * DAY))), life.end - 1)
                ops.append((when, len(ops), "+", "triage/accepted", self.bot(t)))
                ops.append((when, len(ops), "-", "needs-triage", self.bot(t)))
        if t >= V.CI_BOT_SINCE and not has_sig and rng.random() < 0.08:
            ops.append((t + rng.randrange(2, 30), len(ops), "+", "needs-sig", self.bot(t)))
        if rng.random() < 0.06:
            when = min(t + int(rng.expovariate(1 / (5 * DAY))), life.end - 1)
            ops.append((when, len(ops), "+", rng.choice(V.PRIORITIES), self.human(item)))

    def _corrections(self, item: Item, life: _Life, ops: list[Op]) -> None:
        """~5% of items get a wrong kind/sig that a human later removes."""
        rng = self.rng
        if rng.random() >= 0.05 or life.span() < 120:
            return
        wrong = (
            f"kind/{rng.choice(self.kinds)}"
            if rng.random() < 0.5
            else f"sig/{rng.choice(self.sigs)}"
        )
        start = item.created_at + rng.randrange(10, max(life.span() // 2, 11))
        actor = (
            self.bot(start) if start >= V.CI_BOT_SINCE and rng.random() < 0.5 else self.human(item)
        )
        ops.append((start, len(ops), "+", wrong, actor))
        stop = min(start + int(rng.expovariate(1 / DAY)) + 1, life.end - 1)
        ops.append((max(stop, start), len(ops), "-", wrong, self.pool.maintainer(rng)))

    # ----- text

    def _text(self, item: Item, note: Note | None, life: _Life) -> str | None:
        rng = self.rng
        if item.is_pr:
            item.title = _pr_title(rng, note)
            rn = (
                note.text
                if note
                else self.none_texts[bisect.bisect(self.none_cum, rng.random() * self.none_cum[-1])]
            )
            item.body = _pr_body(rng, item, life.kinds if life.commands else [], rn)
        else:
            item.title = _issue_title(rng, life.kinds[0] if life.kinds else "")
            item.body = _issue_body(rng, item, life.command_labels if life.commands else [])
            rn = None
        if item.body is not None and rng.random() < 0.25:
            item.body = item.body.replace("\n", "\r\n")
        return rn

    # ----- state

    def _finish(self, item: Item, life: _Life, ops: list[Op]) -> None:
        rng = self.rng
        last = item.created_at
        if life.stale_at is not None:
            ops.append((life.stale_at, len(ops), "+", "lifecycle/stale", life.stale_bot))
            if life.unstale_at is not None:
                ops.append((life.unstale_at, len(ops), "-", "lifecycle/stale", self.human(item)))
        labels = _replay(ops)
        item.labels = tuple(sorted(labels, key=str.lower))
        last = max([last, *(op[0] for op in ops)])
        if life.closed_at is not None:
            self._close(item, life)
            last = max(last, life.closed_at)
        if life.renamed:
            when = item.created_at + rng.randrange(60, 6 * 3600)
            old = "WIP: " + item.title
            self.extra.append((when, item.number, 90, "renamed", item.user, old, item.title))
            last = max(last, when)
        tie = life.stale_at is not None and last in (life.stale_at, life.closed_at)
        bump = 0 if tie or rng.random() < 0.45 else int(rng.expovariate(1 / (6 * 3600)))
        item.updated_at = min(max(last + bump, item.created_at), HISTORY_END)
        item.comments = int(rng.expovariate(1 / (9 if item.is_pr else 5)))
        if rng.random() < (0.4 if item.is_pr else 0.15):
            item.assignees = tuple(
                dict.fromkeys(self.pool.maintainer(rng) for _ in range(1 + (rng.random() < 0.3)))
            )
        item.draft = item.is_pr and rng.random() < (0.1 if item.state == "open" else 0.02)
        if item.state == "closed" and rng.random() < 0.004:
            item.locked, item.active_lock_reason = True, rng.choice(["resolved", "too heated"])

    def _close(self, item: Item, life: _Life) -> None:
        rng = self.rng
        closed = life.closed_at if life.closed_at is not None else item.created_at
        item.state, item.closed_at = "closed", closed
        if life.by_bot:
            item.closed_by = life.stale_bot
            item.state_reason = None if item.is_pr else "not_planned"
            self.extra.append((closed, item.number, 91, "closed", life.stale_bot, None, None))
        elif life.merged:
            item.merged_at = closed
            item.closed_by = "k8s-merge-robot" if closed < V.CI_BOT_SINCE else "k8s-ci-robot"
            if rng.random() < 0.015:
                sha = f"{zlib.crc32(str(item.id).encode()):08x}" * 5
                self.extra.append((closed, item.number, 92, "merged", item.closed_by, sha, None))
                self.extra.append((closed, item.number, 93, "closed", item.closed_by, sha, None))
        else:
            item.closed_by = item.user if rng.random() < 0.5 else self.pool.maintainer(rng)
            if not item.is_pr:
                self.extra.append((closed, item.number, 93, "closed", item.closed_by, None, None))
            item.state_reason = (
                None if item.is_pr else ("completed" if rng.random() < 0.8 else "not_planned")
            )


def _cumulate(weights: Iterable[float]) -> list[float]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


def _replay(ops: list[Op]) -> set[str]:
    """Sort label operations in time order, drop the no-ops, return the final set."""
    ops.sort()
    current: set[str] = set()
    kept: list[Op] = []
    for op in ops:
        if (op[2] == "+") == (op[3] in current):
            continue
        (current.add if op[2] == "+" else current.discard)(op[3])
        kept.append(op)
    ops[:] = kept
    return current


@dataclass(slots=True)
class _Life:
    """When an item closes, whether it merges, and the lifecycle bot's doings."""

    created: int
    end: int
    closed_at: int | None
    merged: bool
    by_bot: bool
    stale_at: int | None
    unstale_at: int | None
    stale_bot: str
    renamed: bool
    kinds: list[str]
    commands: bool
    command_labels: list[str]

    def span(self) -> int:
        return max(self.end - self.created, 1)

    @staticmethod
    def draw(rng: random.Random, created: int, is_pr: bool) -> _Life:
        age = HISTORY_END - created
        p_open = 0.02 if age > 365 * DAY else 0.02 + 0.6 * (1 - age / (365 * DAY)) ** 2
        median = 3 * DAY if is_pr else 20 * DAY
        duration = int(median * math.exp(rng.gauss(0, 1.5))) + 60
        closed_at: int | None = min(created + duration, HISTORY_END - 1)
        if rng.random() < p_open or closed_at is None or closed_at >= HISTORY_END - 1:
            closed_at = None
        merged = is_pr and closed_at is not None and rng.random() < 0.70
        stale_at, unstale_at, by_bot = None, None, False
        stale_from = max(created, V.STALE_BOT_SINCE - 90 * DAY) + 90 * DAY
        if (
            not merged
            and stale_from < HISTORY_END - DAY
            and rng.random() < (0.6 if closed_at is None else 0.09)
        ):
            stale_at = _next_sweep(stale_from + rng.randrange(0, 30 * DAY))
            if stale_at >= HISTORY_END:
                stale_at = None
            elif closed_at is None and rng.random() < 0.25:
                unstale_at = stale_at + rng.randrange(3600, 20 * DAY)
                unstale_at = unstale_at if unstale_at < HISTORY_END else None
            elif closed_at is not None:
                closed_at = _next_sweep(stale_at + 60 * DAY)
                by_bot = closed_at < HISTORY_END
                closed_at = closed_at if by_bot else None
        end = closed_at or max(min(created + duration, HISTORY_END - 1), created + 60)
        if stale_at is not None:
            end = min(end, stale_at)
        bot = "k8s-triage-robot" if (stale_at or 0) >= V.TRIAGE_BOT_SINCE else "fejta-bot"
        return _Life(
            created,
            end,
            closed_at,
            merged,
            by_bot,
            stale_at,
            unstale_at,
            bot,
            rng.random() < 0.01,
            [],
            False,
            [],
        )


# --------------------------------------------------------------------------- assembly


def _choose_gaps(rng: random.Random, items: int) -> tuple[int, dict[int, str]]:
    n_gaps = round(items * GAP_SHARE / (1 - GAP_SHARE)) if items >= 50 else 0
    max_number = items + n_gaps
    gaps: dict[int, str] = {}
    for number in sorted(rng.sample(range(2, max_number), n_gaps)) if n_gaps else []:
        r = rng.random()
        gaps[number] = "deleted" if r < 0.45 else "transferred" if r < 0.9 else "inaccessible"
    return max_number, gaps


def _events(builder: _Builder, per_item: list[tuple[int, list[Op]]]) -> list[Event]:
    raw: list[tuple[int, int, int, str, str, str | None, str | None]] = list(builder.extra)
    for number, ops in per_item:
        for t, seq, sign, label, actor in ops:
            raw.append(
                (t, number, seq, "labeled" if sign == "+" else "unlabeled", actor, label, None)
            )
    raw.sort(key=lambda r: (r[0], r[1], r[2]))
    out = []
    ident = 210_000_000
    for t, number, _, kind, actor, a, b in raw:
        ident += 7 + (t & 7)
        if kind in ("labeled", "unlabeled"):
            out.append(Event(ident, number, kind, actor, t, label=a))
        elif kind == "renamed":
            out.append(Event(ident, number, kind, actor, t, rename_from=a, rename_to=b))
        else:
            out.append(Event(ident, number, kind, actor, t, commit_id=a))
    return out


def _build_items(
    builder: _Builder, rng: random.Random, max_number: int, gaps: dict[int, str], owner: str
) -> tuple[list[Item], list[tuple[int, list[Op]]], dict[int, Transfer], dict[int, str]]:
    """Every number in turn: built, skipped (deleted, inaccessible) or transferred."""
    created = _created_times(rng, max_number)
    out: list[Item] = []
    per_item: list[tuple[int, list[Op]]] = []
    transferred: dict[int, Transfer] = {}
    release_notes: dict[int, str] = {}
    ident = 0
    for number in range(1, max_number + 1):
        ident = _item_id(created[number - 1], ident, rng)
        gap = gaps.get(number)
        if gap in ("deleted", "inaccessible"):
            continue
        item, ops, rn = builder.build(number, created[number - 1], ident)
        if gap == "transferred":
            transferred[number] = _transfer(item, owner, transferred, rng)
            continue
        out.append(item)
        per_item.append((number, ops))
        if rn is not None:
            release_notes[number] = rn
    return out, per_item, transferred, release_notes


def generate_repo(
    items: int = 91_000,
    *,
    seed: int = 42,
    owner: str = "kubernetes",
    name: str = "kubernetes",
    release_notes_dir: Path | None = None,
    use_release_notes: bool = True,
) -> GeneratedRepo:
    """Generate a Kubernetes-like repository with ``items`` existing issues and PRs.

    Deterministic for the same arguments and release-note dataset. ``release_notes_dir``
    is a directory of krel JSON files; by default the shared dataset is looked up
    (``$KUBESIFT_DATASETS`` or ``../shared/datasets``) and, when absent, notes are
    synthesised. ``use_release_notes=False`` ignores the dataset even when present.
    """
    rng = random.Random(seed)
    notes = _resolve_notes(release_notes_dir, use_release_notes)
    pool = _build_pool(rng, notes)
    labels = _label_catalog(notes)
    repo_id = (
        20580498
        if (owner, name) == ("kubernetes", "kubernetes")
        else _stable_id(f"{owner}/{name}", 10_000_000, 900_000_000)
    )
    max_number, gaps = _choose_gaps(rng, items)
    builder = _Builder(rng, pool, notes, labels, repo_id)
    out, per_item, transferred, release_notes = _build_items(builder, rng, max_number, gaps, owner)
    builder.extra = [e for e in builder.extra if e[1] not in transferred]
    return GeneratedRepo(
        owner=owner,
        name=name,
        repo_id=repo_id,
        seed=seed,
        created_at=HISTORY_START - 3 * DAY,
        items=out,
        events=_events(builder, per_item),
        labels=labels,
        users=pool.users,
        deleted={n for n, g in gaps.items() if g == "deleted"},
        transferred=transferred,
        inaccessible={n for n, g in gaps.items() if g == "inaccessible"},
        release_notes=release_notes,
        maintainers=tuple(pool.maintainers),
    )


def _transfer(item: Item, owner: str, done: dict[int, Transfer], rng: random.Random) -> Transfer:
    target = f"{owner}/{rng.choice(_TRANSFER_TARGETS)}"
    target_number = 1 + sum(1 for t in done.values() if t.target == target)
    item.labels = ()
    return Transfer(item.number, target, target_number, item)
