"""Dashboard sessions and access without a browser: signed tokens, no-key mode, redirects."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from symbiont.api import AppState, create_app
from symbiont.api.routes.dashboard import SESSION_TTL_S, issue_session, session_name
from symbiont.core.clock import SystemClock
from symbiont.service import JobService
from symbiont.store import SQLiteJobStore

SECRET = b"s" * 32


def test_a_session_token_names_its_key_and_resists_tampering() -> None:
    """A token round-trips its key name; a forged, other-secret or expired token does not."""
    token = issue_session(SECRET, "ops", 1000)
    assert session_name(SECRET, token, 1001) == "ops"
    assert session_name(b"x" * 32, token, 1001) is None
    assert session_name(SECRET, token, 1000 + SESSION_TTL_S) is None
    forged = issue_session(SECRET, "admin", 1000).split(".")[0] + token[token.index(".") :]
    assert session_name(SECRET, forged, 1001) is None
    assert session_name(SECRET, "garbage", 1001) is None


async def _client(store: SQLiteJobStore, keys: dict[str, str]) -> httpx.AsyncClient:
    app = create_app(AppState(service=JobService(store, SystemClock()), api_keys=keys))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteJobStore]:
    """An empty SQLite store."""
    async with SQLiteJobStore(tmp_path / "s.db") as opened:
        yield opened


@pytest.mark.anyio
async def test_without_keys_the_dashboard_needs_no_login(store: SQLiteJobStore) -> None:
    """With no API keys (loopback only) every page opens directly and /login goes home."""
    async with await _client(store, {}) as http:
        for path in ("/", "/approvals", "/dead-letter", "/audit", "/fragments/health"):
            assert (await http.get(path)).status_code == 200, path
        assert (await http.get("/login")).headers["location"] == "/"
        assert (await http.post("/jobs/x/pause", data={"csrf": "wrong"})).status_code == 401


@pytest.mark.anyio
async def test_login_never_redirects_off_site(store: SQLiteJobStore) -> None:
    """A ``next`` pointing at another site is replaced by the dashboard's home."""
    async with await _client(store, {"ops": "k"}) as http:
        response = await http.post("/login", data={"key": "k", "next": "//evil.example/"})
        assert response.headers["location"] == "/"
        assert "k" not in response.cookies["symbi_session"].split(".")[0:1]
        page = await http.get("/jobs/nope", headers={"Authorization": "Bearer k"})
        assert page.status_code == 404
        assert "no job with id" in page.text


@pytest.mark.anyio
async def test_with_keys_every_page_needs_a_session(store: SQLiteJobStore) -> None:
    """Without a session, pages redirect to the login form and posts and fragments get 401."""
    async with await _client(store, {"ops": "k"}) as http:
        for path in ("/", "/jobs/x", "/runs/x", "/approvals", "/dead-letter", "/audit"):
            response = await http.get(path)
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/login?next=")
        assert (await http.get("/fragments/health")).status_code == 401
        for path in ("/jobs/x/pause", "/runs/x/approve", "/logout"):
            assert (await http.post(path, data={"csrf": "x"})).status_code == 401, path
        wrong = await http.get("/", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 303
