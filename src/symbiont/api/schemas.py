"""Request and response models of the HTTP API (the wire format)."""

from __future__ import annotations

from pydantic import BaseModel


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
