"""`create_app`: the FastAPI application over a service and a scheduler, no module state."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI

from symbiont import __version__
from symbiont.api.routes import health
from symbiont.scheduler.daemon import CronScheduler
from symbiont.service import JobService


@dataclass(frozen=True, slots=True, kw_only=True)
class AppState:
    """What the routes work on."""

    service: JobService
    scheduler: CronScheduler | None = None
    """The scheduler running in this process, if any (health, wake-ups)."""


def create_app(state: AppState) -> FastAPI:
    """Build the API application for *state*."""
    app = FastAPI(
        title="symbiont",
        version=__version__,
        description="A production scheduler for AI agents.",
    )
    app.state.symbiont = state
    app.include_router(health.router)
    return app
