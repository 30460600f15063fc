"""The bot's one comment per item: rendered from the plan, found by a hidden marker and the
bot's identity, and kept in sync (created, edited in place, deleted)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kubesift.bot.events import is_self
from kubesift.bot.policy import Plan
from kubesift.ci.pr import PRReport
from kubesift.escape import http_url

if TYPE_CHECKING:
    from kubesift.bot.gh import ItemOps

MARKER = "<!-- kubesift-bot:labels -->"
#: GitHub refuses comment bodies longer than this (422 "Body is too long").
MAX_BODY = 65_536
_TRUNCATED = "\n\n… (truncated)\n"


def render(
    plan: Plan | None,
    author: str,
    *,
    dry_run: bool = False,
    model: str = "",
    ci: PRReport | None = None,
) -> str:
    """The comment body: each suggested label, its confidence and the words behind it;
    then, for a PR whose presubmits failed, what each failure is known to be. ``plan`` is
    None when there is nothing to label (a release note of NONE)."""
    lines = [f"Hey @{author} :wave:," if author else "Hello :wave:,", ""]
    if plan is not None and plan.suggested:
        lines.append("I think these labels fit (confidence, and the words that suggested them):")
        lines.append("")
        lines += [_line(s.label, s.score, s.words, plan) for s in plan.suggested]
    elif plan is not None:
        lines.append("I have no confident label suggestions for this one.")
    if ci is not None and not ci.empty:
        lines += ["", *render_ci(ci)]
    lines += ["", _footer(plan, dry_run, model)]
    return truncate("\n".join(lines))


_VERDICTS = {
    "flake": "known flake",
    "regression": "matches an open regression",
    "reported": "an open issue tracks it",
    "new": "new",
}


def render_ci(report: PRReport, limit: int = 25) -> list[str]:
    """The CI section: one line per failed test of the latest failed presubmit runs."""
    new = sum(f.verdict == "new" for f in report.failures)
    lines = [
        f"**CI**: {len(report.failures)} failed tests in {report.failed_runs} failed "
        f"presubmit runs; {new} not seen failing elsewhere.",
        "",
    ]
    if report.symptoms:
        # code spans: a summary cannot mention anyone, link or format anything
        named = ", ".join(f"`{_escape(s)}`" for s in report.symptoms[:10])
        lines[1:1] = [f"Symptoms of these runs: {named}.", ""]
    for f in report.failures[:limit]:
        url = http_url(f.url)  # a link only to http(s), with nothing that ends it early
        url = url.replace("(", "%28").replace(")", "%29").replace(" ", "%20") if url else None
        job = f"[{_escape(f.job)}]({url})" if url else f"`{_escape(f.job)}`"
        seen = ", ".join(f"`{_escape(s)}`" for s in f.symptoms)
        seen = f" (symptoms: {seen})" if seen else ""
        lines.append(
            f"- {_VERDICTS[f.verdict]}: `{_escape(f.test)}` in {job} — {_escape(f.detail)}{seen}"
        )
    if len(report.failures) > limit:
        lines.append(f"- … and {len(report.failures) - limit} more")
    return lines


def _line(label: str, score: float, words: Sequence[str], plan: Plan) -> str:
    state = (
        "added"
        if label in plan.add
        else "already set"
        if label in plan.present
        else "not added: a human removed it"
    )
    why = ", ".join(f"`{_escape(w, 80)}`" for w in words) or "—"
    return f"- **{label}** — {100 * score:.0f}% ({state}); words: {why}"


def _escape(word: str, limit: int = 200) -> str:
    return word.replace("`", "'").replace("\n", " ")[:limit]


def _footer(plan: Plan | None, dry_run: bool, model: str) -> str:
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


def sync_comment(
    gh: ItemOps, repo: str, number: int, body: str | None, identities: frozenset[str]
) -> str:
    """Create, edit (only when changed) or delete the one marker comment; extra marker
    comments left by a race are deleted. Returns what was done."""
    own = find_own(gh.comments(repo, number), identities)
    if body is None:
        for c in own:
            gh.delete_comment(repo, int(c["id"]))
        return "deleted" if own else "nothing"
    if not own:
        gh.create_comment(repo, number, body)
        own = find_own(gh.comments(repo, number), identities)
        _dedupe(gh, repo, own)
        return "created"
    _dedupe(gh, repo, own)
    if own[0].get("body") != body:
        gh.edit_comment(repo, int(own[0]["id"]), body)
        return "edited"
    return "unchanged"


def _dedupe(gh: ItemOps, repo: str, own: list[Mapping[str, Any]]) -> None:
    for extra in own[1:]:
        gh.delete_comment(repo, int(extra["id"]))
