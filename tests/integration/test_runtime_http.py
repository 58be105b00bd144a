"""`HttpRuntime` against a real HTTP server on 127.0.0.1: JSON and text replies, errors."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest

from symbiont.core.enums import RunStatus
from symbiont.core.errors import AgentRunError
from symbiont.core.models import Heartbeat
from symbiont.runtime import AgentContext, HttpRuntime, RuntimeSettings, execute_run
from symbiont.store.base import SessionState
from symbiont.testing import FakeClock
from tests.unit.runtime.fakes import (
    NOW,
    Recorded,
    agent_spec,
    json_answer,
    make_job,
    make_run,
    serve,
)

pytestmark = pytest.mark.anyio
CONTEXT = AgentContext(
    job_id="job-1",
    job_name="disk-check",
    run_id="run-3",
    attempt=1,
    iteration=2,
    trigger="schedule",
    scheduled_for=NOW,
    input="check /var",
    previous_summary="yesterday: fine",
    messages=({"role": "user", "content": "hi"},),
)


def url_agent(url: str, *, max_output_bytes: int = 1024 * 1024) -> HttpRuntime:
    """A URL agent posting to *url*."""
    return HttpRuntime(agent_spec(url=url), RuntimeSettings(max_output_bytes=max_output_bytes))


async def test_posts_the_context_and_reads_a_json_reply() -> None:
    """The context is POSTed as JSON; a JSON reply gives output, summary and sleep."""
    answer = json_answer(200, {"output": "3 disks ok", "summary": "ok", "sleep": True})
    with serve(lambda _: answer) as server:
        reply = await url_agent(f"{server.url}/agent").invoke(CONTEXT)
    assert (reply.output, reply.summary, reply.sleep) == ("3 disks ok", "ok", True)
    request = server.requests[0]
    assert request.path == "/agent"
    assert request.headers["content-type"] == "application/json"
    assert request.json() == {
        "job_id": "job-1",
        "job_name": "disk-check",
        "run_id": "run-3",
        "attempt": 1,
        "iteration": 2,
        "trigger": "schedule",
        "scheduled_for": "2026-03-02T08:30:00Z",
        "input": "check /var",
        "previous_summary": "yesterday: fine",
        "messages": [{"role": "user", "content": "hi"}],
        "session_mode": "ephemeral_with_summary",
        "capabilities": [],
    }


async def test_text_reply_is_the_output() -> None:
    """A non-JSON reply's body is the output, and a last ``sleep`` line ends a heartbeat."""
    answer = (200, {"content-type": "text/plain; charset=utf-8"}, "all good ✓\nsleep\n".encode())
    with serve(lambda _: answer) as server:
        reply = await url_agent(server.url).invoke(CONTEXT)
    assert (reply.output, reply.summary, reply.sleep) == ("all good ✓\n", None, True)


async def test_text_reply_is_capped() -> None:
    """A text reply longer than the cap is cut and flagged."""
    answer = (200, {"content-type": "text/plain"}, b"x" * 50_000)
    with serve(lambda _: answer) as server:
        reply = await url_agent(server.url, max_output_bytes=100).invoke(CONTEXT)
    assert (len(reply.output), reply.output_truncated) == (100, True)


async def test_server_error_is_retryable_and_quotes_the_body() -> None:
    """A 500 fails the invocation, retryably, with the status and the start of the body."""
    answer = (500, {"content-type": "text/html"}, b"<h1>Internal Server Error</h1>" + b"x" * 900)
    with serve(lambda _: answer) as server, pytest.raises(AgentRunError) as caught:
        await url_agent(f"{server.url}/run").invoke(CONTEXT)
    assert caught.value.retryable is True
    assert caught.value.reason.startswith(
        f"HTTP 500 from {server.url}/run: <h1>Internal Server Error</h1>xxx"
    )
    assert caught.value.reason.endswith("...")
    assert len(caught.value.reason) < 400


async def test_client_error_is_not_retryable() -> None:
    """A 404 is not retryable; a JSON error body gives its message."""
    answer = json_answer(404, {"error": {"message": "no such agent"}})
    with serve(lambda _: answer) as server, pytest.raises(AgentRunError) as caught:
        await url_agent(server.url).invoke(CONTEXT)
    assert caught.value.retryable is False
    assert caught.value.reason == f"HTTP 404 from {server.url}: no such agent"


async def test_malformed_json_reply() -> None:
    """A JSON reply without a text ``output`` is a clear error."""
    answer = json_answer(200, {"result": "ok"})
    with serve(lambda _: answer) as server, pytest.raises(AgentRunError, match='"output" must'):
        await url_agent(server.url).invoke(CONTEXT)


async def test_unreachable_url_is_retryable_and_hides_resolved_secrets() -> None:
    """A refused connection is retryable; the message shows the URL as written, not resolved."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    spec = agent_spec(url=f"http://127.0.0.1:{port}/hook?token=${{TOKEN}}")
    runtime = HttpRuntime(spec, RuntimeSettings(environ={"TOKEN": "tok-secret-123"}))
    with pytest.raises(AgentRunError) as caught:
        await runtime.invoke(CONTEXT)
    assert caught.value.retryable is True
    assert caught.value.reason.startswith(f"cannot reach http://127.0.0.1:{port}/hook?token=${{")
    assert "tok-secret-123" not in str(caught.value)


async def test_heartbeat_over_http() -> None:
    """A URL agent in a heartbeat is called until it answers ``sleep``, seeing the last summary."""

    def respond(request: Recorded) -> tuple[int, dict[str, str], bytes]:
        iteration = request.json()["iteration"]
        text = f"pass {iteration}\n" + ("sleep\n" if iteration == 3 else "")
        return 200, {"content-type": "text/plain"}, text.encode()

    with serve(respond) as server:
        spec = agent_spec(url=server.url, timeout=timedelta(seconds=5))
        result = await execute_run(
            HttpRuntime(spec, RuntimeSettings()),
            spec,
            make_job(heartbeat=Heartbeat(enabled=True, max_iterations=10)),
            make_run(),
            SessionState(summary="from last run"),
            RuntimeSettings(),
            clock=FakeClock(NOW),
        )
    assert (result.status, result.iterations, result.output) == (
        RunStatus.succeeded,
        3,
        "pass 3\n",
    )
    summaries = [request.json()["previous_summary"] for request in server.requests]
    assert summaries == ["from last run", "pass 1", "pass 2"]
