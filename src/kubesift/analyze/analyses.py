"""The named analyses: each turns filtered frames into a table plus how to chart it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from kubesift.analyze import metrics
from kubesift.analyze.data import Frames


@dataclass(frozen=True)
class Analysis:
    """One computed analysis.

    ``table`` holds the numbers (its index is the x axis or the categories); ``chart`` says
    how to draw it: ``lines``, ``panels`` (one subplot per column), ``barh`` (top-N),
    ``bars`` (grouped), ``area`` (stacked) or ``facets`` (one subplot per ``sig``).
    ``note`` explains missing data to the reader; ``units`` names what a column counts
    when it is not ``ylabel`` (a chart puts each unit on its own axis).
    """

    name: str
    title: str
    table: pd.DataFrame
    chart: str
    xlabel: str
    ylabel: str
    note: str | None = None
    units: dict[str, str] | None = None

    def unit_of(self, column: str) -> str:
        """What ``column`` counts: a top-N bar chart (``barh``) counts along its x axis."""
        default = self.xlabel if self.chart == "barh" else self.ylabel
        return (self.units or {}).get(column, default)

    @property
    def empty(self) -> bool:
        return self.table.empty or not self.table.select_dtypes("number").to_numpy().any()


@dataclass(frozen=True)
class Context:
    """What every analysis gets: the filtered frames, the noun for the items, and ``top``."""

    frames: Frames
    noun: str
    top: int


Compute = Callable[[Context], Analysis]


@dataclass(frozen=True)
class Spec:
    """A registered analysis: its CLI flag name, a one-line help, and the function."""

    name: str
    help: str
    compute: Compute


def _frame(series: pd.Series) -> pd.DataFrame:
    return series.to_frame()


def _created(c: Context) -> Analysis:
    table = _frame(metrics.cumulative(c.frames.items["created_at"]).rename("created"))
    return Analysis(
        "created", f"{c.noun.capitalize()} created (cumulative)", table, "lines", "date", c.noun
    )


def _closed(c: Context) -> Analysis:
    table = _frame(metrics.cumulative(metrics.closed_times(c.frames.items)).rename("closed"))
    return Analysis(
        "closed", f"{c.noun.capitalize()} closed (cumulative)", table, "lines", "date", c.noun
    )


def _created_vs_closed(c: Context) -> Analysis:
    table = metrics.created_vs_closed(c.frames.items)
    return Analysis(
        "created-vs-closed",
        f"{c.noun.capitalize()} created, closed and open",
        table,
        "lines",
        "date",
        c.noun,
    )


def _labels_by_group(c: Context) -> Analysis:
    table = _frame(metrics.labels_by_group(c.frames.labels, c.top))
    return Analysis(
        "labels-by-group",
        f"Top {c.top} label groups (prefix before /) on {c.noun}",
        table,
        "barh",
        c.noun,
        "label group",
    )


def _labels_by_name(c: Context) -> Analysis:
    table = _frame(metrics.labels_by_name(c.frames.labels, c.top))
    return Analysis(
        "labels-by-name", f"Top {c.top} labels on {c.noun}", table, "barh", c.noun, "label"
    )


def _users_by_created(c: Context) -> Analysis:
    table = _frame(metrics.users_by_created(c.frames.items, c.top))
    return Analysis(
        "users-by-created",
        f"Top {c.top} authors of {c.noun}",
        table,
        "barh",
        f"{c.noun} opened",
        "user",
    )


def _users_by_closed(c: Context) -> Analysis:
    table = _frame(metrics.users_by_closed(c.frames.items, c.top))
    closed = int((c.frames.items["state"] == "closed").sum())
    known = int(table["items"].sum()) if len(table) else 0
    note = None
    if closed and table.empty:
        note = (
            f"The store does not know who closed any of the {closed:,} closed {c.noun} "
            "(the GitHub listing does not carry closed_by), so nothing is shown."
        )
    elif closed:
        note = f"Shown only where the closer is known; top {c.top} cover {known:,} of {closed:,}."
    return Analysis(
        "users-by-closed",
        f"Top {c.top} users closing {c.noun}",
        table,
        "barh",
        f"{c.noun} closed",
        "user",
        note,
    )


def _release_notes(c: Context) -> Analysis:
    f = c.frames
    summary = metrics.release_notes_summary(f.items, f.notes)
    table = _frame(metrics.release_notes_by_kind(f.items, f.labels, f.notes, c.top))
    prs, with_note = int(summary["pull requests"]), int(summary["note"])
    share = f" ({with_note / prs:.0%})" if prs else ""
    note = (
        f"{with_note:,} of {prs:,} pull requests have a release note{share}; "
        f"'NONE': {int(summary['none']):,}; no block: {int(summary['missing']):,}; "
        f"not extracted: {int(summary['unknown']) + int(summary['error']):,}."
    )
    return Analysis(
        "release-notes-stats",
        "kind/ labels of pull requests with a release note",
        table,
        "barh",
        "pull requests",
        "kind label",
        note,
    )


def _time_to_merge(c: Context) -> Analysis:
    table = metrics.time_to_merge(c.frames.items)[["median_days", "p85_days", "merged"]]
    return Analysis(
        "time-to-merge",
        "Pull request time to merge, by month merged",
        table,
        "lines",
        "month merged",
        "days from opened to merged",
        "Lines: median and 85th percentile; never-merged PRs are not counted.",
        {"merged": "pull requests merged"},
    )


def _backlog(c: Context) -> Analysis:
    table = metrics.backlog(c.frames.items)
    return Analysis(
        "backlog",
        f"Open {c.noun}: backlog size and age at each month's end",
        table,
        "panels",
        "month",
        c.noun,
        units={"median_age_days": "age in days", "p85_age_days": "age in days"},
    )


def _velocity(c: Context) -> Analysis:
    table = metrics.velocity_by_sig(c.frames.items, c.frames.labels, min(c.top, 9))
    return Analysis(
        "sig-velocity",
        f"{c.noun.capitalize()} opened vs closed per month, by sig",
        table,
        "facets",
        "month",
        f"{c.noun} per month",
        "The busiest sig/ labels by items opened; an item counts under each sig.",
    )


def _label_actors(c: Context) -> Analysis:
    table = metrics.label_actors(c.frames.events)
    bots, total = int(table["bot"].sum()), int(table[["bot", "human"]].to_numpy().sum())
    note = f"Bots applied {bots:,} of {total:,} labels ({bots / total:.0%})." if total else None
    return Analysis(
        "label-actors",
        f"Labels applied to {c.noun} by bots vs humans, per month",
        table,
        "area",
        "month",
        "labels applied",
        note,
    )


def _missing_labels(c: Context) -> Analysis:
    table = metrics.missing_labels(c.frames.items, c.frames.labels)
    return Analysis(
        "missing-labels", "Items missing a kind/ or sig/ label", table, "bars", "", "items"
    )


ANALYSES: dict[str, Spec] = {
    s.name: s
    for s in [
        Spec("created", "Cumulative count of items created over time.", _created),
        Spec("closed", "Cumulative count of items closed over time.", _closed),
        Spec("created-vs-closed", "Created, closed and open items over time.", _created_vs_closed),
        Spec("labels-by-group", "Items per label group (prefix before /).", _labels_by_group),
        Spec("labels-by-name", "Items per label.", _labels_by_name),
        Spec("users-by-created", "Items opened per author.", _users_by_created),
        Spec("users-by-closed", "Items closed per user (where known).", _users_by_closed),
        Spec(
            "release-notes-stats", "PRs with a release note and their kind/ labels.", _release_notes
        ),
        Spec(
            "time-to-merge", "PR time to merge per month (median, 85th percentile).", _time_to_merge
        ),
        Spec("backlog", "Open backlog size and age over time.", _backlog),
        Spec("sig-velocity", "Opened vs closed per month for each sig/ label.", _velocity),
        Spec("label-actors", "Labels applied by bots vs humans per month.", _label_actors),
        Spec("missing-labels", "Items missing a kind/ or sig/ label.", _missing_labels),
    ]
}


def noun_for(kinds: tuple[str, ...]) -> str:
    """How to call the items in titles: 'issues', 'pull requests' or both."""
    if set(kinds) == {"issue"}:
        return "issues"
    if set(kinds) == {"pr"}:
        return "pull requests"
    return "issues and pull requests"


def run_analyses(
    frames: Frames, names: list[str], kinds: tuple[str, ...], top: int
) -> list[Analysis]:
    """Compute the named analyses over already-filtered frames."""
    context = Context(frames=frames, noun=noun_for(kinds), top=top)
    return [ANALYSES[n].compute(context) for n in names]
