"""Prometheus metrics of the model server, in a registry of their own.

Nothing is registered at import time: :class:`ServeMetrics` is created with the server
(tests and a second server in one process get their own), and ``/metrics`` serves it
beside the KServe SDK's default registry.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class ServeMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "kubesift_serve_requests_total",
            "HTTP requests answered, by endpoint and status code.",
            ["endpoint", "code"],
            registry=r,
        )
        self.latency = Histogram(
            "kubesift_serve_request_duration_seconds",
            "Time from the request's arrival to the end of its response, by endpoint.",
            ["endpoint"],
            buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
            registry=r,
        )
        self.batch_size = Histogram(
            "kubesift_serve_batch_items",
            "Items scored per call of the model (concurrent requests are batched together).",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024),
            registry=r,
        )
        self.model_info = Gauge(
            "kubesift_serve_model_info",
            "1 for the model version being served.",
            ["served_name", "model", "version"],
            registry=r,
        )
        self.model_loaded = Gauge(
            "kubesift_serve_model_loaded_timestamp_seconds",
            "When the version being served was loaded (Unix time).",
            ["served_name"],
            registry=r,
        )
        self.model_switches = Counter(
            "kubesift_serve_model_switches_total",
            "Versions loaded and switched to (including the first).",
            ["served_name"],
            registry=r,
        )
        self.model_load_errors = Counter(
            "kubesift_serve_model_load_errors_total",
            "Failed attempts to load a model version.",
            ["served_name"],
            registry=r,
        )


def endpoint(path: str) -> str:
    """A bounded label for a request path."""
    if path.startswith("/v1/models"):
        if path.endswith(":predict"):
            return "v1_predict"
        if path.endswith(":explain"):
            return "v1_explain"
        return "v1_models"
    if path.startswith("/v2/health"):
        return "v2_health"
    if path.startswith("/v2/models"):
        return "v2_infer" if path.endswith("/infer") else "v2_models"
    if path in ("/v2", "/v2/"):
        return "v2_server"
    if path == "/metrics":
        return "metrics"
    if path == "/":
        return "live"
    return "other"
