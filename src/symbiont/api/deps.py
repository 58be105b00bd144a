"""Dependency aliases for routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from symbiont.api.app_state import state_of
from symbiont.scheduler.daemon import CronScheduler
from symbiont.service import JobService


async def _service(request: Request) -> JobService:
    return state_of(request).service


async def _scheduler(request: Request) -> CronScheduler | None:
    return state_of(request).scheduler


ServiceDep = Annotated[JobService, Depends(_service)]
SchedulerDep = Annotated[CronScheduler | None, Depends(_scheduler)]
