"""The daemon's Prometheus metrics, in a registry of its own (not the process-wide default one, so
two daemons in one test process, or a library importing prometheus_client, never collide)."""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

PREFIX = "reconciler"


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.reconciles = Counter(f"{PREFIX}_reconciles", "Reconcile passes by result", ["result"], registry=r)
        self.duration = Histogram(f"{PREFIX}_reconcile_duration_seconds", "Duration of a reconcile pass",
                                  buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900), registry=r)
        self.pipelines = Counter(f"{PREFIX}_pipelines", "Pipelines run by the daemon, by outcome",
                                 ["environment", "status"], registry=r)
        self.drift_found = Counter(f"{PREFIX}_drift_found", "Drift checks that found drift",
                                   ["environment", "policy"], registry=r)
        self.drifted = Gauge(f"{PREFIX}_drifted_resources", "Resources found drifted at the last check",
                             ["environment"], registry=r)
        self.queue_depth = Gauge(f"{PREFIX}_queue_depth", "Environments waiting for an apply (running, queued "
                                                          "or in retry backoff)", registry=r)
        self.triggers = Counter(f"{PREFIX}_triggers", "Reconcile requests by origin, and how many merged into "
                                                      "one already pending", ["origin", "merged"], registry=r)
        self.applied_revision = Gauge(f"{PREFIX}_last_applied_revision_info", "Revision last applied to each "
                                                                              "environment (value 1)",
                                      ["environment", "revision"], registry=r)
        self.ready = Gauge(f"{PREFIX}_environment_ready", "1 when the environment's Ready condition is True",
                           ["environment"], registry=r)
        self.source_revision = Gauge(f"{PREFIX}_source_revision_info", "Revision at the branch tip at the last "
                                                                        "fetch (value 1)", ["revision"], registry=r)
        self.webhooks = Counter(f"{PREFIX}_webhook_deliveries", "Webhook deliveries by HTTP status", ["code"],
                                registry=r)

    def set_applied(self, revisions: dict[str, str | None]) -> None:
        """Replace the per-environment revision series (a label per revision: the old one goes)."""
        self.applied_revision.clear()
        for name, revision in revisions.items():
            self.applied_revision.labels(name, revision or "").set(1)

    def set_source(self, revision: str) -> None:
        self.source_revision.clear()
        self.source_revision.labels(revision).set(1)

    def render(self) -> bytes:
        return generate_latest(self.registry)
