"""Log lines into templates, Drain-style, so "the same error" is one thing across pods and
days. Pure: lines in, template ids out.

Each line is first masked with general rules (times, UUIDs, IPs, hex, durations, numbers,
generated pod-name suffixes), then split into tokens. Lines are routed by their token count
and leading tokens through a fixed-depth tree (Drain, He et al. 2017); in the leaf, a line
joins the template it shares the most positions with, when at least ``similarity`` of its
tokens agree; the positions that differ become ``<*>``. Otherwise it starts a template.

Drain's first split, by token count, breaks an event whose free text varies in length
(``[It] should …`` with each test's name, ``Install: <a list of packages>``) into one
template per length. So a new template is checked against the templates that share a
prefix with it: when at least two rare ones (a median of at most ``TAIL_RARE`` lines each)
share a prefix and each goes on with a different word, the prefix is an event and what
follows is its free text. They become one template, the prefix and :data:`TAIL`
(``[It] should <...>``), which takes every later line with that prefix, whatever its
length. Measured on real logs (``bench/logsamples``, ``python bench/alerts.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

WILD = "<*>"
#: The end of a template whose last part is free text of any length.
TAIL = "<...>"
#: Merged into a tail: rare templates (a median of at most TAIL_RARE lines each; two,
#: fewer each) that share a prefix and each go on with a different word (measured on
#: bench/logsamples: 2 / all different / 3 scored best of 2–3 / 0.5–1.0 / 1–5).
TAIL_SIBLINGS = 2
TAIL_RARE = 3
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


#: A character each mask's matches contain: a line without it skips that mask's scan
#: (masking was 60 % of the time).
_NEEDS = {"<TIME>": ":", '"<STR>"': '"', "<PATH>": "/", "<UUID>": "-", "<ID>": "-"}
_DIGITS = {"<TIME>", "<UUID>", "<DUR>", "<NUM>", "<ID>"}
_DIGIT = re.compile(r"\d")


def mask(line: str) -> str:
    """The line with its variable parts replaced by their kind (``<IP>``, ``<NUM>``…)."""
    digits = _DIGIT.search(line) is not None
    for name, pattern in MASKS:
        needs = _NEEDS.get(name)
        if (needs and needs not in line) or (not digits and name in _DIGITS):
            continue
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
    """Drain's fixed-depth tree. ``depth`` counts the length layer and the token layers.

    Every ``tail_every`` lines, templates at least that many lines old are checked for free
    text (:meth:`merge_tails`): a template's rarity means something only once its event
    had the time to come back."""

    similarity: float = 0.5
    depth: int = 4
    max_children: int = 100
    tail_every: int = 1000
    templates: list[Template] = field(default_factory=list)
    _tree: dict[object, object] = field(default_factory=dict)
    _tails: dict[object, object] = field(default_factory=dict)  # a trie of tail prefixes
    _root: dict[int, Template] = field(default_factory=dict)  # merged id → its tail
    _born: dict[int, int] = field(default_factory=dict)  # id → lines seen when it began
    _lines: int = 0
    # A masked line seen before has the template it had (most masked lines repeat:
    # 728 distinct of 50,000 e2e lines); bounded, and cleared when tails change.
    _seen: dict[str, Template] = field(default_factory=dict)

    def add(self, line: str) -> Template:
        """The template of ``line``, created or generalised as needed (a tail template
        once its own has been merged into one)."""
        masked = mask(line).strip()
        self._lines += 1
        if (
            self.tail_every
            and self._lines % self.tail_every == 0
            and self.merge_tails(min_age=self.tail_every)
        ):
            self._seen.clear()
        seen = self._seen.get(masked)
        if seen is not None:
            seen.count += 1
            root = self.root(seen)
            if root is not seen:
                root.count += 1
            return root
        if len(self._seen) >= SEEN_SIZE:
            self._seen.clear()
        found = self._add(masked)
        self._seen[masked] = found
        return self.root(found)

    def _add(self, masked: str) -> Template:
        """The template (before merging) of a masked line not seen before; counts it."""
        tokens = [t for t in _SPLIT.split(masked) if t]
        tail = self._tail_of(tokens) if self._tails else None
        if tail is not None:
            tail = self.root(tail)
            tail.count += 1
            return tail
        leaf = self._leaf(tokens)
        best, score = None, -1.0
        for t in leaf:
            s = _similarity(t.tokens, tokens)
            if s > score:
                best, score = t, s
        if best is None or score < self.similarity:
            best = Template(id=len(self.templates) + 1, tokens=list(tokens))
            self.templates.append(best)
            self._born[best.id] = self._lines
            leaf.append(best)
        else:
            best.tokens = [a if a == b else WILD for a, b in zip(best.tokens, tokens, strict=True)]
        best.count += 1
        root = self.root(best)
        if root is not best:
            root.count += 1
        return best

    def root(self, template: Template) -> Template:
        """The template ``template``'s lines are reported under (its tail, once merged,
        and that tail's, once it was merged in turn)."""
        while template.id in self._root:
            template = self._root[template.id]
        return template

    def restore(self, template: Template) -> None:
        """Put back a template saved earlier (a restarted receiver keeps its ids)."""
        self.templates.append(template)
        if template.tokens and template.tokens[-1] == TAIL:
            self._add_tail(template)
            for t in self.templates[:-1]:
                if t.id not in self._root and _under(t.tokens, template.tokens[:-1]):
                    self._root[t.id] = template
            return
        self._leaf(template.tokens).append(template)

    def merge_tails(self, min_age: int = 0) -> list[Template]:
        """Merge rare templates that share a prefix and go on in free text into tail
        templates (deepest prefix first; a tail may merge again into a shorter one);
        the tails made."""
        made: list[Template] = []
        old = self._lines - min_age
        while True:
            live = [t for t in self.templates
                    if t.id not in self._root and self._born.get(t.id, 0) <= old]  # fmt: skip
            tails = self._merge_pass(live, old)
            if not tails:
                return made
            made += tails

    def _merge_pass(self, live: list[Template], old: int) -> list[Template]:
        """One look at every prefix, deepest first: the tails it made (each, when old
        enough, in the look at the shorter prefixes after it)."""
        made: list[Template] = []
        taken: set[int] = set()
        deepest = min(max((len(t.tokens) for t in live), default=0) - 1, MAX_TAIL_PREFIX)
        for d in range(deepest, 0, -1):
            groups: dict[tuple[str, ...], list[Template]] = {}
            for t in live:
                if len(t.tokens) > d and t.id not in taken:
                    groups.setdefault(tuple(t.tokens[:d]), []).append(t)
            for prefix, group in groups.items():
                if _worded(prefix) and _free_text(group, d):
                    tail = Template(len(self.templates) + 1, [*prefix, TAIL], 0)
                    tail.count = sum(t.count for t in group)
                    self.templates.append(tail)
                    self._born[tail.id] = self._lines
                    for t in group:
                        self._root[t.id] = tail
                        taken.add(t.id)
                    self._add_tail(tail)
                    made.append(tail)
                    if self._lines <= old:
                        live.append(tail)
        return made

    def _add_tail(self, tail: Template) -> None:
        node = self._tails
        for token in tail.tokens[:-1]:
            node = node.setdefault(token, {})  # type: ignore[assignment]
        node[""] = tail

    def _tail_of(self, tokens: list[str]) -> Template | None:
        """The tail template with the longest prefix that ``tokens`` start with (and go on
        after)."""
        best, depth = None, -1
        stack: list[tuple[dict[object, object], int]] = [(self._tails, 0)]
        while stack:
            node, i = stack.pop()
            found = node.get("")
            if isinstance(found, Template) and i < len(tokens) and i > depth:
                best, depth = found, i
            if i >= len(tokens):
                continue
            for key in (tokens[i], WILD):
                child = node.get(key)
                if isinstance(child, dict):
                    stack.append((child, i + 1))
        return best

    def _leaf(self, tokens: list[str]) -> list[Template]:
        node: dict[object, object] = self._tree.setdefault(len(tokens), {})  # type: ignore[assignment]
        for token in tokens[: max(0, self.depth - 2)]:
            key = WILD if _variable(token) else token
            if key not in node and len(node) >= self.max_children:
                key = WILD
            node = node.setdefault(key, {})  # type: ignore[assignment]
        leaf: list[Template] = node.setdefault("", [])  # type: ignore[assignment]
        return leaf


