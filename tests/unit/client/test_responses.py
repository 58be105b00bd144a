"""The client reads the daemon's answers: result records, typed errors and retries."""

from __future__ import annotations

import builtins
from datetime import UTC, datetime

import httpx
import pytest

import symbiont
import symbiont.client
from symbiont import AsyncSymbiontClient, SymbiontClient
from symbiont.client import (
    AuthError,
    ClientError,
    ConflictError,
    ConnectionError,  # noqa: A004 - the SDK's error under test
    ForbiddenError,
    NotFoundError,
    ServerError,
    ValidationError,
)
from symbiont.core.errors import SymbiontError
from tests.unit.client.fakes import HEALTH, JOB, RUN, FakeDaemon, error


def _client(daemon: FakeDaemon, retries: int = 3) -> SymbiontClient:
    return SymbiontClient(
        "http://daemon:8080", "k", retries=retries, backoff=0, transport=httpx.MockTransport(daemon)
    )


def test_jobs_runs_and_health_have_attribute_access_and_aware_times() -> None:
    """Results are frozen records: aware UTC datetimes, tuples, nested records."""
    daemon = FakeDaemon(JOB)
    with _client(daemon) as client:
        job = client.schedule.get("0b7e")
        daemon.replies = [[RUN]]
        (run,) = client.schedule.get_history("0b7e")
        daemon.replies = [HEALTH]
        health = client.schedule.health()
    assert (job.id, job.cron_expr, job.delivery) == ("0b7e", "0 0 * * * *", ("slack", "log_file"))
    assert job.next_run == datetime(2026, 3, 1, 13, tzinfo=UTC)
    assert job.created_at == job.updated_at
    assert job.webhook_headers == {"X-Token": "***"}
    assert run.error_message == "agent 'metrics-agent' failed: exit 2"
    assert (run.execution_time_ms, run.deliveries[0].channel) == (1000, "slack")
    assert run.finished_at is not None
    assert run.finished_at.tzinfo is not None
    assert (health.status, health.active_jobs, health.in_flight_jobs) == ("healthy", 3, 0)
    assert health.metrics.runs_succeeded == 4
    with pytest.raises(AttributeError):
        job.status = "paused"  # type: ignore[misc]


def test_unknown_members_are_ignored_and_kept_in_raw() -> None:
    """A newer daemon's extra members do not break parsing; missing optional ones default."""
    daemon = FakeDaemon({**JOB, "owner": "ops", "next_run": None})
    with _client(daemon) as client:
        job = client.schedule.get("0b7e")
        daemon.replies = [{"id": "r2", "job_id": "0b7e", "shiny": True}]
        run = client.runs.get("r2")
    assert job.raw["owner"] == "ops"
    assert job.next_run is None
    assert (run.status, run.deliveries, run.raw["shiny"]) == ("queued", (), True)


def test_next_run_parses_every_upcoming_time() -> None:
    """NextRun holds the first time and the whole list as aware datetimes."""
    daemon = FakeDaemon(
        {
            "job_id": "0b7e",
            "next_run": "2026-03-01T13:00:00Z",
            "next_runs": ["2026-03-01T13:00:00Z", "2026-03-01T14:00:00Z"],
            "description": "hourly",
        }
    )
    with _client(daemon) as client:
        upcoming = client.schedule.next_run("0b7e", count=2)
    assert upcoming.next_run == upcoming.next_runs[0]
    assert upcoming.next_runs[1] == datetime(2026, 3, 1, 14, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (401, "UNAUTHORIZED", AuthError),
        (403, "FORBIDDEN", ForbiddenError),
        (404, "NOT_FOUND", NotFoundError),
        (409, "CONFLICT", ConflictError),
        (405, "NOT_ALLOWED", ClientError),
        (500, "INTERNAL", ServerError),
    ],
)
def test_error_statuses_map_to_typed_errors(status: int, code: str, kind: type) -> None:
    """Each error status raises its class, carrying status, code and the daemon's message."""
    daemon = FakeDaemon(error(status, "the daemon says no", code))
    with _client(daemon) as client, pytest.raises(kind) as caught:
        client.schedule.get("x")
    assert type(caught.value) is kind
    assert isinstance(caught.value, SymbiontError)
    assert (caught.value.status, caught.value.code) == (status, code)
    assert caught.value.message == "the daemon says no"
    assert str(caught.value) == (
        f"HTTP {status}: the daemon says no (GET http://daemon:8080/api/v1/schedule/x)"
    )


def test_not_found_is_also_a_lookup_error() -> None:
    """NotFoundError can be caught as LookupError, like the server's JobNotFound."""
    daemon = FakeDaemon(error(404, "no job with id or name 'x'", "NOT_FOUND"))
    with _client(daemon) as client, pytest.raises(LookupError, match="no job with id or name"):
        client.schedule.delete("x")


def test_validation_errors_list_their_problems() -> None:
    """A 422 becomes ValidationError whose problems are (field, problem) pairs."""
    details = [
        {"field": "cron_expr", "problem": "invalid cron expression"},
        {"field": "crn", "problem": "Extra inputs are not permitted"},
    ]
    daemon = FakeDaemon(error(422, "invalid request", "INVALID", details))
    with _client(daemon) as client, pytest.raises(ValidationError) as caught:
        client.schedule.create(name="x", agent_id="a", cron_expr="nope")
    assert caught.value.problems == (
        ("cron_expr", "invalid cron expression"),
        ("crn", "Extra inputs are not permitted"),
    )
    assert isinstance(caught.value, ValueError)


