"""The model card: Markdown, HTML and precision–recall curves (PNG)."""

from __future__ import annotations

import html
import io
from typing import Any

import numpy as np


def pr_curves_png(curves: dict[str, tuple[np.ndarray, np.ndarray]], top: int = 8) -> bytes:
    """Precision–recall curves on the test slice for the best-supported labels."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import precision_recall_curve

    chosen = sorted(curves.items(), key=lambda kv: -int(kv[1][0].sum()))[:top]
    fig, ax = plt.subplots(figsize=(7, 5), dpi=100)
    for name, (y, s) in chosen:
        if 0 < y.sum() < len(y):
            p, r, _ = precision_recall_curve(y, s)
            ax.plot(r, p, label=f"{name} (n={int(y.sum())})")
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_title("Precision–recall on the test slice")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def summary_rows(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per (model, group): F1 at each rule and the acting precision/recall."""
    rows = []
    for model, groups in metrics["models"].items():
        for group, entry in groups.items():
            if not isinstance(entry, dict) or "at_0.5" not in entry:
                continue
            row: dict[str, Any] = {"model": model, "group": group}
            for rule in ("at_0.5", "best_f1", "target_precision"):
                if rule in entry:
                    m = entry[rule].get("binary") or entry[rule].get("family") or {}
                    f1 = m.get("f1", m.get("micro_f1"))
                    row[f"{rule}_f1"] = f1
                    if rule == "target_precision":
                        row["act_precision"] = m.get("precision", m.get("micro_precision"))
                        row["act_recall"] = m.get("recall", m.get("micro_recall"))
            rows.append(row)
    return rows


COLUMNS = (
    "model",
    "group",
    "at_0.5_f1",
    "best_f1_f1",
    "target_precision_f1",
    "act_precision",
    "act_recall",
)


def markdown(metadata: dict[str, Any], metrics: dict[str, Any]) -> str:
    """The model card as Markdown."""
    never = [
        n for n, t in zip(metadata["labels"], metadata["thresholds"], strict=True) if t is None
    ]
    decode = metrics.get("f1_decode", {})
    lines = [
        f"# Model card: {metadata['name']}",
        "",
        f"- Labels: {len(metadata['labels'])}; inputs: note/issue text, title, author, "
        "documentation links (never label-derived fields).",
        f"- Split: `{metrics['split']}` (temporal): {metrics['train_items']} training, "
        f"{metrics['test_items']} test items.",
        f"- Thresholds: chosen on out-of-fold predictions of the training period for "
        f"precision {metrics['target_precision']}.",
        f"- F1 figures (best_f1): {decode.get('rule', 'per-label best-F1 thresholds')}; "
        f"caps {decode.get('caps', {})}.",
        f"- Never predicted (cannot reach the target precision): {', '.join(never) or 'none'}.",
        f"- Data hash: `{metadata.get('data_hash', '')[:16]}`; "
        f"fit time {metrics['fit_seconds']} s.",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    for row in summary_rows(metrics):
        lines.append("| " + " | ".join(_cell(row.get(c)) for c in COLUMNS) + " |")
    lines += ["", "![precision-recall curves](pr-curves.png)", ""]
    return "\n".join(lines)


def to_html(md: str) -> str:
    """A small HTML rendering of the Markdown card: title, facts, table, curves."""
    head = ""
    facts: list[str] = []
    rows: list[str] = []
    for line in md.splitlines():
        if line.startswith("# "):
            head = f"<h1>{html.escape(line[2:])}</h1>"
        elif line.startswith("- "):
            facts.append(f"<li>{html.escape(line[2:])}</li>")
        elif line.startswith("|") and not line.startswith("|---"):
            cells = [html.escape(c.strip()) for c in line.strip("|").split("|")]
            tag = "th" if not rows else "td"
            rows.append("<tr>" + "".join(f"<{tag}>{c}</{tag}>" for c in cells) + "</tr>")
    return "\n".join(
        [
            "<!doctype html><html><head><meta charset='utf-8'><title>model card</title>",
            "<style>td,th{border:1px solid #ccc;padding:2px 6px}</style></head><body>",
            head,
            "<ul>" + "".join(facts) + "</ul>",
            "<table>" + "".join(rows) + "</table>",
            '<img src="pr-curves.png" alt="precision-recall curves">',
            "</body></html>",
        ]
    )


def _cell(value: Any) -> str:
    return "–" if value is None else str(value)
