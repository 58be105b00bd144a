"""Prometheus metrics, fed by scheduler events (the spec's names, plus lateness and deliveries)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from symbiont.core.enums import RunStatus
from symbiont.core.events import Event, EventBus, RunClaimed, RunFinished, RunSkipped, RunStarted

_DURATIONS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)
_LATENESS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60)


class SchedulerMetrics:
    """The metric families of one daemon, in their own registry (no global state)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.runs = Counter(
            "symbiont_cron_runs",
            "Finished runs by job and final status.",
            ["job_name", "status"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "symbiont_cron_execution_duration_seconds",
            "Agent execution time of finished runs.",
            ["job_name"],
            buckets=_DURATIONS,
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "symbiont_cron_in_flight_jobs", "Runs executing on this node.", registry=self.registry
        )
        self.dead_letter = Counter(
            "symbiont_cron_dead_letter",
            "Jobs moved to the dead-letter queue.",
            ["job_name"],
            registry=self.registry,
        )
        self.lateness = Histogram(
            "symbiont_cron_lateness_seconds",
            "Delay between an occurrence and the start of its run.",
            buckets=_LATENESS,
            registry=self.registry,
        )
        self.skipped = Counter(
            "symbiont_cron_skipped",
            "Occurrences recorded skipped.",
            ["job_name"],
            registry=self.registry,
        )
        self.denied = Counter(
            "symbiont_cron_denied",
            "Runs denied by the policy gate.",
            ["job_name"],
            registry=self.registry,
        )
        self.deliveries = Counter(
            "symbiont_cron_deliveries",
            "Deliveries by channel and result.",
            ["channel", "status"],
            registry=self.registry,
        )
        self.claimed = Counter(
            "symbiont_cron_claimed",
            "Occurrences and queued runs claimed by this node.",
            registry=self.registry,
        )

    def attach(self, events: EventBus, in_flight: Callable[[], float]) -> None:
        """Update the metrics from every event on *events*; read *in_flight* when scraped."""
        self.in_flight.set_function(in_flight)
        events.subscribe(self._on_event)

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)

    def _on_event(self, event: Event) -> None:
        if isinstance(event, RunClaimed):
            self.claimed.inc()
        elif isinstance(event, RunStarted):
            self.lateness.observe(max(event.lateness.total_seconds(), 0.0))
        elif isinstance(event, RunFinished):
            self._finished(event)
        elif isinstance(event, RunSkipped):
            self.skipped.labels(job_name=event.job_name).inc()

    def _finished(self, event: RunFinished) -> None:
        run = event.run
        name = run.job_name
        self.runs.labels(job_name=name, status=run.status.value).inc()
        if run.execution_time_ms is not None:
            self.duration.labels(job_name=name).observe(run.execution_time_ms / 1000)
        if event.dead_lettered:
            self.dead_letter.labels(job_name=name).inc()
        if run.status is RunStatus.skipped:
            self.skipped.labels(job_name=name).inc()
        elif run.status is RunStatus.denied:
            self.denied.labels(job_name=name).inc()
        for delivery in run.deliveries:
            self.deliveries.labels(channel=delivery.channel, status=delivery.status).inc()
