"""Failure text: Kubernetes Triage's normalisation, distances and clustering. Pure.

``normalize`` blanks dates and renames noisy tokens (hex, IPs, UUIDs, node names,
generated-name suffixes, file positions) to ``UNIQ1``, ``UNIQ2``… in order of
appearance, so that the same failure on other pods or days reads the same. Two
normalised texts belong together when their edit distance is under 10 % of their
mean length (exact match when that limit is ≤ 1), with a 4-gram histogram as the
cheap lower bound that skips most comparisons.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz.distance import Levenshtein

LONG_OUTPUT = 10_000
TRUNCATED = "\n...[truncated]...\n"

_DATE = re.compile(
    r"[A-Z][a-z]{2}, \d+ \w+ 2\d{3} [\d.-: ]*([-+]\d+)?"
    r"|\w{3}\s+\d{1,2} \d+:\d+:\d+(\.\d+)?"
    r"|(\d{4}-\d\d-\d\d.|.\d{4} )\d\d:\d\d:\d\d(.\d+)?"
    r"|\d{1,2}/\d{1,2}/\d{2,4} \d\d:\d\d:\d\d(\.\d+)?"
)
_NOISE = re.compile(
    r"0x[0-9a-fA-F]+"
    r"|\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(:\d+)?"
    r"|[0-9a-fA-F]{8}-\S{4}-\S{4}-\S{4}-\S{12}(-\d+)?"
    r"|[0-9a-f]{12,32}"
    r"|(minion-group-|default-pool-)[-0-9a-z]{4,}"
    r"|\.[a-z]{1,4}:\d+"  # file positions: main.go:123
    r"|-(?=[a-z]*\d)[a-z0-9]{4,5}[\"/]"  # generated names: pod "web-7mhp", test-5405/
)
_MAP = re.compile(r"map\[([^][]*)\]")
_SPAN = re.compile(r"\w+|\W+")
_NAME_TAGS = re.compile(r"\[.*?\]|{.*?\}")


def normalize(text: str, limit: int = LONG_OUTPUT) -> str:
    """Triage's normalisation of a failure text (see the module's doc)."""
    text = _DATE.sub("TIME", text)
    if "map[" in text:
        text = _MAP.sub(lambda m: "map[" + " ".join(sorted(m.group(1).split(" "))) + "]", text)
    names: dict[str, str] = {}
    text = _NOISE.sub(lambda m: names.setdefault(m.group(0), f"UNIQ{len(names) + 1}"), text)
    if len(text) > limit:
        text = "\n".join(dict.fromkeys(text.split("\n")))
    if len(text) > limit:
        text = text[: limit // 2] + TRUNCATED + text[-(limit // 2) :]
    return text


def normalize_name(name: str) -> str:
    """A test name without its ``[tags]`` and ``{…}`` (TestGrid's and Triage's rule)."""
    return " ".join(_NAME_TAGS.sub("", name).split())


@lru_cache(maxsize=65536)
def ngram_counts(text: str) -> tuple[int, ...]:
    """A 64-bucket histogram of the text's 4-byte windows (CRC32 buckets)."""
    data = text.encode()
    counts = [0] * 64
    for i in range(len(data) - 3):
        counts[zlib.crc32(data[i : i + 4]) & 63] += 1
    return tuple(counts)


def ngram_distance(a: str, b: str) -> int:
    """A lower bound of the edit distance: one edit changes at most four 4-grams."""
    return sum(abs(x - y) for x, y in zip(ngram_counts(a), ngram_counts(b), strict=True)) // 4


def ngram_digest(text: str) -> str:
    """Triage's stable cluster key: sha1 of the histogram as ``[a, b, …]``, 20 hex digits."""
    return hashlib.sha1(str(list(ngram_counts(text))).encode()).hexdigest()[:20]


def edit_distance(a: str, b: str, limit: int | None = None) -> int:
    """Levenshtein distance; past ``limit`` any value > ``limit`` may be returned."""
    return int(Levenshtein.distance(a, b, score_cutoff=limit))


