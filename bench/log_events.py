"""Our labels for the real log lines in bench/logsamples/ (see its SOURCE.md): one regular
expression per event, the way Loghub's annotators label: the words a message always has
are the event, its values (package names, versions, paths, times, counts, free text) are
not, and a word from a small fixed set (a dpkg state, a protocol) is part of the event. A
line matching none is left out of the measure, and the bench says how many."""

from __future__ import annotations

import re
from pathlib import Path

SAMPLES = Path(__file__).resolve().parent / "logsamples"

STATES = ("installed", "unpacked", "half-configured", "half-installed", "triggers-pending",
          "triggers-awaited", "config-files", "not-installed")  # fmt: skip
_READ_DONE = r"^\(Reading database \.\.\. \d+ files and directories currently installed\.\)$"
_USING = r"^update-alternatives: using \S+ to provide \S+ \(\S+\) in auto mode$"
EVENTS: dict[str, list[tuple[str, str]]] = {
    "dpkg": [
        ("startup-archives", r"^\S+ \S+ startup archives unpack$"),
        ("startup-packages", r"^\S+ \S+ startup packages (configure|remove|purge)$"),
        ("install", r"^\S+ \S+ install \S+ \S+ \S+$"),
        ("upgrade", r"^\S+ \S+ upgrade \S+ \S+ \S+$"),
        ("configure", r"^\S+ \S+ configure \S+ \S+ \S+$"),
        ("trigproc", r"^\S+ \S+ trigproc \S+ \S+ \S+$"),
        ("remove", r"^\S+ \S+ remove \S+ \S+ \S+$"),
        ("purge", r"^\S+ \S+ purge \S+ \S+ \S+$"),
        ("conffile", r"^\S+ \S+ conffile \S+ \S+$"),
        *[(f"status-{state}", rf"^\S+ \S+ status {state} \S+ \S+$") for state in STATES],
    ],
    "alternatives": [
        ("run-with", r"^update-alternatives \S+ \S+: run with "),
        ("link-updated", r"^update-alternatives \S+ \S+: link group \S+ updated to point to \S+$"),
        ("auto-repair", r"^update-alternatives \S+ \S+: auto-repair link group "),
        ("status-changed", r"^update-alternatives \S+ \S+: status of link group "),
    ],
    "apt-term": [
        ("log-started", r"^Log started: "),
        ("log-ended", r"^Log ended: "),
        ("reading-progress", r"^\(Reading database \.\.\. \d+%$"),
        ("reading-done", _READ_DONE),
        ("selecting", r"^Selecting previously unselected package \S+\.$"),
        ("preparing", r"^Preparing to unpack \S+ \.\.\.$"),
        ("unpacking-over", r"^Unpacking \S+ \(\S+\) over \(\S+\) \.\.\.$"),
        ("unpacking", r"^Unpacking \S+ \(\S+\) \.\.\.$"),
        ("setting-up", r"^Setting up \S+ \(\S+\) \.\.\.$"),
        ("triggers", r"^Processing triggers for \S+ \(\S+\) \.\.\.$"),
        ("alternatives-using", _USING),
        ("adding-cert", r"^Adding debian:\S+$"),
        ("debconf-fallback", r"^debconf: falling back to frontend: \S+$"),
        ("created-symlink", r"^Created symlink \S+ → \S+$"),
        ("certs-added", r"^\d+ added, \d+ removed; done\.$"),
    ],
    "apt-history": [
        ("start", r"^Start-Date: "),
        ("end", r"^End-Date: "),
        ("commandline", r"^Commandline: "),
        ("requested-by", r"^Requested-By: "),
        ("install", r"^Install: "),
        ("upgrade", r"^Upgrade: "),
        ("remove", r"^Remove: "),
        ("purge", r"^Purge: "),
        ("error", r"^Error: "),
    ],
}
_COMPILED = {s: [(e, re.compile(p)) for e, p in ev] for s, ev in EVENTS.items()}


def label(system: str, line: str) -> str:
    """The event of ``line`` in ``system`` ('' when no rule matches)."""
    for event, pattern in _COMPILED[system]:
        if pattern.search(line):
            return event
    return ""


def samples() -> dict[str, list[str]]:
    """Every system's sampled lines."""
    return {s: (SAMPLES / f"{s}.log").read_text().splitlines() for s in EVENTS}
