"""The client builds the daemon's requests: methods, paths, query strings, bodies, headers."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from symbiont import SymbiontClient
from tests.unit.client.fakes import HEALTH, JOB, RUN, FakeDaemon


def _client(daemon: FakeDaemon, timeout: float = 30) -> SymbiontClient:
    return SymbiontClient(
        "http://daemon:8080", "k", timeout=timeout, transport=httpx.MockTransport(daemon)
    )


def test_create_posts_the_spec_fields_with_the_bearer_key() -> None:
    """create() POSTs the given fields as JSON to /api/v1/schedule with the API key."""
    daemon = FakeDaemon(httpx.Response(201, json=JOB))
    with _client(daemon) as client:
        client.schedule.create(
            name="hourly-metrics",
            agent_id="metrics-agent",
            cron_expr="0 0 * * * *",
            delivery=["slack", "log_file"],
            at=datetime(2030, 1, 1, tzinfo=UTC),
        )
    request = daemon.last
    assert (request.method, request.url.path) == ("POST", "/api/v1/schedule")
    assert request.headers["authorization"] == "Bearer k"
    assert daemon.body() == {
        "name": "hourly-metrics",
        "agent_id": "metrics-agent",
        "cron_expr": "0 0 * * * *",
        "delivery": ["slack", "log_file"],
        "at": "2030-01-01T00:00:00+00:00",
    }


def test_every_schedule_method_hits_its_route() -> None:
    """Each schedule method sends the verb, path and query string of its route."""
    daemon = FakeDaemon(JOB)
    with _client(daemon) as client:
        calls = [
            (lambda: client.schedule.get("0b7e"), "GET", "/api/v1/schedule/0b7e", ""),
            (lambda: client.schedule.get_status("0b7e"), "GET", "/api/v1/schedule/0b7e", ""),
            (
                lambda: client.schedule.update("0b7e", cron_expr="0 */30 * * * *"),
                "PUT",
                "/api/v1/schedule/0b7e",
                "",
            ),
            (lambda: client.schedule.delete("0b7e"), "DELETE", "/api/v1/schedule/0b7e", ""),
            (lambda: client.schedule.pause("0b7e"), "POST", "/api/v1/schedule/0b7e/pause", ""),
            (lambda: client.schedule.resume("0b7e"), "POST", "/api/v1/schedule/0b7e/resume", ""),
            (lambda: client.schedule.reset("0b7e"), "POST", "/api/v1/schedule/0b7e/reset", ""),
        ]
        for call, method, path, query in calls:
            call()
            assert (daemon.last.method, daemon.last.url.path, daemon.last.url.query) == (
                method,
                path,
                query.encode(),
            )
    assert daemon.body(2) == {"cron_expr": "0 */30 * * * *"}


def test_list_and_history_send_only_the_filters_given() -> None:
    """Unset filters are left out of the query string; set ones use the API's names."""
    daemon = FakeDaemon([JOB])
    with _client(daemon) as client:
        client.schedule.list()
        assert daemon.last.url.query == b""
        client.schedule.list(status="active", agent_id="metrics-agent", limit=5)
        assert dict(daemon.last.url.params) == {
            "status": "active",
            "agent_id": "metrics-agent",
            "limit": "5",
        }
        daemon.replies = [[RUN]]
        client.schedule.get_history("0b7e", status="failed", limit=5)
        assert daemon.last.url.path == "/api/v1/schedule/0b7e/history"
        assert dict(daemon.last.url.params) == {"status": "failed", "limit": "5"}


def test_run_now_sends_the_input_and_waits_when_asked() -> None:
    """run_now() POSTs {"input"}; wait=True adds ?wait=true and a longer timeout."""
    daemon = FakeDaemon(httpx.Response(202, json=RUN))
    with _client(daemon, timeout=5) as client:
        client.schedule.run_now("0b7e", input="Generate metrics report")
        assert daemon.body() == {"input": "Generate metrics report"}
        assert daemon.last.url.query == b""
        client.schedule.run_now("0b7e", wait=True, wait_timeout=30)
    assert dict(daemon.last.url.params) == {"wait": "true", "wait_timeout": "30"}
    assert daemon.last.extensions["timeout"]["read"] == 40
    assert daemon.body() == {"input": None}


