"""Request and response models of the HTTP API (the wire format)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from symbiont.core.models import Run


class HealthMetrics(BaseModel):
    """Run counters of this scheduler node since it started."""

    runs_total: int
    runs_succeeded: int
    runs_failed: int
    avg_execution_time_ms: int


class SchedulerHealth(BaseModel):
    """``GET /api/v1/health/scheduler``: the spec's shape, plus node facts."""

    status: str
    """``healthy``; ``degraded`` when the store failed recently; ``stopping``."""
    active_jobs: int
    paused_jobs: int
    in_flight_jobs: int
    metrics: HealthMetrics
    node_id: str | None = None
    dead_letter_jobs: int = 0
    last_tick: str | None = None
    store_errors: int = 0
    last_store_error: str | None = None


class Health(BaseModel):
    """``GET /api/v1/health``: liveness."""

    status: str
    version: str


class DeliveryOut(BaseModel):
    """One channel's delivery of a run."""

    channel: str
    status: str
    error: str | None = None
    attempts: int = 1


class RunOut(BaseModel):
    """A run as the API shows it (times RFC 3339 UTC)."""

    id: str
    job_id: str
    job_name: str
    trigger: str
    scheduled_for: datetime
    status: str
    attempt: int
    input: str | None
    output: str | None
    summary: str | None
    error_message: str | None
    iterations: int
    started_at: datetime | None
    finished_at: datetime | None
    execution_time_ms: int | None
    deliveries: list[DeliveryOut]
    node_id: str | None
    details: dict[str, Any]

    @classmethod
    def of(cls, run: Run) -> RunOut:
        """Build the wire form of *run*."""
        return cls(
            id=run.id,
            job_id=run.job_id,
            job_name=run.job_name,
            trigger=run.trigger.value,
            scheduled_for=run.scheduled_for,
            status=run.status.value,
            attempt=run.attempt,
            input=run.input,
            output=run.output,
            summary=run.summary,
            error_message=run.error_message,
            iterations=run.iterations,
            started_at=run.started_at,
            finished_at=run.finished_at,
            execution_time_ms=run.execution_time_ms,
            deliveries=[
                DeliveryOut(channel=d.channel, status=d.status, error=d.error, attempts=d.attempts)
                for d in run.deliveries
            ],
            node_id=run.node_id,
            details=dict(run.details),
        )


class RejectRequest(BaseModel):
    """``POST /api/v1/runs/{id}/reject`` body."""

    reason: str | None = Field(default=None, max_length=2000)
