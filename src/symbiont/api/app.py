"""`create_app`: the FastAPI application over a service and a scheduler, no module state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from fastapi import Depends, FastAPI

from symbiont import __version__
from symbiont.api import errors
from symbiont.api.auth import actor
from symbiont.api.limits import BodyLimit, RefuseNul
from symbiont.api.routes import approvals, audit, dashboard, health, jobs, metrics, runs
from symbiont.api.schemas import ERROR_RESPONSES
from symbiont.observability.metrics import SchedulerMetrics
from symbiont.scheduler.daemon import CronScheduler
from symbiont.service import JobService


@dataclass(frozen=True, slots=True, kw_only=True)
class AppState:
    """What the routes work on."""

    service: JobService
    scheduler: CronScheduler | None = None
    """The scheduler running in this process, if any (health, wake-ups)."""
    metrics: SchedulerMetrics | None = None
    """Prometheus metrics of this daemon (``GET /metrics``), when enabled."""
    api_keys: Mapping[str, str] = field(default_factory=dict)
    max_body_bytes: int = 1024 * 1024
    """Larger request bodies are refused with 413."""
    """Accepted keys by actor name; empty means no authentication (loopback only)."""


def create_app(state: AppState) -> FastAPI:
    """Build the API application for *state*."""
    app = FastAPI(
        title="symbiont",
        version=__version__,
        description="A production scheduler for AI agents.",
    )
    app.state.symbiont = state
    errors.install(app)
    app.add_middleware(BodyLimit, max_bytes=state.max_body_bytes)
    app.add_middleware(RefuseNul)
    app.include_router(health.router)
    protected = [Depends(actor)]
    for router in (health.protected, jobs.router, runs.router, audit.router, metrics.router):
        app.include_router(router, dependencies=protected, responses=ERROR_RESPONSES)
    app.include_router(approvals.router, dependencies=protected, responses=ERROR_RESPONSES)
    dashboard.install(app)
    return app
