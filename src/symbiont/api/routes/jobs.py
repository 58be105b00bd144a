"""Schedule management: the spec's ``/api/v1/schedule`` routes (jobs by id or name)."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Body, HTTPException, Query, Response, status

from symbiont.api.auth import ActorDep
from symbiont.api.deps import ServiceDep
from symbiont.api.present import describe, job_out
from symbiont.api.schemas import (
    MAX_OFFSET,
    ErrorOut,
    JobFields,
    JobOut,
    NextRunOut,
    RunOut,
    RunRequest,
)
from symbiont.core.enums import JobStatus, RunStatus
from symbiont.store.base import JobFilter, RunFilter

router = APIRouter(prefix="/api/v1/schedule", tags=["schedule"])
_OPEN = {RunStatus.queued, RunStatus.running, RunStatus.pending_approval}


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_job(body: JobFields, service: ServiceDep, who: ActorDep) -> JobOut:
    """Create a scheduled job (cron_expr or at)."""
    return job_out(await service.create_job(body.given(), actor=who, source="api"))


@router.get("")
async def list_jobs(
    service: ServiceDep,
    status_: Annotated[JobStatus | None, Query(alias="status")] = None,
    agent_id: str | None = None,
    name_prefix: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[JobOut]:
    """List jobs, by name, filtered by status, agent and name prefix."""
    query = JobFilter(
        status=status_, agent_id=agent_id, name_prefix=name_prefix, limit=limit, offset=offset
    )
    return [job_out(job) for job in await service.list_jobs(query)]


@router.get("/{job_id}")
async def get_job(job_id: str, service: ServiceDep) -> JobOut:
    """One job (by id or name) with its next run."""
    return job_out(await service.get_job(job_id))


@router.put("/{job_id}")
async def update_job(job_id: str, body: JobFields, service: ServiceDep, who: ActorDep) -> JobOut:
    """Change some fields of a job; the schedule is recomputed when it changes."""
    return job_out(await service.update_job(job_id, body.given(), actor=who))


@router.delete("/{job_id}")
async def delete_job(job_id: str, service: ServiceDep, who: ActorDep) -> JobOut:
    """Delete a job with its runs; returns what was deleted."""
    return job_out(await service.delete_job(job_id, actor=who))


@router.post("/{job_id}/pause")
async def pause_job(job_id: str, service: ServiceDep, who: ActorDep) -> JobOut:
    """Stop scheduling a job, keeping its state."""
    return job_out(await service.pause_job(job_id, actor=who))


@router.post("/{job_id}/resume")
async def resume_job(job_id: str, service: ServiceDep, who: ActorDep) -> JobOut:
    """Schedule a paused job again."""
    return job_out(await service.resume_job(job_id, actor=who))


@router.post("/{job_id}/reset")
async def reset_job(job_id: str, service: ServiceDep, who: ActorDep) -> JobOut:
    """Bring a dead-lettered job back to active."""
    return job_out(await service.reset_job(job_id, actor=who))


@router.post(
    "/{job_id}/run",
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        200: {"model": RunOut, "description": "With wait=true: the finished run"},
        504: {"model": ErrorOut, "description": "With wait=true: not finished in wait_timeout"},
    },
)
async def run_job(
    job_id: str,
    service: ServiceDep,
    who: ActorDep,
    response: Response,
    body: Annotated[RunRequest | None, Body()] = None,
    wait: bool = False,
    wait_timeout: Annotated[float, Query(gt=0, le=3600)] = 60,
) -> RunOut:
    """Queue a run now (bypassing the schedule); with wait=true, answer when it finished."""
    run = await service.trigger_run(job_id, actor=who, input=body.input if body else None)
    if not wait:
        return RunOut.of(run)
    with anyio.move_on_after(wait_timeout):
        while run.status in _OPEN:
            await anyio.sleep(0.05)
            run = await service.get_run(run.id)
    if run.status in _OPEN:
        raise HTTPException(
            504, f"run {run.id} did not finish within {wait_timeout:g} s; it goes on"
        )
    response.status_code = status.HTTP_200_OK
    return RunOut.of(run)


@router.get("/{job_id}/history")
async def history(
    job_id: str,
    service: ServiceDep,
    status_: Annotated[RunStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[RunOut]:
    """A job's runs, newest occurrence first."""
    runs = await service.history(job_id, RunFilter(status=status_, limit=limit, offset=offset))
    return [RunOut.of(run) for run in runs]


@router.get("/{job_id}/next_run")
async def next_run(
    job_id: str, service: ServiceDep, count: Annotated[int, Query(ge=1, le=100)] = 1
) -> NextRunOut:
    """The job's next fire time(s), or none when paused, finished or dead-lettered."""
    job = await service.get_job(job_id)
    times = await service.next_runs(job.id, count)
    return NextRunOut(
        job_id=job.id,
        next_run=times[0] if times else None,
        next_runs=times,
        description=describe(job),
    )
