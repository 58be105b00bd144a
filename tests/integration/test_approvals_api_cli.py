"""Approvals over the HTTP API (named keys as actors) and the CLI, on a real SQLite store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from symbiont.api import AppState, create_app
from symbiont.core.clock import SystemClock
from symbiont.core.enums import RunStatus
from symbiont.service import JobService
from symbiont.store import SQLiteJobStore

pytestmark = pytest.mark.anyio
KEYS = {"alice": "alice-key-123", "bob": "bob-key-456"}


async def _pending(service: JobService, name: str = "deploy") -> str:
    await service.create_job(
        {
            "name": name,
            "agent_id": "a",
            "cron_expr": "@yearly",
            "policy": {"require_approval": True, "approvers": ["alice"]},
        },
        actor="t",
    )
    run = await service.trigger_run(name, actor="t")
    await service.store.set_run_status(
        run.id,
        RunStatus.pending_approval,
        expect=(RunStatus.queued,),
        now=datetime.now(UTC),
        details={"policy": {"approvers": ["alice"], "reason": "needs approval"}},
    )
    return run.id


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, JobService]]:
    """An API client over a fresh store, with two named keys."""
    async with SQLiteJobStore(tmp_path / "a.db") as store:
        service = JobService(store, SystemClock())
        app = create_app(AppState(service=service, api_keys=KEYS))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http, service


def _as(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[name]}"}


async def test_api_requires_a_key(client: tuple[httpx.AsyncClient, JobService]) -> None:
    """Without a key, or with a wrong one, the API answers 401 with a JSON error."""
    http, _ = client
    missing = await http.get("/api/v1/approvals")
    assert missing.status_code == 401
    assert missing.json()["code"] == "UNAUTHORIZED"
    assert missing.headers["www-authenticate"] == "Bearer"
    wrong = await http.get("/api/v1/approvals", headers={"Authorization": "Bearer nope"})
    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid API key")


async def test_only_named_approver_may_approve(
    client: tuple[httpx.AsyncClient, JobService],
) -> None:
    """The approvals list shows the run; bob gets 403, alice's approval queues it."""
    http, service = client
    run_id = await _pending(service)
    listed = await http.get("/api/v1/approvals", headers=_as("bob"))
    assert [r["id"] for r in listed.json()] == [run_id]
    assert listed.json()[0]["status"] == "pending_approval"
    refused = await http.post(f"/api/v1/runs/{run_id}/approve", headers=_as("bob"))
    assert refused.status_code == 403
    assert refused.json()["error"] == "'bob' may not approve runs of job 'deploy'; allowed: 'alice'"
    approved = await http.post(f"/api/v1/runs/{run_id}/approve", headers=_as("alice"))
    assert approved.status_code == 200
    assert (approved.json()["status"], approved.json()["details"]["approved_by"]) == (
        "queued",
        "alice",
    )
    again = await http.post(f"/api/v1/runs/{run_id}/approve", headers=_as("alice"))
    assert again.status_code == 409


async def test_reject_and_not_found(client: tuple[httpx.AsyncClient, JobService]) -> None:
    """A rejection cancels with the reason; an unknown run is a 404 with a JSON body."""
    http, service = client
    run_id = await _pending(service)
    rejected = await http.post(
        f"/api/v1/runs/{run_id}/reject", headers=_as("alice"), json={"reason": "freeze week"}
    )
    assert rejected.json()["status"] == "cancelled"
    assert rejected.json()["error_message"] == "rejected by alice: freeze week"
    missing = await http.get("/api/v1/runs/nope", headers=_as("alice"))
    assert (missing.status_code, missing.json()["code"]) == (404, "NOT_FOUND")
