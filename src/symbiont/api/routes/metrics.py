"""``GET /metrics``: Prometheus text exposition."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response

from symbiont.api.app_state import state_of

router = APIRouter(tags=["observability"])


@router.get("/metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    """The daemon's metrics (runs, durations, in-flight, dead-letter, lateness, deliveries)."""
    collected = state_of(request).metrics
    if collected is None:
        raise HTTPException(404, "metrics are disabled ([scheduler] enable_metrics = false)")
    return Response(collected.render(), media_type="text/plain; version=0.0.4; charset=utf-8")
