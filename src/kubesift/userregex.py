"""Regular expressions that users give (``ci search``, ``--job``, label filters), run
with RE2's linear-time semantics, as search.ci's Go ``regexp`` does.

Python's ``re`` backtracks: ``(\\w+\\s?)+:$`` over ordinary failure texts runs for
minutes while holding the GIL, freezing every other request of a server. RE2 (the
``google-re2`` binding) matches in time linear in the text, refuses what it cannot do
that way (backreferences, lookaround) with a clear error, and releases the GIL while it
matches. Patterns are compiled here only; nothing else in kubesift compiles a user's
pattern.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from kubesift.errors import UserError

#: The longest pattern accepted (RE2 also caps the compiled program's memory).
MAX_PATTERN = 1000
#: Between bodies scanned as one text: ``$`` and ``^`` still match at their edges.
_SEPARATOR = b"\n\x00\n"
#: Patterns whose meaning changes when bodies are joined: text anchors, flags turned off.
_TEXT_ANCHORED = re.compile(r"\\[Az]|\(\?[a-zA-Z]*-")


@dataclass(frozen=True)
class UserRegex:
    """A compiled user pattern: ``search`` one text, ``scan`` many."""

    pattern: str
    ignore_case: bool
    _compiled: Any
    _joinable: bool

    def search(self, text: str | None) -> bool:
        return (
            text is not None and self._compiled.search(text.encode("utf-8", "replace")) is not None
        )

    def scan(self, bodies: Sequence[str]) -> list[int]:
        """Indexes of the bodies that match, in order.

        The bodies are joined (UTF-8, a separator between them) and scanned in one pass;
        a match that runs from one body into the next is confirmed on its own body, so
        the answer is exactly the bodies ``search`` would accept, in linear time."""
        encoded = [b.encode("utf-8", "replace") for b in bodies]
        if not self._joinable:
            return [k for k, b in enumerate(encoded) if self._compiled.search(b) is not None]
        starts, pos = [], 0
        for b in encoded:
            starts.append(pos)
            pos += len(b) + len(_SEPARATOR)
        blob = _SEPARATOR.join(encoded)
        found: list[int] = []
        i = 0
        while i <= len(blob):
            m = self._compiled.search(blob, i)
            if m is None:
                break
            k = bisect.bisect_right(starts, m.start()) - 1
            end = starts[k] + len(encoded[k])
            if m.start() <= end and (
                m.end() <= end or self._compiled.search(encoded[k]) is not None
            ):
                found.append(k)
            i = end + len(_SEPARATOR)
        return found

    def literal(self, shortest: int = 3) -> str | None:
        """The longest run of plain characters at the pattern's top level (every match
        contains it), or None when none has ``shortest`` characters: a cheap ``LIKE``
        that a database can narrow candidates with before the regex runs."""
        return required_literal(self.pattern, self.ignore_case, shortest)


def compile_user(pattern: str, what: str = "the pattern", smart_case: bool = True) -> UserRegex:
    """``pattern`` compiled with RE2 (multi-line: ``^``/``$`` match at line edges).

    With ``smart_case`` (as ripgrep and search.ci), a pattern without a capital letter
    ignores case. A pattern RE2 refuses, or one over :data:`MAX_PATTERN` characters, is
    a :class:`UserError` naming it."""
    if len(pattern) > MAX_PATTERN:
        raise UserError(f"{what} is longer than {MAX_PATTERN:,} characters")
    ignore_case = smart_case and not any(c.isupper() for c in pattern)
    return _compile(pattern, ignore_case, what)


@lru_cache(maxsize=256)
def _compile(pattern: str, ignore_case: bool, what: str) -> UserRegex:
    import re2  # google-re2: imported where used (the CLI's --help stays instant)

    options = re2.Options()
    options.log_errors = False  # the error is ours to report, once
    options.case_sensitive = not ignore_case
    try:
        compiled = re2.compile(b"(?m)" + pattern.encode("utf-8"), options)
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
        raise UserError(
            f"{what} {pattern!r} is not a valid regular expression for RE2 ({reason}); "
            "RE2 has no backreferences or lookaround"
        ) from None
    joinable = _TEXT_ANCHORED.search(pattern) is None
    return UserRegex(pattern, ignore_case, compiled, joinable)


def required_literal(pattern: str, ignore_case: bool, shortest: int = 3) -> str | None:
    """See :meth:`UserRegex.literal`. Read with Python's parser (RE2's syntax is close to
    a subset of it); a pattern it cannot read has no literal, which only costs speed."""
    from re import _parser  # type: ignore[attr-defined]

    try:
        parsed = _parser.parse(pattern, re.IGNORECASE if ignore_case else 0)
    except (re.error, RecursionError, OverflowError):
        return None
    best, run = "", []
    for op, arg in [*parsed, (None, None)]:
        if op is _parser.LITERAL:
            run.append(chr(arg))
            continue
        if len(run) > len(best):
            best = "".join(run)
        run = []
    if len(best) < shortest or "\x00" in best:
        return None
    # SQLite's LIKE folds ASCII case only: a non-ASCII literal may not narrow a caseless search
    if ignore_case and not best.isascii():
        return None
    return best
