"""API security: every route needs the key (driven by the OpenAPI document), bodies are capped."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from symbiont.api import AppState, create_app
from symbiont.core.clock import SystemClock
from symbiont.service import JobService
from symbiont.store import SQLiteJobStore

pytestmark = pytest.mark.anyio
PUBLIC = {("get", "/api/v1/health")}
"""Liveness only: probes need no key, and it reveals nothing but "ok" and the version."""


@pytest.fixture
async def http(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A client (without a key) of an API that has one."""
    async with SQLiteJobStore(tmp_path / "s.db") as store:
        app = create_app(
            AppState(
                service=JobService(store, SystemClock()),
                api_keys={"ops": "right-key"},
                max_body_bytes=10_000,
            )
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


async def test_every_route_needs_the_key(http: httpx.AsyncClient) -> None:
    """Each operation of the OpenAPI document answers 401 without a key or with a wrong one."""
    spec = (await http.get("/openapi.json")).json()
    checked = 0
    for path, operations in spec["paths"].items():
        concrete = re.sub(r"\{[^}]+\}", "x", path)
        for method in operations:
            if (method, path) in PUBLIC:
                continue
            for headers in ({}, {"Authorization": "Bearer wrong-key"}):
                response = await http.request(method, concrete, headers=headers)
                assert response.status_code == 401, (method, path, headers)
                assert response.json()["code"] == "UNAUTHORIZED"
            checked += 1
    assert checked >= 15
    assert (await http.get("/api/v1/health")).status_code == 200


async def test_bodies_over_the_limit_are_refused(http: httpx.AsyncClient) -> None:
    """A body over the limit gets 413 with a JSON error, key or not."""
    big = {"name": "x", "agent_id": "a", "cron_expr": "@daily", "input": "y" * 20_000}
    response = await http.post(
        "/api/v1/schedule", json=big, headers={"Authorization": "Bearer right-key"}
    )
    assert response.status_code == 413
    assert response.json()["code"] == "TOO_LARGE"


async def test_openapi_declares_every_response(http: httpx.AsyncClient) -> None:
    """Each protected operation declares its success model and the JSON error model."""
    spec = (await http.get("/openapi.json")).json()
    assert "ErrorOut" in spec["components"]["schemas"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if (method, path) in PUBLIC:
                continue
            codes = set(operation["responses"])
            assert {"401", "422"} <= codes, (method, path, codes)
            success = [c for c in codes if c.startswith("2")]
            assert success, (method, path)
