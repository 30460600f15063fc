"""Forward-in-time calibration: thresholds chosen the way they will be used.

A deployed model is trained on the past and acts on items that come later, after the
project has drifted. Thresholds read off out-of-fold predictions of the whole period
(:func:`kubesift.learn.calibrate.out_of_fold`) mix past and future and promise more than
they deliver on new releases. Here the newest part of the training period is cut into
chronological blocks; each block is scored by a model fitted only on what came before it,
and a label's threshold is the lowest one whose *lower confidence bound* on precision
(Clopper–Pearson) still reaches the target on those forward scores. A label whose bound
never reaches the target abstains: it is never acted on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
from scipy.stats import beta
from sklearn.base import clone

from kubesift.learn.dataset import Dataset, minor_of

#: One-sided confidence of the precision bound a threshold must reach.
CONFIDENCE = 0.95
#: The newest share of the training items that forward folds predict.
FORWARD_SHARE = 0.4
#: Fewer predictions than this at a threshold are not evidence of anything (forward and
#: out-of-fold thresholds alike).
MIN_PREDICTED = 10
#: A label is judged only where the calibration slice holds at least this many negatives:
#: with fewer, any threshold "reaches" its precision by labelling nearly everything.
MIN_NEGATIVES = 10
#: An acting threshold must turn away at least this share of the slice's negatives. One
#: that labels (nearly) everything only restates the base rate, and promises it as
#: precision: react's kind/bug acted at 0.023 on a slice that was 83 % bugs, promised
#: 0.977 and delivered 0.333 once the mix changed.
MIN_REJECTED = 0.5
#: And on the raw counts (before re-weighting to the newest positive rate, which an
#: extreme rate makes meaningless), its precision must close at least this share of the
#: gap between the slice's base rate and 1.
MIN_GAP_CLOSED = 0.5

NOT_FORWARD = -1  # an item only ever trained on (the oldest part)
UNDATED = -2  # an item without a release or a creation time: left out of forward folds


def period_of(release: str | None, created_at: str | None) -> tuple[int, ...] | None:
    """The period an item belongs to: its minor release, else its creation month."""
    if release:
        return minor_of(release)
    if created_at and len(created_at) >= 7 and created_at[:4].isdigit():
        return (int(created_at[:4]), int(created_at[5:7]), 0)
    return None


def forward_blocks(dataset: Dataset, folds: int = 5, share: float = FORWARD_SHARE) -> np.ndarray:
    """A block per item: 1..k for the newest ``share`` of items, in time order, cut at
    period boundaries when there are enough periods; ``NOT_FORWARD`` for the older items;
    ``UNDATED`` for items with no time. Block ``b`` is predicted by a model of blocks < b.
    """
    keys = [period_of(e.release, e.created_at) for e in dataset.examples]
    dated = [i for i, k in enumerate(keys) if k is not None]
    out = np.full(len(dataset), UNDATED, dtype=np.int64)
    if len(dated) < 2:
        return out
    dated.sort(key=lambda i: (keys[i], dataset.examples[i].created_at or "", i))
    out[dated] = NOT_FORWARD
    wanted = max(1, round(len(dated) * share))
    periods = sorted({keys[i] for i in dated}, key=lambda k: k or ())
    if len(periods) > folds:
        tail = _newest_periods(periods, [keys[i] for i in dated], wanted)
        newest = [i for i in dated if keys[i] in tail]
    else:  # too few periods to cut at their edges: cut the newest items by count
        newest = dated[-wanted:]
    for b, chunk in enumerate(_chunks(newest, [keys[i] for i in newest], folds), start=1):
        out[chunk] = b
    return out


def _newest_periods(
    periods: list[tuple[int, ...] | None], keys: list[tuple[int, ...] | None], wanted: int
) -> set[tuple[int, ...] | None]:
    counts = {p: 0 for p in periods}
    for k in keys:
        counts[k] += 1
    chosen: set[tuple[int, ...] | None] = set()
    total = 0
    for p in reversed(periods[1:]):  # the oldest period always stays for training
        chosen.add(p)
        total += counts[p]
        if total >= wanted:
            break
    return chosen


def _chunks(index: list[int], keys: list[tuple[int, ...] | None], folds: int) -> list[list[int]]:
    """``index`` (time order) in ``folds`` contiguous chunks of about equal size, never
    splitting a period across chunks when whole periods allow ``folds`` chunks."""
    distinct = len(dict.fromkeys(keys))
    size = len(index) / folds
    chunks: list[list[int]] = [[] for _ in range(folds)]
    if distinct >= folds:
        edges: list[int] = []
        for pos in range(1, len(index)):
            if keys[pos] != keys[pos - 1]:
                edges.append(pos)
        cuts = sorted({min(edges, key=lambda e: abs(e - size * c)) for c in range(1, folds)})
        bounds = [0, *cuts, len(index)]
    else:
        bounds = [round(size * c) for c in range(folds + 1)]
    for c in range(len(bounds) - 1):
        chunks[min(c, folds - 1)] += index[bounds[c] : bounds[c + 1]]
    return [c for c in chunks if c]


def forward_scores(
    model: Any,
    X: Sequence[dict[str, Any]],
    Y: np.ndarray,
    known: np.ndarray,
    blocks: np.ndarray,
    on_block: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Scores of each forward block from a model fitted on every older item (NaN elsewhere);
    ``on_block(b)`` is called as each block is scored.

    The whole model (featurizer included) is refitted per block: vocabulary drift is
    part of what the next release brings.
    """
    out = np.full(Y.shape, np.nan, dtype=np.float64)
    for b in sorted(int(v) for v in np.unique(blocks) if v > 0):
        train = np.flatnonzero(((blocks > 0) & (blocks < b)) | (blocks == NOT_FORWARD))
        test = np.flatnonzero(blocks == b)
        fitted = clone(model).fit([X[int(i)] for i in train], Y[train], known[train])
        out[test] = fitted.predict_proba([X[int(i)] for i in test])
        if on_block is not None:
            on_block(b)
    return out


