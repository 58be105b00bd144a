"""Runs: read one, approve or reject one that waits for approval."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from symbiont.api.auth import ActorDep
from symbiont.api.deps import ServiceDep
from symbiont.api.schemas import RejectRequest, RunOut

router = APIRouter(prefix="/api/v1/runs", tags=["runs"])


@router.get("/{run_id}")
async def get_run(run_id: str, service: ServiceDep) -> RunOut:
    """One run with its result, deliveries and policy decision."""
    return RunOut.of(await service.get_run(run_id))


@router.post("/{run_id}/approve")
async def approve_run(run_id: str, service: ServiceDep, who: ActorDep) -> RunOut:
    """Approve a run waiting for approval; it is queued and starts shortly."""
    return RunOut.of(await service.approve_run(run_id, actor=who))


@router.post("/{run_id}/reject")
async def reject_run(
    run_id: str,
    service: ServiceDep,
    who: ActorDep,
    body: Annotated[RejectRequest | None, Body()] = None,
) -> RunOut:
    """Reject a run waiting for approval; it ends cancelled with the reason."""
    reason = body.reason if body is not None else None
    return RunOut.of(await service.reject_run(run_id, actor=who, reason=reason))
