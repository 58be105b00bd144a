"""Approvals: the runs waiting for a person to approve or reject them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from symbiont.api.deps import ServiceDep
from symbiont.api.schemas import RunOut
from symbiont.core.enums import RunStatus
from symbiont.store.base import RunFilter

router = APIRouter(prefix="/api/v1/approvals", tags=["approvals"])


@router.get("")
async def list_approvals(
    service: ServiceDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[RunOut]:
    """Runs in ``pending_approval``, newest first, with who may approve them."""
    runs = await service.list_runs(RunFilter(status=RunStatus.pending_approval, limit=limit))
    return [RunOut.of(run) for run in runs]