def test_ids_and_names_are_quoted_into_one_path_segment() -> None:
    """A job name with spaces or slashes stays one path segment."""
    daemon = FakeDaemon(JOB)
    with _client(daemon) as client:
        client.schedule.get("nightly backup/db")
    assert daemon.last.url.raw_path == b"/api/v1/schedule/nightly%20backup%2Fdb"


def test_other_namespaces_hit_their_routes() -> None:
    """runs, approvals, audit, next_run and health use the routes of DESIGN §7."""
    daemon = FakeDaemon(RUN)
    since = datetime(2026, 3, 1, tzinfo=UTC)
    with _client(daemon) as client:
        client.runs.get("r1")
        assert (daemon.last.method, daemon.last.url.path) == ("GET", "/api/v1/runs/r1")
        client.runs.approve("r1")
        assert (daemon.last.method, daemon.last.url.path) == ("POST", "/api/v1/runs/r1/approve")
        client.runs.reject("r1", reason="not today")
        assert daemon.last.url.path == "/api/v1/runs/r1/reject"
        assert daemon.body() == {"reason": "not today"}
        daemon.replies = [[RUN]]
        client.approvals.list(limit=3)
        assert (daemon.last.url.path, daemon.last.url.query) == ("/api/v1/approvals", b"limit=3")
        daemon.replies = [[]]
        client.audit.query(type="CronJobCreated", since=since, job_id="0b7e", limit=2)
        assert daemon.last.url.path == "/api/v1/audit"
        assert dict(daemon.last.url.params) == {
            "type": "CronJobCreated",
            "since": "2026-03-01T00:00:00+00:00",
            "job_id": "0b7e",
            "limit": "2",
        }
        daemon.replies = [{"ok": True, "events": 4, "first_bad_id": None, "problem": None}]
        assert client.audit.verify().ok
        assert daemon.last.url.path == "/api/v1/audit/verify"
        daemon.replies = [
            {"job_id": "0b7e", "next_run": None, "next_runs": [], "description": None}
        ]
        client.schedule.next_run("0b7e", count=3)
        assert (daemon.last.url.path, daemon.last.url.query) == (
            "/api/v1/schedule/0b7e/next_run",
            b"count=3",
        )
        daemon.replies = [HEALTH]
        client.schedule.health()
        assert daemon.last.url.path == "/api/v1/health/scheduler"


def test_bad_arguments_fail_before_sending() -> None:
    """An empty id or a naive datetime is refused locally, with the fix in the message."""
    daemon = FakeDaemon(JOB)
    with _client(daemon) as client:
        with pytest.raises(ValueError, match="expected a job or run id"):
            client.schedule.get("")
        with pytest.raises(ValueError, match="since must be a timezone-aware datetime"):
            client.audit.query(since=datetime(2026, 3, 1))
    assert daemon.requests == []


def test_url_and_key_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without arguments, SYMBI_URL and SYMBI_API_KEY are used; without those, no key is sent."""
    daemon = FakeDaemon(HEALTH)
    monkeypatch.setenv("SYMBI_URL", "http://elsewhere:9000/prefix/")
    monkeypatch.setenv("SYMBI_API_KEY", "from-env")
    with SymbiontClient(transport=httpx.MockTransport(daemon)) as client:
        assert client.base_url == "http://elsewhere:9000/prefix"
        client.schedule.health()
    assert str(daemon.last.url) == "http://elsewhere:9000/prefix/api/v1/health/scheduler"
    assert daemon.last.headers["authorization"] == "Bearer from-env"
    monkeypatch.delenv("SYMBI_URL")
    monkeypatch.delenv("SYMBI_API_KEY")
    with SymbiontClient(transport=httpx.MockTransport(daemon)) as client:
        client.schedule.health()
        assert repr(client) == "SymbiontClient(base_url='http://127.0.0.1:8080')"
    assert "authorization" not in daemon.last.headers


def test_a_url_without_a_scheme_is_refused() -> None:
    """A base URL like 'localhost:8080' fails at construction with an example of a good one."""
    with pytest.raises(ValueError, match=r"must start with http:// or https://.*'localhost:8080'"):
        SymbiontClient("localhost:8080")
