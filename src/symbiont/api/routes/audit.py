"""The audit log: query it, verify its hash chain."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from symbiont.api.deps import ServiceDep
from symbiont.api.schemas import MAX_OFFSET, AuditEventOut, AuditVerifyOut
from symbiont.core.enums import SecurityEventType
from symbiont.store.base import AuditFilter

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("")
async def query_audit(
    service: ServiceDep,
    type_: Annotated[SecurityEventType | None, Query(alias="type")] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    job_id: str | None = None,
    after_id: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> list[AuditEventOut]:
    """Audit events, oldest first, filtered by type, time range and job."""
    query = AuditFilter(
        type=type_, since=since, until=until, job_id=job_id, after_id=after_id, limit=limit
    )
    return [
        AuditEventOut(
            id=e.id,
            ts=e.ts,
            type=e.type.value,
            job_id=e.job_id,
            run_id=e.run_id,
            actor=e.actor,
            details=dict(e.details),
            prev_hash=e.prev_hash,
            hash=e.hash,
        )
        for e in await service.audit(query)
    ]


@router.get("/verify")
async def verify_audit(service: ServiceDep) -> AuditVerifyOut:
    """Recompute the hash chain; name the first edited or missing event."""
    result = await service.verify_audit()
    return AuditVerifyOut(
        ok=result.ok, events=result.events, first_bad_id=result.first_bad_id, problem=result.problem
    )