def lower_bound(tp: np.ndarray, n: np.ndarray, confidence: float = CONFIDENCE) -> np.ndarray:
    """Clopper–Pearson one-sided lower bound on precision ``tp / n``."""
    tp = np.asarray(tp, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        low = beta.ppf(1 - confidence, tp, n - tp + 1)
    return np.where(tp > 0, np.nan_to_num(low, nan=0.0), 0.0)


def upper_bound(tp: np.ndarray, n: np.ndarray, confidence: float = CONFIDENCE) -> np.ndarray:
    """Clopper–Pearson one-sided upper bound on precision ``tp / n``."""
    tp = np.asarray(tp, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        high = beta.ppf(confidence, tp + 1, n - tp)
    return np.where(tp < n, np.nan_to_num(high, nan=1.0), 1.0)


@dataclass(frozen=True)
class Calibration:
    """One label's acting threshold and what it promises on the forward folds."""

    label: str
    threshold: float | None  # None: abstains (never acted on)
    target: float
    expected_precision: float | None
    interval: tuple[float, float] | None  # (lower, upper) one-sided bounds at `confidence`
    predicted: int  # forward items at or over the threshold
    recall: float | None
    positives: int  # forward positives
    recent_rate: float | None  # the positive rate the counts were re-weighted to
    scored: int  # forward items with a known target
    best_precision: float | None  # the best precision any threshold reached (≥ MIN_PREDICTED)
    best_lower_bound: float | None
    #: precision over the slice's positive rate at the threshold (how much better than
    #: labelling everything), and the share of the slice it labels
    lift: float | None = None
    labelled_share: float | None = None
    #: why it abstains, in words (None when it acts)
    why: str | None = None
    #: which check set the threshold: forward folds, or class-stratified folds when they
    #: asked for more (see :func:`conservative`)
    decided_by: str = "forward"

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["interval"] = list(self.interval) if self.interval else None
        return out


def calibrate_label(
    label: str,
    y: np.ndarray,
    scores: np.ndarray,
    target: float,
    confidence: float = CONFIDENCE,
    recent_rate: float | None = None,
) -> Calibration:
    """The lowest threshold whose precision lower bound reaches ``target`` on these forward
    scores (known cells only), or an abstention with the best precision reached.

    With ``recent_rate`` (the label's share of positives in the newest period), the counts
    are re-weighted to that share before the bound is taken: precision falls with the
    positive rate at the same threshold, and the rate drifts (kind/bug: 45 % of the old
    notes, 32 % of the newest), so the pooled folds alone promise too much.
    """
    order = np.argsort(-scores, kind="stable")
    s, yy = scores[order], y[order].astype(np.int64)
    w_pos, w_neg = _prior_weights(float(yy.mean()) if len(yy) else 0.0, recent_rate)
    tp = np.cumsum(yy) * w_pos
    n = tp + np.cumsum(1 - yy) * w_neg
    # Only cut between distinct scores: a threshold keeps every tie.
    last = np.r_[s[1:] != s[:-1], True] if len(s) else np.zeros(0, dtype=bool)
    n_raw = np.arange(1, len(s) + 1)
    cut = last & (n_raw >= MIN_PREDICTED)
    positives = int(yy.sum())
    negatives = len(yy) - positives
    rate = None if recent_rate is None else round(recent_rate, 4)

    def abstain(why: str, best: float | None = None, best_low: float | None = None) -> Calibration:
        return Calibration(label, None, target, None, None, 0, None, positives, rate, len(s),
                           best, best_low, why=why)  # fmt: skip

    if not cut.any() or positives == 0:
        return abstain(f"{positives} positives in {len(s)} forward items: nothing to judge")
    low = lower_bound(tp, n, confidence)
    precision = tp / n
    best_p = round(float(precision[cut].max()), 4)
    best_low = round(float(low[cut].max()), 4)
    if negatives < MIN_NEGATIVES:
        return abstain(f"{negatives} negatives in the forward slice (< {MIN_NEGATIVES}): "
                       "precision cannot be told from the base rate", best_p, best_low)  # fmt: skip
    base = positives / len(yy)
    raw_precision = np.cumsum(yy) / n_raw
    rejects = 1 - np.cumsum(1 - yy) / negatives >= MIN_REJECTED
    lifts = raw_precision >= base + MIN_GAP_CLOSED * (1 - base)
    ok = np.flatnonzero(cut & (low >= target) & rejects & lifts)
    if not len(ok):
        reachable = np.flatnonzero(cut & (low >= target))
        why = (
            f"reaches {target:.2f} only by labelling {n_raw[reachable[-1]]:,} of {len(s):,} "
            f"items, no better than the base rate"
            if len(reachable)
            else f"best forward precision {best_p:.2f} < {target:.2f}"
            if best_p < target
            else f"best forward precision {best_p:.2f}, but its {confidence:.0%} lower bound "
            f"{best_low:.2f} < {target:.2f}"
        )
        return abstain(why, best_p, best_low)
    k = int(ok[-1])
    interval = (round(float(low[k]), 4), round(float(upper_bound(tp[k], n[k], confidence)), 4))
    return Calibration(
        label,
        float(s[k]),
        target,
        round(float(precision[k]), 4),
        interval,
        int(n_raw[k]),
        round(float(yy[: k + 1].sum() / positives), 4),
        positives,
        rate,
        len(s),
        best_p,
        best_low,
        lift=round(float(raw_precision[k]) / base, 3),
        labelled_share=round(int(n_raw[k]) / len(s), 4),
    )


def _prior_weights(pooled: float, recent: float | None) -> tuple[float, float]:
    if recent is None or not 0 < pooled < 1:
        return 1.0, 1.0
    return recent / pooled, (1 - recent) / (1 - pooled)


def recent_rates(
    Y: np.ndarray, known: np.ndarray, blocks: np.ndarray, smoothing: float = 50.0
) -> list[float | None]:
    """Each label's positive rate in the newest forward block, shrunk towards its rate over
    all forward blocks by ``smoothing`` pseudo-items (a rare label's newest count is noise)."""
    newest = int(blocks.max()) if len(blocks) else 0
    out: list[float | None] = []
    for j in range(Y.shape[1]):
        fwd = known[:, j] & (blocks > 0)
        last = known[:, j] & (blocks == newest)
        if newest <= 0 or not fwd.any():
            out.append(None)
            continue
        pooled = float(Y[fwd, j].mean())
        out.append((float(Y[last, j].sum()) + smoothing * pooled) / (int(last.sum()) + smoothing))
    return out


def conservative(forward: Calibration, stratified: Calibration) -> Calibration:
    """The more conservative of two checks of one label: forward in time, and over
    class-stratified folds (the data's own class mix). When the mix swings with time the
    forward slice can promise what the other mix cannot keep (react's bugs: 100 of the 120
    newest issues); a label acts only where both reach the target, at the higher threshold."""
    if forward.threshold is None:
        return forward
    if stratified.threshold is None:
        why = f"class-stratified folds: {stratified.why or 'cannot reach the target'}"
        return replace(forward, threshold=None, expected_precision=None, interval=None,
                       predicted=0, recall=None, why=why, decided_by="stratified")  # fmt: skip
    if stratified.threshold > forward.threshold:
        return replace(stratified, recent_rate=forward.recent_rate, decided_by="stratified")
    return forward


def calibrate(
    labels: Sequence[str],
    Y: np.ndarray,
    known: np.ndarray,
    fwd: np.ndarray,
    target: float,
    confidence: float = CONFIDENCE,
    blocks: np.ndarray | None = None,
) -> list[Calibration]:
    """One :class:`Calibration` per label from forward scores (NaN = not forward-scored);
    with ``blocks``, each label's counts are re-weighted to its newest positive rate."""
    rates = recent_rates(Y, known, blocks) if blocks is not None else [None] * len(labels)
    out = []
    for j, name in enumerate(labels):
        rows = known[:, j] & ~np.isnan(fwd[:, j])
        out.append(calibrate_label(name, Y[rows, j], fwd[rows, j], target, confidence, rates[j]))
    return out
