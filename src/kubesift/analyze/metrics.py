"""Metrics: pure functions from data frames (see ``kubesift.analyze.data``) to series and tables.

No I/O here; every function is vectorized so it stays fast on ~100k items.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DAY = pd.Timedelta(days=1)
NOTE_PRIORITY = ["note", "none", "missing", "error"]


def _daily_counts(times: pd.Series) -> pd.Series:
    counts = times.dropna().dt.floor("D").value_counts().sort_index()
    return counts.astype("int64")


def _full_days(index: pd.Index) -> pd.DatetimeIndex:
    return pd.date_range(index.min(), index.max(), freq="D", name="date")


def cumulative(times: pd.Series) -> pd.Series:
    """Running total of events per day (every day between the first and the last)."""
    counts = _daily_counts(times)
    if counts.empty:
        return pd.Series(dtype="int64", name="count", index=pd.DatetimeIndex([], name="date"))
    return counts.reindex(_full_days(counts.index), fill_value=0).cumsum().rename("count")


def closed_times(items: pd.DataFrame) -> pd.Series:
    """When each closed item was closed (NaT for open ones, even if once closed)."""
    return items["closed_at"].where(items["state"] == "closed")


def created_vs_closed(items: pd.DataFrame) -> pd.DataFrame:
    """Per day: items created so far, closed so far, and open (+1 on create, −1 on close)."""
    created = _daily_counts(items["created_at"])
    closed = _daily_counts(closed_times(items))
    both = pd.concat([created.rename("created"), closed.rename("closed")], axis=1, sort=True)
    if both.empty:
        return pd.DataFrame(
            columns=["created", "closed", "open"], index=pd.DatetimeIndex([], name="date")
        )
    both = both.reindex(_full_days(both.index)).fillna(0).astype("int64").cumsum()
    both["open"] = both["created"] - both["closed"]
    return both


def top_counts(values: pd.Series, top: int, name: str = "count") -> pd.Series:
    """The ``top`` most frequent values, most frequent first (ties by value)."""
    return _top(values.dropna().value_counts(), top, name)


def _top(counts: pd.Series, top: int, name: str) -> pd.Series:
    counts = counts.rename_axis("value").reset_index(name=name)
    counts = counts.sort_values([name, "value"], ascending=[False, True]).head(top)
    return counts.set_index("value")[name].astype("int64")


def label_groups(label_names: pd.Series) -> pd.Series:
    """The group of each label: the prefix before ``/`` (the whole name if it has none)."""
    return label_names.str.split("/", n=1).str[0]


def labels_by_group(labels: pd.DataFrame, top: int) -> pd.Series:
    """Items per label group (an item counts once per group)."""
    pairs = pd.DataFrame({"item_id": labels["item_id"], "group": label_groups(labels["label"])})
    return top_counts(pairs.drop_duplicates()["group"], top, "items")


def labels_by_name(labels: pd.DataFrame, top: int) -> pd.Series:
    """Items per label."""
    return top_counts(labels["label"], top, "items")


def users_by_created(items: pd.DataFrame, top: int) -> pd.Series:
    """Items opened per author."""
    return top_counts(items["author"], top, "items")


def users_by_closed(items: pd.DataFrame, top: int) -> pd.Series:
    """Items closed per user, where the store knows who closed them (often it does not)."""
    return top_counts(items["closed_by"].where(items["state"] == "closed"), top, "items")


def release_note_status(prs: pd.DataFrame, notes: pd.DataFrame) -> pd.Series:
    """Per PR id, its best release-note status across sources ('unknown' when none stored)."""
    rank = (
        notes["status"].map({s: i for i, s in enumerate(NOTE_PRIORITY)}).fillna(len(NOTE_PRIORITY))
    )
    best = notes.assign(rank=rank).sort_values("rank").drop_duplicates("item_id")
    status = best.set_index("item_id")["status"]
    return prs["id"].map(status).fillna("unknown").set_axis(prs["id"]).rename("status")


def release_notes_summary(items: pd.DataFrame, notes: pd.DataFrame) -> pd.Series:
    """How many PRs have a release note, have 'NONE', lack the block, or are unknown."""
    prs = items[items["kind"] == "pr"]
    status = release_note_status(prs, notes)
    order = [*NOTE_PRIORITY, "unknown"]
    counts = status.value_counts().reindex(order, fill_value=0).astype("int64")
    return pd.concat([pd.Series({"pull requests": len(prs)}), counts]).rename("prs")


def release_notes_by_kind(
    items: pd.DataFrame, labels: pd.DataFrame, notes: pd.DataFrame, top: int
) -> pd.Series:
    """The ``kind/`` labels of PRs that carry a release note ('(no kind)' when they have none)."""
    prs = items[items["kind"] == "pr"]
    status = release_note_status(prs, notes)
    with_note = status.index[status == "note"]
    kinds = labels[labels["item_id"].isin(with_note) & labels["label"].str.startswith("kind/")]
    missing = len(set(with_note) - set(kinds["item_id"]))
    counts = kinds["label"].value_counts()
    if missing:
        counts["(no kind)"] = missing
    return _top(counts, top, "prs")


def _month(times: pd.Series) -> pd.Series:
    return times.dt.to_period("M").dt.to_timestamp()


def time_to_merge(items: pd.DataFrame) -> pd.DataFrame:
    """Per month of merge: PRs merged, and the median and 85th percentile days to merge."""
    merged = items[(items["kind"] == "pr") & items["merged_at"].notna()]
    days = (merged["merged_at"] - merged["created_at"]) / DAY
    grouped = days.groupby(_month(merged["merged_at"]).rename("month"))
    out = pd.DataFrame(
        {
            "merged": grouped.size(),
            "median_days": grouped.median(),
            "p85_days": grouped.quantile(0.85),
        }
    )
    return out.astype({"merged": "int64"})


def backlog(items: pd.DataFrame) -> pd.DataFrame:
    """At each month's end: how many items were open and their median and p85 age in days.

    Items without a creation time (imported from release-note files) are left out."""
    items = items[items["created_at"].notna()]
    if items.empty:
        return pd.DataFrame(
            columns=["open", "median_age_days", "p85_age_days"],
            index=pd.DatetimeIndex([], name="month"),
        )
    created = items["created_at"].to_numpy("datetime64[ns]")
    closed_at = closed_times(items)
    closed = closed_at.to_numpy("datetime64[ns]").copy()
    closed[np.isnat(closed)] = np.datetime64(pd.Timestamp.max.value, "ns")
    last = max(items["created_at"].max(), closed_at.max()) if closed_at.notna().any() else None
    last = last if last is not None else items["created_at"].max()
    ends = pd.date_range(items["created_at"].min().normalize(), last, freq="ME", name="month")
    moments = [*(ends + DAY), last]  # the midnight after each month's last day, then now
    ends = ends.append(pd.DatetimeIndex([last.normalize()], name="month"))
    rows = [_open_at(created, closed, np.datetime64(m, "ns")) for m in moments]
    table = pd.DataFrame(rows, index=ends, columns=["open", "median_age_days", "p85_age_days"])
    return table[~table.index.duplicated(keep="last")]


def _open_at(
    created: np.ndarray, closed: np.ndarray, when: np.datetime64
) -> tuple[int, float, float]:
    mask = (created <= when) & (closed > when)
    if not mask.any():
        return 0, float("nan"), float("nan")
    ages = (when - created[mask]).astype("timedelta64[s]").astype(np.float64) / 86400.0
    return int(mask.sum()), float(np.median(ages)), float(np.quantile(ages, 0.85))


def velocity_by_sig(items: pd.DataFrame, labels: pd.DataFrame, top: int) -> pd.DataFrame:
    """Per ``sig/`` label and month: items opened and closed (the ``top`` busiest sigs)."""
    sigs = labels[labels["label"].str.startswith("sig/")].rename(columns={"label": "sig"})
    joined = sigs.merge(items, left_on="item_id", right_on="id")
    keep = joined["sig"].value_counts().head(top).index
    joined = joined[joined["sig"].isin(keep)]
    opened = joined.groupby(["sig", _month(joined["created_at"]).rename("month")]).size()
    done = joined[joined["state"] == "closed"]
    closed = done.groupby(["sig", _month(done["closed_at"]).rename("month")]).size()
    out = pd.concat([opened.rename("opened"), closed.rename("closed")], axis=1)
    if out.empty:
        return pd.DataFrame(columns=["sig", "month", "opened", "closed"])
    months = out.index.get_level_values("month")
    full = pd.MultiIndex.from_product(
        [sorted(keep), pd.date_range(months.min(), months.max(), freq="MS")], names=["sig", "month"]
    )
    return out.reindex(full, fill_value=0).fillna(0).astype("int64").reset_index()


def label_actors(events: pd.DataFrame) -> pd.DataFrame:
    """Per month: labels applied by bots and by humans, and the bots' share (0..1)."""
    applied = events[events["event"] == "labeled"]
    who = np.where(applied["actor_is_bot"].astype(bool), "bot", "human")
    table = pd.crosstab(
        _month(applied["created_at"]).rename("month"),
        pd.Series(who, index=applied.index, name="by"),
    )
    table = table.reindex(columns=["bot", "human"], fill_value=0).astype("int64")
    table.columns.name = None
    total = table["bot"] + table["human"]
    table["bot_share"] = (table["bot"] / total.where(total > 0)).fillna(0.0)
    return table


def missing_labels(items: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """Per item kind: items, and how many lack a ``kind/`` label, a ``sig/`` label, or both."""
    names = labels["label"]
    has_kind = items["id"].isin(labels.loc[names.str.startswith("kind/"), "item_id"])
    has_sig = items["id"].isin(labels.loc[names.str.startswith("sig/"), "item_id"])
    frame = pd.DataFrame(
        {
            "kind": items["kind"].map({"issue": "issues", "pr": "pull requests"}),
            "items": 1,
            "no kind/": ~has_kind,
            "no sig/": ~has_sig,
            "neither": ~has_kind & ~has_sig,
            "open without kind/ or sig/": (items["state"] == "open") & ~(has_kind & has_sig),
        }
    )
    return frame.groupby("kind").sum().astype("int64")
