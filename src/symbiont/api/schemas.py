"""Request and response models of the HTTP API (the wire format)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

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


class AllowedHoursIn(BaseModel):
    """A daily window; wraps midnight when end is not after start."""

    model_config = ConfigDict(extra="forbid")
    start: str
    end: str
    timezone: str = "UTC"


class PolicyIn(BaseModel):
    """Conditions checked before each run."""

    model_config = ConfigDict(extra="forbid")
    require_approval: bool = False
    approvers: list[str] = Field(default_factory=list)
    max_runtime: str | float | None = None
    require_capabilities: list[str] = Field(default_factory=list)
    allowed_hours: AllowedHoursIn | None = None
    allowed_environments: list[str] = Field(default_factory=list)
    require_agent_pin: bool = False


class HeartbeatIn(BaseModel):
    """The assess -> act -> sleep loop inside each run."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool = False
    context_mode: str = "ephemeral_with_summary"
    max_iterations: int = 10


class JobFields(BaseModel):
    """Fields of a job definition (the spec's names); unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, max_length=128)
    agent_id: str | None = Field(default=None, max_length=1024)
    cron_expr: str | None = Field(default=None, max_length=1024)
    at: datetime | None = None
    timezone: str | None = None
    session_mode: str | None = None
    delivery: list[str] | None = None
    webhook_url: str | None = None
    webhook_headers: dict[str, str] | None = None
    webhook_secret: str | None = None
    slack_channel: str | None = None
    email_recipients: list[str] | None = None
    deliver_on: str | None = None
    policy: PolicyIn | None = None
    heartbeat: HeartbeatIn | None = None
    max_retries: int | None = None
    retry_delay: str | float | None = None
    max_concurrent: int | None = None
    jitter_seconds: int | None = None
    misfire_policy: str | None = None
    agent_pin_jwt: str | None = None
    input: str | None = None
    description: str | None = None

    def given(self) -> dict[str, Any]:
        """The fields the client sent, as plain values for the service."""
        return self.model_dump(exclude_unset=True)


class RunRequest(BaseModel):
    """``POST /api/v1/schedule/{id}/run`` body."""

    model_config = ConfigDict(extra="forbid")
    input: str | None = Field(default=None, max_length=64 * 1024)


class JobOut(BaseModel):
    """A job as the API shows it: secrets redacted, times RFC 3339 UTC."""

    id: str
    name: str
    agent_id: str
    cron_expr: str | None
    at: datetime | None
    timezone: str
    schedule_description: str | None
    status: str
    status_reason: str | None
    session_mode: str
    delivery: list[str]
    webhook_url: str | None
    webhook_headers: dict[str, str]
    webhook_secret: str | None
    slack_channel: str | None
    email_recipients: list[str]
    deliver_on: str
    policy: dict[str, Any]
    heartbeat: dict[str, Any]
    max_retries: int | None
    retry_delay_seconds: float | None
    max_concurrent: int
    jitter_seconds: int
    misfire_policy: str
    agent_pin_jwt: str | None
    input: str | None
    description: str | None
    next_run: datetime | None
    last_run: datetime | None
    run_count: int
    failure_count: int
    source: str
    created_at: datetime
    updated_at: datetime


class NextRunOut(BaseModel):
    """``GET /api/v1/schedule/{id}/next_run``."""

    job_id: str
    next_run: datetime | None
    next_runs: list[datetime]
    description: str | None


class AuditEventOut(BaseModel):
    """One audit event."""

    id: int
    ts: datetime
    type: str
    job_id: str | None
    run_id: str | None
    actor: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


class AuditVerifyOut(BaseModel):
    """``GET /api/v1/audit/verify``."""

    ok: bool
    events: int
    first_bad_id: int | None
    problem: str | None


class ErrorOut(BaseModel):
    """Every error response: what is wrong, a stable code, and details (field problems)."""

    error: str
    code: str
    details: Any = None


MAX_OFFSET = 2**63 - 1
"""Largest offset or id a query may name (the stores' 64-bit integers)."""

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": text}
    for status, text in (
        (400, "The body cannot be decoded (not UTF-8 JSON), or the URL holds a NUL"),
        (401, "Missing or invalid API key"),
        (403, "The key's actor may not do this"),
        (404, "No such job or run"),
        (409, "Conflicts with the current state (duplicate name, wrong status)"),
        (413, "Request body too large"),
        (422, "Invalid input; details lists each problem"),
        (503, "The store is unavailable"),
    )
}
"""Error responses declared on every protected route, for an accurate OpenAPI document."""
