"""The bot's one comment per item: found by a hidden marker and the bot's identity."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from kubesift.bot.events import is_self
from kubesift.bot.policy import Plan

MARKER = "<!-- kubesift-bot:labels -->"
#: GitHub refuses comment bodies longer than this (422 "Body is too long").
MAX_BODY = 65_536
_TRUNCATED = "\n\n… (truncated)\n"


def render(plan: Plan, author: str, *, dry_run: bool = False, model: str = "") -> str:
    """The comment body: each suggested label, its confidence and the words behind it."""
    lines = [f"Hey @{author} :wave:," if author else "Hello :wave:,", ""]
    if plan.suggested:
        lines.append("I think these labels fit (confidence, and the words that suggested them):")
        lines.append("")
        lines += [_line(s.label, s.score, s.words, plan) for s in plan.suggested]
    else:
        lines.append("I have no confident label suggestions for this one.")
    lines += ["", _footer(plan, dry_run, model)]
    return truncate("\n".join(lines))


def _line(label: str, score: float, words: Sequence[str], plan: Plan) -> str:
    state = (
        "added"
        if label in plan.add
        else "already set"
        if label in plan.present
        else "not added: a human removed it"
    )
    why = ", ".join(f"`{_escape(w)}`" for w in words) or "—"
    return f"- **{label}** — {100 * score:.0f}% ({state}); words: {why}"


def _escape(word: str) -> str:
    return word.replace("`", "'").replace("\n", " ")[:80]


def _footer(plan: Plan, dry_run: bool, model: str) -> str:
    note = "Shadow mode: nothing was changed. " if dry_run else ""
    return (
        f"<sub>{note}I only add labels and never re-add one a person removed; remove any "
        f"that are wrong and I will learn from it.{' Model: ' + model if model else ''}</sub>"
    )


def truncate(text: str, limit: int = MAX_BODY) -> str:
    """``text`` with the marker, cut so the whole body stays under ``limit`` characters."""
    room = limit - len(MARKER) - 2
    if len(text) > room:
        text = text[: room - len(_TRUNCATED)] + _TRUNCATED
    return f"{text}\n{MARKER}"


def find_own(
    comments: Iterable[Mapping[str, Any]], identities: frozenset[str]
) -> list[Mapping[str, Any]]:
    """The bot's marker comments, oldest first (more than one only after a race)."""
    return [
        c
        for c in comments
        if MARKER in str(c.get("body") or "")
        and is_self(str((c.get("user") or {}).get("login") or ""), identities)
    ]
