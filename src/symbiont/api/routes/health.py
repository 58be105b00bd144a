"""Health routes: liveness and the scheduler's health and counters."""

from __future__ import annotations

import anyio
from fastapi import APIRouter

from symbiont import __version__
from symbiont.api.deps import SchedulerDep, ServiceDep
from symbiont.api.schemas import Health, HealthMetrics, SchedulerHealth
from symbiont.core.enums import JobStatus
from symbiont.core.errors import StoreUnavailable

router = APIRouter(prefix="/api/v1/health", tags=["health"])
"""Liveness: public, so probes need no key; it says nothing but "ok" and the version."""
protected = APIRouter(prefix="/api/v1/health", tags=["health"])
"""Scheduler health: counts and errors, behind the API key."""

STORE_PROBE_SECONDS = 2.0
"""How long scheduler health waits for the store before answering 503 (store unavailable)."""


@router.get("")
async def health() -> Health:
    """Liveness: the process answers."""
    return Health(status="ok", version=__version__)


@protected.get("/scheduler")
async def scheduler_health(service: ServiceDep, scheduler: SchedulerDep) -> SchedulerHealth:
    """Scheduler health: job counts from the store, run counters of this node.

    While the store is down this answers 503 (``UNAVAILABLE``) within two seconds instead
    of waiting for the connection pool's own timeout.
    """
    try:
        with anyio.fail_after(STORE_PROBE_SECONDS):
            counts = await service.store.count_jobs()
    except TimeoutError:
        reason = f"no answer within {STORE_PROBE_SECONDS:g} s"
        raise StoreUnavailable(service.store.location, reason) from None
    if scheduler is None:
        return SchedulerHealth(
            status="healthy",
            active_jobs=counts[JobStatus.active],
            paused_jobs=counts[JobStatus.paused],
            dead_letter_jobs=counts[JobStatus.dead_letter],
            in_flight_jobs=0,
            metrics=HealthMetrics(
                runs_total=0, runs_succeeded=0, runs_failed=0, avg_execution_time_ms=0
            ),
        )
    stats = scheduler.stats
    finished = stats.finished
    executed = (
        finished.get("succeeded", 0) + finished.get("failed", 0) + finished.get("timed_out", 0)
    )
    status = "healthy"
    if stats.store_failing:  # until the next look at the store succeeds
        status = "degraded"
    if scheduler.stopping:
        status = "stopping"
    return SchedulerHealth(
        status=status,
        active_jobs=counts[JobStatus.active],
        paused_jobs=counts[JobStatus.paused],
        dead_letter_jobs=counts[JobStatus.dead_letter],
        in_flight_jobs=stats.in_flight,
        node_id=scheduler.settings.node_id,
        last_tick=None if stats.last_tick is None else stats.last_tick.isoformat(),
        store_errors=stats.store_errors,
        last_store_error=stats.last_store_error,
        metrics=HealthMetrics(
            runs_total=sum(finished.values()),
            runs_succeeded=finished.get("succeeded", 0),
            runs_failed=finished.get("failed", 0) + finished.get("timed_out", 0),
            avg_execution_time_ms=stats.execution_ms_total // executed if executed else 0,
        ),
    )
