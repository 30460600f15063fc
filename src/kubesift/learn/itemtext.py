"""An issue's or PR's body as a model should read it.

Kubernetes issues and PRs follow templates: HTML-comment instructions, fixed headings
(``### What happened?``, ``#### What type of PR is this?``), ``_No response_`` for empty
fields. Prow slash commands (``/kind bug``, ``/sig node``) *are* labels (Prow applies them
as soon as the item is opened), so they are cut: a model that learnt to read them would
only repeat what is already set and would learn nothing about the text. Headings become
section tokens (``sec_what_happened``) so that words can be read in the section they came
from; the instructions and empty answers go.
"""

from __future__ import annotations

import re

_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.DOTALL)
_COMMAND = re.compile(
    r"^[ \t]*/(?:kind|sig|area|priority|triage|remove-[\w-]+|label|lifecycle|assign|cc|"
    r"milestone|retitle|hold|lgtm|approve|ok-to-test|retest|test|close|reopen|good-first-issue|"
    r"help|release-note[\w-]*)\b.*$",
    re.MULTILINE | re.IGNORECASE,
)
_HEADING = re.compile(r"^[ \t]*#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
_EMPTY = re.compile(r"_No response_|</?details>|</?summary>", re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9]+")


def section_token(heading: str) -> str:
    """``What happened?`` → ``sec_what_happened`` (the first four words)."""
    words = _WORD.findall(heading.lower())[:4]
    return "sec_" + "_".join(words) if words else ""


def clean_body(text: str) -> str:
    """The template's instructions, empty answers and slash commands cut; headings as
    section tokens. Text without a template comes back with only commands cut."""
    if not text:
        return text
    text = _COMMENT.sub(" ", text)
    text = _COMMAND.sub("", text)
    text = _EMPTY.sub(" ", text)
    text = _HEADING.sub(lambda m: section_token(m.group(1)), text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