#: The longest prefix a tail template keeps.
MAX_TAIL_PREFIX = 64
#: Masked lines remembered with their template.
SEEN_SIZE = 100_000


_KINDS = re.compile(r"<[A-Z]+>|<\*>")
_LETTER = re.compile(r"[A-Za-z]")


def _worded(prefix: tuple[str, ...]) -> bool:
    """Whether a prefix names something: a word outside the masks. ``<TIME> <NUM>`` (a
    klog header) is how every line of a program starts, not an event."""
    return any(_LETTER.search(_KINDS.sub("", token)) for token in prefix)


def _free_text(group: list[Template], d: int) -> bool:
    """Whether templates sharing their first ``d`` tokens are one event's free text:
    each goes on with a different word, and they are rare."""
    if len(group) < TAIL_SIBLINGS or len({t.tokens[d] for t in group}) < len(group):
        return False  # a word that comes back after the prefix is an event's, not text
    counts = sorted(t.count for t in group)
    if len(group) == 2:  # thin evidence: both rarer than a median would need
        return counts[-1] < TAIL_RARE
    return counts[len(counts) // 2] <= TAIL_RARE


def _under(tokens: list[str], prefix: list[str]) -> bool:
    return len(tokens) > len(prefix) and all(
        p in (WILD, t) for p, t in zip(prefix, tokens, strict=False)
    )


def _variable(token: str) -> bool:
    return (token.startswith("<") and token.endswith(">")) or any(c.isdigit() for c in token)


def _similarity(template: list[str], tokens: list[str]) -> float:
    if not tokens:
        return 1.0
    same = sum(a == b for a, b in zip(template, tokens, strict=True) if a != WILD)
    return same / len(tokens)


def mine(
    lines: Iterable[str], similarity: float = 0.5, tails: bool = True
) -> list[tuple[int, str]]:
    """Each line's final template (id, text): mined over all lines, free text merged
    (unless ``tails`` is off: Drain alone, for comparison), then looked up, so a line
    reports its template as the whole input shaped it."""
    miner = Miner(similarity=similarity, tail_every=0)
    assigned = [miner.add(line) for line in lines]
    if tails:
        miner.merge_tails()
    return [(miner.root(t).id, miner.root(t).text) for t in assigned]


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
