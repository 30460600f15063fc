"""Prometheus metrics of alert triage, in a registry of their own (nothing at import)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.exposition import choose_encoder

from kubesift.alerts.ingest import Outcome
from kubesift.alerts.signals import Signal


class AlertMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.signals = Counter(
            "kubesift_alerts_signals_total",
            "Signals received and stored, by source (duplicates not counted).",
            ["source"], registry=r,
        )  # fmt: skip
        self.duplicates = Counter(
            "kubesift_alerts_duplicates_total",
            "Signals received again (Alertmanager re-sends; watch re-lists).",
            ["source"], registry=r,
        )  # fmt: skip
        self.rejected = Counter(
            "kubesift_alerts_rejected_total", "Payloads refused as malformed (HTTP 400).",
            ["source"], registry=r,
        )  # fmt: skip
        self.incidents = Counter(
            "kubesift_alerts_incidents_opened_total", "Incidents opened.", registry=r
        )
        self.feedback = Counter(
            "kubesift_alerts_feedback_total", "Answers received, by channel and answer.",
            ["via", "needs_human"], registry=r,
        )  # fmt: skip
        self.decisions = Gauge(
            "kubesift_alerts_decisions", "Incidents in the store, by decision.",
            ["decision"], registry=r,
        )  # fmt: skip
        self.quality = Gauge(
            "kubesift_alerts_model_quality",
            "The production model's figures on its newest held-out answers.",
            ["figure"], registry=r,
        )  # fmt: skip
        self.model = Gauge(
            "kubesift_alerts_model_id", "The production model's id (0: the severity prior).",
            registry=r,
        )  # fmt: skip

    def count(self, source: str, found: Sequence[Signal], out: Outcome) -> None:
        self.signals.labels(source).inc(out.stored)
        self.duplicates.labels(source).inc(out.duplicates)
        self.incidents.inc(len(out.opened))

    def observe(self, summary: dict[str, Any]) -> None:
        for decision, n in summary["incidents"].items():
            self.decisions.labels(decision).set(n)
        model = summary.get("model")
        self.model.set(model["id"] if model else 0)
        held = (model or {}).get("metrics", {}).get("holdout", {})
        for figure in ("recall", "precision", "paged_share"):
            if figure in held:
                self.quality.labels(figure).set(held[figure])

    def exposition(self, accept: str) -> tuple[bytes, str]:
        encoder, ctype = choose_encoder(accept)
        return encoder(self.registry), ctype
