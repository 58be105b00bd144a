"""`HandlerRuntime`: sync and async callables, reply shapes, import errors."""

from __future__ import annotations

import pytest

from symbiont.core.enums import RunStatus
from symbiont.core.errors import AgentRunError
from symbiont.core.models import Heartbeat
from symbiont.runtime import AgentContext, HandlerRuntime, RuntimeSettings, execute_run
from symbiont.store.base import SessionState
from symbiont.testing import FakeClock
from tests.unit.runtime import handlers
from tests.unit.runtime.fakes import NOW, agent_spec, make_job, make_run

pytestmark = pytest.mark.anyio
MODULE = "tests.unit.runtime.handlers"
CONTEXT = AgentContext(
    job_id="job-1",
    job_name="disk-check",
    run_id="run-7",
    attempt=1,
    iteration=1,
    trigger="manual",
    scheduled_for=NOW,
    input="check /var",
)


def runtime(target: str, *, max_output_bytes: int = 1024) -> HandlerRuntime:
    """A handler runtime for *target* with a small output cap."""
    return HandlerRuntime(
        agent_spec(handler=target), RuntimeSettings(max_output_bytes=max_output_bytes)
    )


async def test_sync_handler_runs_in_a_worker_thread() -> None:
    """A plain function gets the context in a worker thread; its str is the output."""
    handlers.CALLS.clear()
    reply = await runtime(f"{MODULE}:sync_upper").invoke(CONTEXT)
    assert reply.output == "CHECK /VAR"
    assert (reply.summary, reply.sleep, reply.output_truncated) == (None, False, False)
    assert handlers.CALLS == ["sync_upper:False"]


async def test_async_handler_returns_a_reply() -> None:
    """A coroutine function is awaited; its `AgentReply` is taken as it is."""
    reply = await runtime(f"{MODULE}:async_reply").invoke(CONTEXT)
    assert (reply.output, reply.summary, reply.sleep) == ("iteration 1", "summary 1", False)


async def test_dict_reply() -> None:
    """A dict ``{output, summary, sleep}`` is a reply."""
    reply = await runtime(f"{MODULE}:as_dict").invoke(CONTEXT)
    assert (reply.output, reply.summary, reply.sleep) == ("run run-7", "all good", True)


async def test_text_ending_in_sleep_asks_to_sleep() -> None:
    """A returned text whose last line is ``sleep`` ends a heartbeat, the line stripped."""
    reply = await runtime(f"{MODULE}:sleepy_text").invoke(CONTEXT)
    assert (reply.output, reply.sleep) == ("checked disk-check\n", True)


async def test_dotted_attribute_and_output_cap() -> None:
    """``module:Class.attr`` is resolved; an output past the cap is cut and flagged."""
    reply = await runtime(f"{MODULE}:Agents.nested", max_output_bytes=4).invoke(CONTEXT)
    assert (reply.output, reply.output_truncated) == ("disk", True)


async def test_async_handler_ends_a_heartbeat_through_execute_run() -> None:
    """``sleep=True`` from a handler ends the heartbeat loop."""
    agent = agent_spec(handler=f"{MODULE}:async_reply")
    result = await execute_run(
        HandlerRuntime(agent, RuntimeSettings()),
        agent,
        make_job(heartbeat=Heartbeat(enabled=True, max_iterations=5)),
        make_run(),
        SessionState(),
        RuntimeSettings(),
        clock=FakeClock(NOW),
    )
    assert (result.status, result.iterations, result.summary) == (
        RunStatus.succeeded,
        2,
        "summary 2",
    )


async def test_handler_exception_fails_the_run() -> None:
    """An exception raised by the handler becomes a failed run with its type and message."""
    agent = agent_spec(handler=f"{MODULE}:broken")
    result = await execute_run(
        HandlerRuntime(agent, RuntimeSettings()),
        agent,
        make_job(),
        make_run(),
        SessionState(),
        RuntimeSettings(),
        clock=FakeClock(NOW),
    )
    assert result.status == RunStatus.failed
    assert result.error_message == "KeyError: 'disk-check'"


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("no_colon_here", "handler 'no_colon_here' must look like 'pkg.module:function'"),
        (
            "tests.unit.runtime.nope:f",
            (
                "cannot import handler module 'tests.unit.runtime.nope': no module named "
                "'tests.unit.runtime.nope'; install it or put its folder on PYTHONPATH"
            ),
        ),
        (f"{MODULE}:missing", f"handler module {MODULE!r} has no attribute 'missing'"),
        (f"{MODULE}:NOT_CALLABLE", f"handler '{MODULE}:NOT_CALLABLE' is not callable (got int)"),
        (
            f"{MODULE}:wrong_type",
            (
                "the handler returned int; return a str, an AgentReply or a dict "
                '{"output": str, "summary": str, "sleep": bool}'
            ),
        ),
        (
            f"{MODULE}:bad_dict",
            (
                'the handler returned a malformed reply: "output" must be a string (got int); '
                '"sleep" must be true or false (got str)'
            ),
        ),
    ],
)
async def test_clear_errors(target: str, message: str) -> None:
    """A bad target, a missing module or attribute, or a bad return value is a clear error."""
    with pytest.raises(AgentRunError) as caught:
        await runtime(target).invoke(CONTEXT)
    assert caught.value.reason == message
    assert caught.value.retryable is False
