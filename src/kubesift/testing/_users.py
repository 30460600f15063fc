"""The generated repository's people: contributors, maintainers and bots."""

from __future__ import annotations

import bisect
import random
import zlib
from dataclasses import dataclass

from kubesift.testing import _vocab as V
from kubesift.testing._notes import Note
from kubesift.testing._vocab import BOT_LOGINS
from kubesift.testing.model import (
    User,
)

USER_POOL = 3_000
MAINTAINERS = 150


def _stable_id(text: str, low: int, span: int) -> int:
    return low + zlib.crc32(text.encode()) % span


# --------------------------------------------------------------------------- users


@dataclass
class _Pool:
    users: dict[str, User]
    humans: list[str]
    cum: list[float]
    maintainers: list[str]
    association: dict[str, str]

    def pick(self, rng: random.Random) -> str:
        """A human, Zipf-distributed by activity."""
        return self.humans[bisect.bisect(self.cum, rng.random() * self.cum[-1])]

    def maintainer(self, rng: random.Random) -> str:
        """A maintainer, the most active ones most often."""
        return self.maintainers[int(rng.random() ** 2 * len(self.maintainers))]


def _make_login(rng: random.Random) -> str:
    first, last = rng.choice(V.FIRST_NAMES), rng.choice(V.LAST_NAMES)
    style = rng.randrange(8)
    if style == 0:
        return first + last
    if style == 1:
        return first[0] + last
    if style == 2:
        return f"{first}-{last}"
    if style == 3:
        return f"{first}{rng.randrange(1, 999)}"
    if style == 4:
        return rng.choice(V.HANDLE_WORDS) + rng.choice(V.HANDLE_WORDS)
    if style == 5:
        return f"{first}{last[:3]}{rng.randrange(10, 99)}"
    if style == 6:
        return first.capitalize() + last.capitalize()
    return f"{rng.choice(V.HANDLE_WORDS)}-{first}"


def _add_user(users: dict[str, User], taken: set[int], login: str, kind: str = "User") -> None:
    if login in users:
        return
    ident = 49699333 if login == "dependabot[bot]" else _stable_id(login, 100_000, 150_000_000)
    while ident in taken:
        ident += 1
    taken.add(ident)
    users[login] = User(login, ident, kind)


def _build_pool(rng: random.Random, notes: list[Note]) -> _Pool:
    users: dict[str, User] = {}
    taken: set[int] = set()
    for bot in BOT_LOGINS:
        _add_user(users, taken, bot, "Bot" if bot.endswith("[bot]") else "User")
    humans: list[str] = []
    while len(humans) < USER_POOL:
        login = _make_login(rng)
        if login not in users:
            _add_user(users, taken, login)
            humans.append(login)
    weights = [1.0 / (rank + 3) ** 1.07 for rank in range(len(humans))]
    cum = [0.0] * len(weights)
    total = 0.0
    for i, w in enumerate(weights):
        total += w
        cum[i] = total
    maintainers = humans[:MAINTAINERS]
    association = {h: "MEMBER" for h in maintainers}
    note_counts: dict[str, int] = {}
    for note in notes:
        if note.author:
            note_counts[note.author] = note_counts.get(note.author, 0) + 1
    for author in sorted(note_counts):
        _add_user(users, taken, author)
        association.setdefault(author, "MEMBER" if note_counts[author] >= 5 else "CONTRIBUTOR")
    return _Pool(users, humans, cum, maintainers, association)
