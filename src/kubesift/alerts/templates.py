"""Log lines into templates, Drain-style, so "the same error" is one thing across pods and
days. Pure: lines in, template ids out.

Each line is first masked with general rules (times, UUIDs, IPs, hex, durations, numbers,
generated pod-name suffixes), then split into tokens. Lines are routed by their token count
and leading tokens through a fixed-depth tree (Drain, He et al. 2017); in the leaf, a line
joins the template it shares the most positions with, when at least ``similarity`` of its
tokens agree; the positions that differ become ``<*>``. Otherwise it starts a template.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

WILD = "<*>"
#: Masks in order: the earlier ones are more specific (a UUID contains numbers).
MASKS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("<TIME>", re.compile(
        r"\b\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?"
        r"|\b[A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d(?:\.\d+)?"
        r"|\b[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+"
    )),
    # A quoted value after "key: " is data (a command's output, a message echoed).
    ('"<STR>"', re.compile(r'(?<=: )"(?:[^"\\]|\\.)*"')),
    ("<PATH>", re.compile(r"(?<![\w.])/(?:[\w.@+-]+/)+[\w.@+-]*(?::\d+)?")),
    ("<UUID>", re.compile(r"\b[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\b")),
    ("<IP>", re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b|\[[0-9a-fA-F:]{2,}\](?::\d+)?")),
    ("<HEX>", re.compile(r"\b0x[0-9a-fA-F]+\b|\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b")),
    ("<DUR>", re.compile(r"\b\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h)(?:\d+(?:\.\d+)?(?:ms|s|m))*\b")),
    ("<ID>", re.compile(r"(?<=[a-z])-(?=[a-z0-9]*\d)[a-z0-9]{4,10}(?:-[a-z0-9]{5})?\b")),
    ("<NUM>", re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?![\w.])")),
    # A run of one character (progress marks, separators) is as long as the data was.
    (r"\1\1\1", re.compile(r"(\S)\1{3,}")),
)  # fmt: skip
_SPLIT = re.compile(r"\s+")


def mask(line: str) -> str:
    """The line with its variable parts replaced by their kind (``<IP>``, ``<NUM>``…)."""
    for name, pattern in MASKS:
        line = pattern.sub(name, line)
    return line


@dataclass
class Template:
    id: int
    tokens: list[str]
    count: int = 0

    @property
    def text(self) -> str:
        return " ".join(self.tokens)


@dataclass
class Miner:
    """Drain's fixed-depth tree. ``depth`` counts the length layer and the token layers."""

    similarity: float = 0.5
    depth: int = 4
    max_children: int = 100
    templates: list[Template] = field(default_factory=list)
    _tree: dict[object, object] = field(default_factory=dict)

    def add(self, line: str) -> Template:
        """The template of ``line``, created or generalised as needed."""
        tokens = [t for t in _SPLIT.split(mask(line).strip()) if t]
        leaf = self._leaf(tokens)
        best, score = None, -1.0
        for t in leaf:
            s = _similarity(t.tokens, tokens)
            if s > score:
                best, score = t, s
        if best is None or score < self.similarity:
            best = Template(id=len(self.templates) + 1, tokens=list(tokens))
            self.templates.append(best)
            leaf.append(best)
        else:
            best.tokens = [a if a == b else WILD for a, b in zip(best.tokens, tokens, strict=True)]
        best.count += 1
        return best

    def restore(self, template: Template) -> None:
        """Put back a template saved earlier (a restarted receiver keeps its ids)."""
        self.templates.append(template)
        self._leaf(template.tokens).append(template)

    def _leaf(self, tokens: list[str]) -> list[Template]:
        node: dict[object, object] = self._tree.setdefault(len(tokens), {})  # type: ignore[assignment]
        for token in tokens[: max(0, self.depth - 2)]:
            key = WILD if _variable(token) else token
            if key not in node and len(node) >= self.max_children:
                key = WILD
            node = node.setdefault(key, {})  # type: ignore[assignment]
        leaf: list[Template] = node.setdefault("", [])  # type: ignore[assignment]
        return leaf


def _variable(token: str) -> bool:
    return (token.startswith("<") and token.endswith(">")) or any(c.isdigit() for c in token)


def _similarity(template: list[str], tokens: list[str]) -> float:
    if not tokens:
        return 1.0
    same = sum(a == b for a, b in zip(template, tokens, strict=True) if a != WILD)
    return same / len(tokens)


def mine(lines: Iterable[str], similarity: float = 0.5) -> list[tuple[int, str]]:
    """Each line's final template (id, text): mined over all lines, then looked up, so a
    line reports its template as the whole input shaped it."""
    miner = Miner(similarity=similarity)
    assigned = [miner.add(line) for line in lines]
    return [(t.id, t.text) for t in assigned]


def grouping_accuracy(predicted: Sequence[object], truth: Sequence[object]) -> float:
    """The log-parsing literature's grouping accuracy (Zhu et al., ICSE-SEIP 2019): the
    share of lines whose predicted group holds exactly the lines of their true event."""
    if len(predicted) != len(truth):
        raise ValueError("predicted and truth must label the same lines")
    if not truth:
        return 1.0
    by_pred: dict[object, set[int]] = {}
    by_true: dict[object, set[int]] = {}
    for i, (p, t) in enumerate(zip(predicted, truth, strict=True)):
        by_pred.setdefault(p, set()).add(i)
        by_true.setdefault(t, set()).add(i)
    right = sum(len(members) for members in by_pred.values()
                if by_true[truth[next(iter(members))]] == members)  # fmt: skip
    return right / len(truth)