def test_non_json_bodies_are_reported_not_crashed_on() -> None:
    """An HTML error page or a non-symbiont 200 still raises a ClientError with the text."""
    daemon = FakeDaemon(httpx.Response(502, text="<h1>Bad Gateway</h1>"))
    with _client(daemon, retries=0) as client:
        with pytest.raises(ServerError, match="Bad Gateway") as caught:
            client.schedule.get("x")
        assert caught.value.retryable
        daemon.replies = [httpx.Response(200, text="hello")]
        with pytest.raises(ClientError, match="unexpected response body") as bad:
            client.schedule.get("x")
        assert bad.value.code == "BAD_RESPONSE"
        daemon.replies = [{"no": "id"}]
        with pytest.raises(ClientError, match="unexpected response body"):
            client.schedule.get("x")


def test_idempotent_calls_are_retried_on_gateway_errors_and_broken_connections() -> None:
    """GET/PUT/DELETE retry 502/503/504 and read errors, then return the answer."""
    daemon = FakeDaemon(
        error(503, "store unavailable", "UNAVAILABLE"),
        httpx.ReadError("connection reset"),
        httpx.Response(504),
        JOB,
    )
    with _client(daemon) as client:
        assert client.schedule.update("0b7e", cron_expr="@hourly").id == "0b7e"
    assert [r.method for r in daemon.requests] == ["PUT"] * 4


def test_retries_give_up_with_the_last_error() -> None:
    """After `retries` extra attempts the last answer is raised."""
    daemon = FakeDaemon(error(503, "store unavailable", "UNAVAILABLE"))
    with _client(daemon, retries=2) as client, pytest.raises(ServerError, match="unavailable"):
        client.schedule.list()
    assert len(daemon.requests) == 3


def test_posts_are_not_repeated_once_they_may_have_arrived() -> None:
    """A create or run_now that got a 503 or lost its answer is not sent again."""
    daemon = FakeDaemon(error(503, "store unavailable", "UNAVAILABLE"))
    with _client(daemon) as client:
        with pytest.raises(ServerError):
            client.schedule.create(name="x", agent_id="a", cron_expr="@daily")
        assert len(daemon.requests) == 1
        daemon.replies = [httpx.ReadTimeout("no answer")]
        with pytest.raises(ConnectionError, match="1 attempt") as caught:
            client.schedule.run_now("x")
    assert len(daemon.requests) == 2
    assert caught.value.code == "TIMEOUT"


def test_posts_are_retried_when_the_connection_was_never_made() -> None:
    """A refused connection means nothing was sent, so even a create is retried."""
    daemon = FakeDaemon(httpx.ConnectError("refused"), httpx.ConnectError("refused"), JOB)
    with _client(daemon) as client:
        assert client.schedule.create(name="x", agent_id="a", cron_expr="@daily").id == "0b7e"
    assert len(daemon.requests) == 3


def test_an_unreachable_daemon_raises_connection_error_after_every_retry() -> None:
    """ConnectionError names the daemon, the attempts and the fix; it is a builtin one too."""
    daemon = FakeDaemon(httpx.ConnectError("[Errno 111] Connection refused"))
    with _client(daemon, retries=3) as client, pytest.raises(ConnectionError) as caught:
        client.schedule.health()
    assert len(daemon.requests) == 4
    assert caught.value.attempts == 4
    assert (caught.value.status, caught.value.code) == (None, "CONNECTION_FAILED")
    assert str(caught.value).startswith(
        "cannot reach the symbiont daemon at http://daemon:8080 (4 attempts):"
        " [Errno 111] Connection refused; is `symbi up` running there?"
    )
    assert isinstance(caught.value, builtins.ConnectionError)


@pytest.mark.anyio
async def test_the_async_client_is_a_twin() -> None:
    """AsyncSymbiontClient sends the same requests, retries and raises the same errors."""
    daemon = FakeDaemon(httpx.ConnectError("refused"), httpx.Response(201, json=JOB))
    async with AsyncSymbiontClient(
        "http://daemon:8080", "k", backoff=0, transport=httpx.MockTransport(daemon)
    ) as client:
        job = await client.schedule.create(name="x", agent_id="a", cron_expr="@daily")
        assert (job.id, len(daemon.requests)) == ("0b7e", 2)
        daemon.replies = [error(404, "no job", "NOT_FOUND")]
        with pytest.raises(NotFoundError):
            await client.schedule.get("x")
        daemon.replies = [[RUN]]
        assert [r.id for r in await client.approvals.list()] == ["r1"]
        assert repr(client) == "AsyncSymbiontClient(base_url='http://daemon:8080')"


def test_public_names_are_exported() -> None:
    """symbiont.client's tuple __all__ is sorted and complete; the root re-exports the clients."""
    exported = symbiont.client.__all__
    assert isinstance(exported, tuple)
    assert list(exported) == sorted(exported)
    public = {
        name
        for name, value in vars(symbiont.client).items()
        if not name.startswith("_") and not isinstance(value, type(symbiont))
    }
    assert public - {"annotations"} == set(exported)
    assert symbiont.SymbiontClient is SymbiontClient
    assert {"SymbiontClient", "AsyncSymbiontClient"} <= set(symbiont.__all__)
