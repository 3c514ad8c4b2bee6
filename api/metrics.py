"""Prometheus metrics of the API, correct under several uvicorn workers.

With `PROMETHEUS_MULTIPROC_DIR` set (`spamops serve --workers N` sets it), every worker
writes its samples to memory-mapped files and `/metrics` sums them across workers; without
it, one process serves its own registry. Names follow Prometheus conventions: base units
(seconds), `_total` on counters, bounded label values (route templates, not paths).
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from bus.buffered import PublisherStats
from ml.protocols import ServingModel

__all__ = ["CONTENT_TYPE_LATEST", "ApiMetrics"]

_LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class ApiMetrics:
    def __init__(self) -> None:
        self.multiprocess = "PROMETHEUS_MULTIPROC_DIR" in os.environ
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "spamops_api_requests",
            "HTTP requests by route and status.",
            ["method", "route", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "spamops_api_request_duration_seconds",
            "Time in the service per request.",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.predictions = Counter(
            "spamops_predictions",
            "Messages classified.",
            ["label", "model_version", "variant"],
            registry=r,
        )
        self.queue = Gauge(
            "spamops_publish_queue_events",
            "Events waiting to be published.",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.spooling = Gauge(
            "spamops_publish_spooling",
            "1 while events go to the spool.",
            registry=r,
            multiprocess_mode="livemax",
        )
        self.spooled = Counter(
            "spamops_events_spooled", "Events written to the spool file.", registry=r
        )
        self.dropped = Counter(
            "spamops_events_dropped", "Events that could not be kept.", registry=r
        )
        self.model = Gauge(
            "spamops_model_info",
            "The model this worker serves (value 1).",
            ["name", "version", "alias", "source"],
            registry=r,
            multiprocess_mode="liveall",
        )
        self._seen = (0, 0)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def observe_publisher(self, stats: PublisherStats) -> None:
        self.queue.set(stats.queued)
        self.spooling.set(1 if stats.spooling else 0)
        spooled, dropped = self._seen
        if stats.spooled > spooled:
            self.spooled.inc(stats.spooled - spooled)
        if stats.dropped > dropped:
            self.dropped.inc(stats.dropped - dropped)
        self._seen = (stats.spooled, stats.dropped)

    def observe_model(self, model: ServingModel | None, source: str) -> None:
        self.model.clear()
        if model is not None:
            ref = model.ref
            self.model.labels(ref.name, str(ref.version), ref.alias or "", source).set(1)

    def render(self) -> bytes:
        if not self.multiprocess:
            return generate_latest(self.registry)
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