def similar(a: str, b: str) -> bool:
    """Triage's match: distance under 10 % of the mean length, exact when that is ≤ 1."""
    limit = int((len(a) + len(b)) / 2 * 0.10)
    if limit <= 1:
        return a == b
    if ngram_distance(a, b) > limit:
        return False
    return edit_distance(a, b, limit) < limit


def common_spans(texts: Sequence[str]) -> list[int]:
    """Lengths of alternating shared / differing spans of the first text (Triage)."""
    common = set(_SPAN.findall(texts[0]))
    for t in texts[1:]:
        common &= set(_SPAN.findall(t))
    spans: list[int] = []
    match, length = True, 0
    for token in _SPAN.findall(texts[0]):
        if (token in common) != match:
            spans.append(length)
            match, length = not match, 0
        length += len(token)
    if length:
        spans.append(length)
    return spans


#: How much literal text a search built from a failure keeps (whole tokens only).
SEARCH_CHARS = 100
_GAP = ".*?"


def search_pattern(text: str, others: Sequence[str] = ()) -> str:
    """A search (RE2) that finds ``text``'s failure wherever it happened again: its first
    line, with every part that varies between occurrences as a wildcard. ``others`` are
    texts of the same failure (its cluster): a token of ``text`` missing from any of them
    varies. Triage's noisy tokens (hex, IPs, UUIDs, generated names) always vary, and
    without ``others`` so does any token holding a digit. Whole tokens only, at most
    :data:`SEARCH_CHARS` characters of them."""
    tokens = _SPAN.findall(_first_line(text))
    keep = [not _NOISE.fullmatch(t) and (others or not _DIGIT.search(t)) for t in tokens]
    for other in others:
        shared = [False] * len(tokens)
        matcher = difflib.SequenceMatcher(None, tokens, _SPAN.findall(_first_line(other)), False)
        for block in matcher.get_matching_blocks():
            shared[block.a : block.a + block.size] = [True] * block.size
        keep = [k and s for k, s in zip(keep, shared, strict=True)]
    parts: list[str] = []
    literal = 0
    for token, kept in zip(tokens, keep, strict=True):
        if literal >= SEARCH_CHARS:
            break
        glued = not kept or (parts[-1:] == [_GAP] and not token.strip(_GLUE))
        if glued:  # a gap, or punctuation inside one ("10.1.2.3"): one wildcard
            if parts and parts[-1] != _GAP:
                parts.append(_GAP)
            continue
        parts.append(_META.sub(r"\\\g<0>", token))
        literal += len(token)
    while parts and parts[-1] == _GAP:
        parts.pop()
    return "".join(parts).strip()


_DIGIT = re.compile(r"\d")
_GLUE = ".:-_/"
_META = re.compile(r"[.^$*+?()[\]{}|\\]")


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


@dataclass
class Cluster:
    """Failure texts that read the same once normalised."""

    key: str  # the first normalised text, Triage's cluster text
    members: list[int] = field(default_factory=list)  # indexes into the input

    @property
    def id(self) -> str:
        return ngram_digest(self.key)


def cluster(texts: Iterable[str]) -> list[Cluster]:
    """Greedy clustering of failure texts: each joins the first similar cluster key.

    Identical normalised texts are grouped before any distance is computed, and the
    most frequent are placed first, so that common failures become the keys.
    """
    groups: dict[str, list[int]] = {}
    for i, text in enumerate(texts):
        groups.setdefault(normalize(text), []).append(i)
    clusters: list[Cluster] = []
    for norm, members in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        home = _find(norm, clusters)
        if home is None:
            clusters.append(Cluster(key=norm, members=list(members)))
        else:
            home.members.extend(members)
    clusters.sort(key=lambda c: -len(c.members))
    return clusters


def _find(norm: str, clusters: list[Cluster]) -> Cluster | None:
    ranked = sorted(clusters, key=lambda c: ngram_distance(norm, c.key))
    for c in ranked:
        limit = int((len(norm) + len(c.key)) / 2 * 0.10)
        if ngram_distance(norm, c.key) > limit:
            break  # sorted by the lower bound: no later cluster can match
        if similar(norm, c.key):
            return c
    return None
