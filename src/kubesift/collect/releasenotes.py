"""Extract the release note a Kubernetes pull request's author wrote in its body.

This follows the Kubernetes release tooling (k8s.io/release ``pkg/notes``,
``NoteTextFromString`` and the exclusion/inclusion filters of
``ListCommitsWithNotes``) and the Prow ``release-note`` plugin's "none" regex
``(?i)^\\W*(NONE|NO)\\W*$``. It is a pure function of the body: no I/O.

Outcomes (``ReleaseNote.status``):

* ``note``: a real note; ``text`` is the cleaned note, ``raw`` the block as written.
* ``none``: the author said there is none: the block holds NONE / NO / N/A / NA
  (any case, optionally quoted or wrapped in other non-word characters), the
  block is empty, or the body contains ``/release-note-none``.
* ``missing``: no release-note block and no mention of one.
* ``error``: the body mentions ``release-note`` or the "Does this PR introduce a
  user-facing change?" heading, but holds no block we can parse (the tooling's
  "no matches found when parsing note text from commit string").

Blocks recognised, tried in this order, each with ``\\n`` or ``\\r\\n`` line
endings and ended by the FIRST closing fence at the start of a line:

1. ````` ```release-note ````` and ````` ```release-notes `````;
2. ````` ```dev-release-note ````` and ````` ```dev-release-notes `````;
3. a bare ````` ``` ````` fence that is the first fence after the
   "Does this PR introduce a user-facing change?" heading (or the older
   template's ``**Release note**:`` heading), HTML comments in between skipped.

Text cleaning, as ``NoteTextFromString``: drop ``\\r``, remove
``[action required]`` / ``action required:`` (any case; this sets
``action_required``), turn ``* `` bullets into ``- ``, flatten a note written as a
single list entry (``unlist``: ``- item`` and its two-space-indented continuation lines
become plain lines, up to a second top-level ``- `` entry, which is kept as written),
trim surrounding whitespace.

Deliberate deviations from the Go code:

* No ``#`` -> ``&#35;`` escaping: that is for rendering Markdown, and we want the
  author's own words (for learning). ``raw`` keeps the block content verbatim.
* Adjacent fences: the Go exclusion regex
  ````` (?i)```(release-note[s]?\\s*)?('|")?(none|n/a|na)?('|")?\\s*``` `````
  has only optional groups, so it also matches a closing fence followed by
  whitespace and another fence: a real note directly followed by a
  ````` ```docs ````` block is wrongly excluded there. We do NOT reproduce that bug:
  only the release-note block's own content decides ``none``, so such a PR
  gives ``note``. Likewise an empty fenced block elsewhere in the body (an
  empty code sample) does not make the PR ``none`` here.
* Line endings: Go accepts ``\\n`` only for ```` ```release-note ````; the
  ``dev-release-note`` and bare-fence patterns require ``\\r\\n``. We accept both
  everywhere, and spaces or tabs after the opening info string.
* ``dev-release-note``: Go's ungreedy ``(?P<note>.+)`` has nothing after it, so it
  captures a single character; we capture up to the closing fence.
* Bare fences: Go takes the first bare CRLF fence anywhere in the body (a log or
  code sample in the description becomes "the note"); we take a bare fence only
  that is the first fence after the user-facing-change heading, where the PR
  template puts the note.
* Precedence: Go tries the CRLF patterns before the LF ``release-note`` one; we
  try ``release-note`` (either ending) first, then ``dev-release-note``, then the
  bare fence.
* "None": the Go exclusion only knows none / n/a / na, bare or quoted, so
  ``None.`` would be published as a note. We use the plugin's broader regex,
  extended with N/A and NA: ``(?i)^\\W*(NONE|NO|N/?A)\\W*$``. A block that is
  empty after cleaning (e.g. only ``[action required]``) is ``none`` too.
* HTML comments (template hints left inside the block) are removed from
  ``text``; a block holding only a comment is ``none``. Go keeps them.
* Cleaning is applied at the start of lines only: Go replaces ``* `` and
  ``action required:`` anywhere, which mangles ``**Note:** text`` into
  ``**Note:*- text`` and ``No action required: ...`` into ``No ...``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

NoteStatus = Literal["note", "none", "missing", "error"]

_FLAGS = re.DOTALL | re.MULTILINE
_OPEN_CLOSE = r"[ \t]*\r?\n(?P<note>.*?)^```"
_RELEASE_NOTE_BLOCK = re.compile(r"```release-notes?" + _OPEN_CLOSE, _FLAGS)
_DEV_NOTE_BLOCK = re.compile(r"```dev-release-notes?" + _OPEN_CLOSE, _FLAGS)
_BARE_BLOCK = re.compile(r"```" + _OPEN_CLOSE, _FLAGS)
_HEADING = re.compile(r"Does this PR introduce a user-facing change\??|Release note\*\*:")
_COMMENT_OR_FENCE = re.compile(r"<!--.*?-->|```", re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)

_NONE_TEXT = re.compile(r"^\W*(?:NONE|NO|N/?A)\W*$", re.IGNORECASE)
_NONE_COMMAND = "/release-note-none"
_MENTION = re.compile(r"release-note|Does this PR introduce a user-facing chang")
_ACTION_REQUIRED = re.compile(
    r"^(?P<lead>[ \t]*(?:[-*][ \t]+)?)(?:\[action required\]|action required:)[ \t]*",
    re.IGNORECASE | re.MULTILINE,
)
_STAR_BULLET = re.compile(r"^(?P<lead>[ \t]*)\* ", re.MULTILINE)
_LIST_PREFIX = "- "
_TRAILING_EOL = re.compile(r"\r?\n\Z")


@dataclass(frozen=True)
class ReleaseNote:
    """What a PR body says about its release note.

    ``text`` is set only for ``note``; ``raw`` is the block content as written
    (``None`` when there is no block).
    """

    status: NoteStatus
    text: str | None
    action_required: bool
    raw: str | None


def find_note_block(body: str) -> str | None:
    """Return the content of the first release-note block in ``body``, verbatim.

    The line ending before the closing fence is not part of the content.
    ``None`` when no recognised block is present.
    """
    for pattern in (_RELEASE_NOTE_BLOCK, _DEV_NOTE_BLOCK):
        match = pattern.search(body)
        if match:
            return _block_content(match)
    return _heading_block(body)


def _heading_block(body: str) -> str | None:
    heading = _HEADING.search(body)
    if heading is None:
        return None
    for token in _COMMENT_OR_FENCE.finditer(body, heading.end()):
        if token.group() == "```":
            match = _BARE_BLOCK.match(body, token.start())
            return _block_content(match) if match else None
    return None


def _block_content(match: re.Match[str]) -> str:
    return _TRAILING_EOL.sub("", match.group("note"))


def clean_note_text(raw: str) -> tuple[str, bool]:
    """Clean a block's content the way the release tooling does (minus escaping).

    Also drops HTML comments (template hints). Returns the text and whether an
    action-required marker was removed.
    """
    text = _COMMENT.sub("", raw.replace("\r", ""))
    text, removed = _ACTION_REQUIRED.subn(r"\g<lead>", text)
    text = _STAR_BULLET.sub(r"\g<lead>- ", text)
    return unlist(text).strip(), removed > 0


def unlist(text: str) -> str:
    """The release tooling's ``unlist``: a note that is one Markdown list entry becomes
    flat text. The first ``- `` and two spaces of indentation on the following lines go;
    a second top-level entry means a real list, and from there on lines stay as written."""
    if not text.startswith(_LIST_PREFIX):
        return text
    out = []
    first, trim = True, True
    for line in text.split("\n"):
        prefix = "  "
        if line.startswith(_LIST_PREFIX):
            if first:
                prefix, first = _LIST_PREFIX, False
            else:
                trim = False
        out.append(line.removeprefix(prefix) if trim else line)
    return "\n".join(out)


def is_none_text(content: str) -> bool:
    """True when block content means "no release note" (NONE, N/A, empty...)."""
    stripped = content.strip()
    return not stripped or _NONE_TEXT.match(stripped) is not None


def extract_release_note(body: str | None) -> ReleaseNote:
    """Classify a PR body's release note and return its cleaned text."""
    if not body:
        return ReleaseNote("missing", None, False, None)
    raw = find_note_block(body)
    if raw is None:
        return _without_block(body)
    text, action_required = clean_note_text(raw)
    if is_none_text(text) or _NONE_COMMAND in body:
        return ReleaseNote("none", None, False, raw)
    return ReleaseNote("note", text, action_required, raw)


def _without_block(body: str) -> ReleaseNote:
    if _NONE_COMMAND in body:
        return ReleaseNote("none", None, False, None)
    status: NoteStatus = "error" if _MENTION.search(body) else "missing"
    return ReleaseNote(status, None, False, None)
