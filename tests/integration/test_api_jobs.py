"""The spec's /api/v1/schedule routes against a real SQLite store (ASGI transport)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from symbiont.api import AppState, create_app
from symbiont.core.clock import SystemClock
from symbiont.service import JobService
from symbiont.store import SQLiteJobStore

pytestmark = pytest.mark.anyio
KEY = {"Authorization": "Bearer k"}


@pytest.fixture
async def http(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """An API client over a fresh store, with one key."""
    async with SQLiteJobStore(tmp_path / "a.db") as store:
        app = create_app(AppState(service=JobService(store, SystemClock()), api_keys={"ops": "k"}))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test", headers=KEY
        ) as client:
            yield client


async def test_spec_lifecycle(http: httpx.AsyncClient) -> None:
    """Create, list, get, update, pause, resume, run, history, next_run and delete a job."""
    created = await http.post(
        "/api/v1/schedule",
        json={
            "name": "hourly-report",
            "agent_id": "reporter",
            "cron_expr": "0 0 * * * *",
            "session_mode": "ephemeral_with_summary",
            "delivery": ["stdout"],
        },
    )
    assert created.status_code == 201, created.text
    job = created.json()
    assert job["schedule_description"].startswith("At ")
    listed = await http.get("/api/v1/schedule", params={"status": "active", "agent_id": "reporter"})
    assert [j["id"] for j in listed.json()] == [job["id"]]
    by_name = await http.get("/api/v1/schedule/hourly-report")
    assert by_name.json()["id"] == job["id"]
    updated = await http.put(f"/api/v1/schedule/{job['id']}", json={"cron_expr": "0 0 */2 * * *"})
    assert updated.json()["cron_expr"] == "0 0 */2 * * *"
    paused = await http.post(f"/api/v1/schedule/{job['id']}/pause")
    assert paused.json()["status"] == "paused"
    resumed = await http.post(f"/api/v1/schedule/{job['id']}/resume")
    assert resumed.json()["status"] == "active"
    run = await http.post(
        f"/api/v1/schedule/{job['id']}/run", json={"input": "Run with custom input"}
    )
    assert (run.status_code, run.json()["input"], run.json()["status"]) == (
        202,
        "Run with custom input",
        "queued",
    )
    history = await http.get(f"/api/v1/schedule/{job['id']}/history", params={"limit": 20})
    assert [r["id"] for r in history.json()] == [run.json()["id"]]
    upcoming = await http.get(f"/api/v1/schedule/{job['id']}/next_run", params={"count": 3})
    assert len(upcoming.json()["next_runs"]) == 3
    deleted = await http.delete(f"/api/v1/schedule/{job['id']}")
    assert deleted.status_code == 200
    assert (await http.get(f"/api/v1/schedule/{job['id']}")).status_code == 404


async def test_bad_input_is_a_4xx_with_a_json_body(http: httpx.AsyncClient) -> None:
    """Unknown fields, bad cron, duplicates and wrong types get 4xx bodies, never a 500."""
    unknown = await http.post(
        "/api/v1/schedule", json={"name": "x", "agent_id": "a", "cron_expr": "@daily", "crn": 1}
    )
    assert (unknown.status_code, unknown.json()["code"]) == (422, "INVALID")
    assert "crn" in unknown.json()["error"]
    bad_cron = await http.post(
        "/api/v1/schedule", json={"name": "x", "agent_id": "a", "cron_expr": "0 61 * * * *"}
    )
    assert bad_cron.status_code == 422
    assert "minute field: value out of range" in bad_cron.json()["error"]
    ok = {"name": "dup", "agent_id": "a", "cron_expr": "@daily"}
    assert (await http.post("/api/v1/schedule", json=ok)).status_code == 201
    dup = await http.post("/api/v1/schedule", json=ok)
    assert (dup.status_code, dup.json()["code"]) == (409, "CONFLICT")
    wrong_type = await http.post("/api/v1/schedule", json={**ok, "max_retries": "three"})
    assert wrong_type.status_code == 422
    not_json = await http.post(
        "/api/v1/schedule", content=b"{", headers={"Content-Type": "application/json"}
    )
    assert not_json.status_code == 422


async def test_secrets_are_redacted(http: httpx.AsyncClient) -> None:
    """Header values and literal secrets never come back; templates show only their name."""
    created = await http.post(
        "/api/v1/schedule",
        json={
            "name": "hook",
            "agent_id": "a",
            "cron_expr": "@daily",
            "delivery": ["webhook"],
            "webhook_url": "https://metrics.example.com/ingest",
            "webhook_headers": {"Authorization": "Bearer literal-token-value"},
            "webhook_secret": "literal-signing-secret",
            "agent_pin_jwt": "${AGENT_PIN_JWT}",
        },
    )
    body = created.text
    assert "literal-token-value" not in body
    assert "literal-signing-secret" not in body
    job = created.json()
    assert job["webhook_headers"] == {"Authorization": "***"}
    assert (job["webhook_secret"], job["agent_pin_jwt"]) == ("***", "${AGENT_PIN_JWT}")


async def test_audit_routes(http: httpx.AsyncClient) -> None:
    """Changes appear in the audit log with the key's name as actor, and the chain verifies."""
    await http.post("/api/v1/schedule", json={"name": "a", "agent_id": "a", "cron_expr": "@daily"})
    await http.post("/api/v1/schedule/a/pause")
    events = await http.get("/api/v1/audit", params={"type": "CronJobPaused"})
    assert [(e["type"], e["actor"]) for e in events.json()] == [("CronJobPaused", "ops")]
    verified = await http.get("/api/v1/audit/verify")
    assert verified.json() == {"ok": True, "events": 2, "first_bad_id": None, "problem": None}
