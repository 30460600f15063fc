"""Titles and bodies of generated issues and PRs (the Kubernetes templates)."""

from __future__ import annotations

import random

from kubesift.testing import _vocab as V
from kubesift.testing._notes import Note
from kubesift.testing.model import (
    Item,
)

DAY = 86_400


# --------------------------------------------------------------------------- text


def _pr_title(rng: random.Random, note: Note | None) -> str:
    if note is not None and rng.random() < 0.5:
        first = note.text.splitlines()[0].strip().rstrip(".")
        return first if len(first) <= 90 else first[:87].rstrip() + "..."
    title = f"{rng.choice(V.PR_VERBS)} {rng.choice(V.COMPONENTS)}{rng.choice(V.PR_TAILS)}"
    return ("[WIP] " + title) if rng.random() < 0.02 else title


def _issue_title(rng: random.Random, kind: str) -> str:
    if kind in ("flake", "failing-test"):
        job = rng.choice(V.FLAKY_JOBS)
        return (
            f"[{'Flaky' if kind == 'flake' else 'Failing'} test] {job}: "
            f"{rng.choice(V.COMPONENTS)} tests"
        )
    if kind == "feature":
        return f"Support {rng.choice(V.COMPONENTS)}{rng.choice(V.PR_TAILS)}"
    return f"{rng.choice(V.COMPONENTS)} {rng.choice(V.ISSUE_SYMPTOMS)}"


def _k8s_version(t: int) -> str:
    minor = max(0, min(34, int((t - 1435708800) / (121 * DAY))))
    return f"v1.{minor}.{(t // DAY) % 12}"


def _pr_body(rng: random.Random, item: Item, kinds: list[str], note: str) -> str:
    what = rng.choice(V.NOTE_SENTENCES).format(
        c=rng.choice(V.COMPONENTS), f=rng.choice(V.FLAG_WORDS)
    )
    comments = rng.random() < 0.35
    kind_lines = "\n".join(f"/kind {k}" for k in kinds) or "<!--\n/kind bug\n-->"
    fixes = (
        f"Fixes #{rng.randrange(1, item.number)}\n"
        if item.number > 1 and rng.random() < 0.5
        else ""
    )
    docs = (
        f"- [KEP]: https://github.com/kubernetes/enhancements/issues/{rng.randrange(1000, 4800)}"
        if rng.random() < 0.08
        else ""
    )
    return "".join(
        (
            V.PR_TEMPLATE_COMMENT if comments else "",
            "#### What type of PR is this?\n\n",
            kind_lines,
            "\n\n",
            "#### What this PR does / why we need it:\n\n",
            what,
            "\n\n",
            "#### Which issue(s) this PR fixes:\n\n",
            fixes,
            "\n",
            "#### Special notes for your reviewer:\n\n",
            "#### Does this PR introduce a user-facing change?\n\n",
            V.NOTE_COMMENT if comments else "",
            "```release-note\n",
            note,
            "\n```\n\n",
            "#### Additional documentation e.g., KEPs (Kubernetes Enhancement Proposals), "
            "usage docs, etc.:\n\n",
            V.DOCS_COMMENT if comments else "",
            "```docs\n",
            docs,
            "\n```\n",
        )
    )


def _issue_body(rng: random.Random, item: Item, commands: list[str]) -> str | None:
    if rng.random() < 0.02:
        return None
    cmds = "".join(f"\n/{c.replace('/', ' ', 1)}" for c in commands)
    if item.created_at < 1514764800:  # before 2018: free-form
        return f"{item.title}.\n\nSeen on {_k8s_version(item.created_at)}." + cmds
    version = _k8s_version(item.created_at)
    return "".join(
        (
            "### What happened?\n\n",
            rng.choice(V.COMPONENTS),
            " ",
            rng.choice(V.ISSUE_SYMPTOMS),
            ".\n\n### What did you expect to happen?\n\nIt should keep working.\n\n",
            "### How can we reproduce it (as minimally and precisely as possible)?\n\n",
            "Create a cluster and run the workload for a few hours.\n\n",
            "### Anything else we need to know?\n\n_No response_\n\n",
            "### Kubernetes version\n\n<details>\n\n```console\n$ kubectl version\n",
            f"Client Version: {version}\nServer Version: {version}\n```\n\n</details>\n",
            cmds,
        )
    )
