"""Symptoms (Sippy's job-run symptoms): matchers that label every failed run they match.

A symptom is an id, a summary and one matcher:

- ``string``: a substring (case-sensitive) of the run's kept build log or failure texts;
- ``regex``: an RE2 pattern (:mod:`kubesift.userregex`, the engine ``ci search`` uses:
  linear time, no backreferences) over the same texts, case as written (``(?i)`` to
  ignore case);
- ``file``: a glob that one of the run's files matches (``*`` spans ``/``, so
  ``**/events.json`` and ``*/gather-extra/*`` both work), e.g. a must-gather that exists.

``in`` narrows a string or regex to the build ``log`` or the ``failures`` (default: either).
Symptoms label **failed and errored runs** (the ones that need explaining). They are
defined in a TOML file (``kubesift ci symptoms load``) or from the dashboard by the token
holder, applied at import to every new failed run, and re-applied to the stored history
when one is added or changed. Pure: the store side is :mod:`kubesift.ci.symptom_store`.

    [[symptom]]
    id = "infra-dns"
    summary = "Cluster DNS failed"
    regex = 'lookup [^ ]+ on [0-9.:]+: (server misbehaving|no such host)'
    in = "log"
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from kubesift.ci import rulefile
from kubesift.errors import UserError
from kubesift.userregex import UserRegex, compile_user

MATCHERS = ("string", "regex", "file")
PLACES = ("any", "log", "failures")
_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
MAX_SUMMARY = 200
MAX_PATTERN = 1000
MAX_SYMPTOMS = 500


@dataclass(frozen=True)
class Symptom:
    id: str
    summary: str
    matcher: str  # string | regex | file
    pattern: str
    where: str = "any"  # any | log | failures (string and regex only)

    def digest(self) -> str:
        """Changes when what the symptom matches changes (not its summary)."""
        raw = "\x1f".join((self.matcher, self.pattern, self.where))
        return hashlib.sha1(raw.encode()).hexdigest()[:16]

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["in"] = out.pop("where")
        return out


def check(raw: dict[str, Any], what: str = "symptom") -> Symptom:
    """A symptom from its fields (a TOML table or a JSON body); UserError names the fault."""
    if not isinstance(raw, dict):
        raise UserError(f"{what}: must be a table with id, summary and one of {MATCHERS}")
    known = {"id", "summary", "in", *MATCHERS}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise UserError(f"{what}: unknown field {unknown[0]!r} (known: {', '.join(sorted(known))})")
    ident = raw.get("id")
    if not isinstance(ident, str) or not _ID.match(ident):
        raise UserError(
            f"{what}: id must be 1-64 of a-z 0-9 _ . - (starting with a letter or digit)"
        )
    summary = raw.get("summary")
    if not isinstance(summary, str) or not summary.strip() or len(summary) > MAX_SUMMARY:
        raise UserError(f"{what} {ident}: summary must be 1-{MAX_SUMMARY} characters")
    given = [m for m in MATCHERS if m in raw]
    if len(given) != 1:
        raise UserError(f"{what} {ident}: give exactly one of string, regex or file")
    matcher = given[0]
    pattern = raw[matcher]
    if not isinstance(pattern, str) or not pattern or len(pattern) > MAX_PATTERN:
        raise UserError(f"{what} {ident}: {matcher} must be 1-{MAX_PATTERN} characters")
    where = raw.get("in", "any")
    if matcher == "file" and "in" in raw:
        raise UserError(f"{what} {ident}: 'in' applies to string and regex, not file")
    if where not in PLACES:
        raise UserError(f"{what} {ident}: in must be one of {', '.join(PLACES)}")
    if matcher == "regex":
        compile_user(pattern, f"{what} {ident}'s regex", smart_case=False)  # UserError if bad
    return Symptom(ident, " ".join(summary.split()), matcher, pattern, where)


def parse_file(text: str, name: str = "symptoms file") -> list[Symptom]:
    """The ``[[symptom]]`` tables of a TOML file; ids must be unique."""
    tables = rulefile.tables(text, "symptom", name)
    if len(tables) > MAX_SYMPTOMS:
        raise UserError(f"{name}: at most {MAX_SYMPTOMS} symptoms")
    found = [check(t, f"{name}: symptom {n + 1}") for n, t in enumerate(tables)]
    seen: set[str] = set()
    for s in found:
        if s.id in seen:
            raise UserError(f"{name}: symptom id {s.id!r} is defined twice")
        seen.add(s.id)
    return found


@dataclass(frozen=True)
class _Compiled:
    symptom: Symptom
    regex: UserRegex | None


class Matcher:
    """Symptoms compiled once, then matched against many runs."""

    def __init__(self, symptoms: Iterable[Symptom]) -> None:
        self.compiled = [
            _Compiled(s, compile_user(s.pattern, s.id, smart_case=False) if s.matcher == "regex"
                      else None)
            for s in symptoms
        ]  # fmt: skip

    def __bool__(self) -> bool:
        return bool(self.compiled)

    def match(self, log: str | None, failures: Sequence[str], files: Sequence[str]) -> list[str]:
        """Ids of the symptoms the run's kept log, failure texts and file paths match."""
        found = []
        for c in self.compiled:
            if _matches(c, log, failures, files):
                found.append(c.symptom.id)
        return found


def _matches(c: _Compiled, log: str | None, failures: Sequence[str], files: Sequence[str]) -> bool:
    s = c.symptom
    if s.matcher == "file":
        return any(fnmatch.fnmatchcase(f, s.pattern) for f in files)
    texts = []
    if s.where in ("any", "log") and log:
        texts.append(log)
    if s.where in ("any", "failures"):
        texts += [t for t in failures if t]
    if s.matcher == "string":
        return any(s.pattern in t for t in texts)
    assert c.regex is not None
    return bool(texts) and bool(c.regex.scan(texts))
