"""User patterns run with RE2: linear time, clear refusals, one scan equal to many
searches."""

from __future__ import annotations

import time

import pytest

from kubesift.errors import UserError
from kubesift.userregex import MAX_PATTERN, compile_user, required_literal

BODIES = [
    "error: i/o timeout\ndialing 10.0.0.1:443",
    "",
    "all good",
    "panic: runtime error: invalid memory address",
    "line one\nTimeout waiting for pod",
    "ends with colon:",
    "unicode: échec total du test",
]


@pytest.mark.parametrize(
    "pattern",
    [
        "timeout",
        "^all",
        "colon:$",
        r"\Aline",
        r"good\z",
        r"error.*\n.*443",
        "^$",
        r"[\s\S]*address",  # a match from the start of the joined text would cross bodies
        "x?",  # matches empty everywhere
        "(?-m)^dialing",  # multi-line turned off: ^ is the start of each text
        "échec",
        r"(\w+\s?)+:$",
    ],
)
def test_one_scan_finds_exactly_what_searching_each_body_finds(pattern: str) -> None:
    regex = compile_user(pattern)
    assert regex.scan(BODIES) == [k for k, b in enumerate(BODIES) if regex.search(b)]


def test_smart_case_and_multiline() -> None:
    assert compile_user("timeout").search("Timeout waiting")  # no capital: any case
    assert not compile_user("Timeout").search("i/o timeout")  # a capital: exact case
    assert compile_user("^Timeout").search("line one\nTimeout waiting")


@pytest.mark.parametrize(
    ("pattern", "why"),
    [(r"(a)\1", "backreferences"), ("(?=x)", "lookaround"), ("(unclosed", "RE2")],
)
def test_patterns_re2_cannot_run_are_refused_clearly(pattern: str, why: str) -> None:
    with pytest.raises(UserError, match=why) as caught:
        compile_user(pattern)
    assert repr(pattern) in str(caught.value) and "\n" not in str(caught.value)


def test_a_pattern_over_the_limit_is_refused() -> None:
    with pytest.raises(UserError, match="longer than"):
        compile_user("a" * (MAX_PATTERN + 1))


def test_the_catastrophic_pattern_is_linear() -> None:
    """``(\\w+\\s?)+:$`` over ordinary text: Python's re backtracks for minutes; RE2 reads
    these 40 MB in well under the time one Python search of one body would take."""
    body = "the quick brown fox jumps over the lazy dog " * 20
    bodies = [body] * 50_000
    regex = compile_user(r"(\w+\s?)+:$")
    started = time.perf_counter()
    assert regex.scan(bodies) == []
    assert time.perf_counter() - started < 10


def test_required_literal_narrows_only_when_every_match_holds_it() -> None:
    def lit(p: str, ignore_case: bool = True) -> str | None:
        return required_literal(p, ignore_case)

    assert lit("i/o timeout") == "i/o timeout"
    assert lit(r"exited with code 13[0-9]") == "exited with code 13"
    assert lit(r"\d+ pods failed") == " pods failed"
    assert lit("a|bcdef") is None  # an alternative need not contain either side
    assert lit("ab") is None  # too short to narrow
    assert lit("échec total") is None  # SQLite's LIKE folds ASCII case only
    assert lit("échec total", False) == "échec total"
