"""Alerting rules' metadata (alertname → severity, ``for``, summary, runbook): from a
PrometheusRule manifest, a directory of them, or a TSV (file, group, alert, severity,
for, summary, runbook_url)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubesift.errors import UserError


@dataclass(frozen=True)
class Rule:
    alert: str
    severity: str
    for_: str = ""
    summary: str = ""
    runbook: str = ""
    group: str = ""


def load_rules(path: Path) -> list[Rule]:
    """Every rule in ``path`` (TSV, YAML, or a directory of YAML)."""
    if not path.exists():
        raise UserError(f"no rules at {path}")
    if path.is_dir():
        found = [r for p in sorted(path.glob("*.y*ml")) for r in _yaml(p)]
    elif path.suffix in (".tsv", ".txt"):
        found = _tsv(path)
    else:
        found = _yaml(path)
    if not found:
        raise UserError(f"no alerting rules found in {path}")
    return found


def _tsv(path: Path) -> list[Rule]:
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    if rows and not {"alert", "severity"} <= set(rows[0]):
        raise UserError(f"{path}: a rules TSV needs 'alert' and 'severity' columns")
    return [
        Rule(r["alert"], r["severity"], r.get("for") or "", r.get("summary") or "",
             r.get("runbook_url") or "", r.get("group") or "")
        for r in rows if r.get("alert")
    ]  # fmt: skip


def _yaml(path: Path) -> list[Rule]:
    import yaml

    try:
        docs = list(yaml.safe_load_all(path.read_text()))
    except yaml.YAMLError as exc:
        raise UserError(f"{path}: not YAML ({exc.__class__.__name__})") from None
    found = []
    for doc in docs:
        spec: Any = (doc or {}).get("spec", doc) if isinstance(doc, dict) else {}
        for group in spec.get("groups") or []:
            for rule in group.get("rules") or []:
                if "alert" not in rule:
                    continue
                notes = rule.get("annotations") or {}
                found.append(
                    Rule(
                        rule["alert"], str((rule.get("labels") or {}).get("severity", "warning")),
                        str(rule.get("for", "")), str(notes.get("summary", "")),
                        str(notes.get("runbook_url", "")), str(group.get("name", "")),
                    )
                )  # fmt: skip
    return found
