"""`execute_run`: session modes, heartbeats, summaries, limits and failures (scripted agents)."""

from __future__ import annotations

from datetime import timedelta

import anyio
import pytest

from symbiont.core.enums import RunStatus, SessionMode
from symbiont.core.errors import AgentRunError
from symbiont.core.models import Heartbeat
from symbiont.runtime import AgentContext, AgentReply, RunResult, RuntimeSettings, execute_run
from symbiont.store.base import SessionState
from symbiont.testing import FakeClock
from tests.unit.runtime.fakes import NOW, ScriptedRuntime, agent_spec, make_job, make_run

pytestmark = pytest.mark.anyio
AGENT = agent_spec(handler="x:y")
SETTINGS = RuntimeSettings()


async def run_once(
    runtime: ScriptedRuntime,
    *,
    session: SessionState | None = None,
    settings: RuntimeSettings = SETTINGS,
    session_mode: SessionMode = SessionMode.ephemeral_with_summary,
    heartbeat: Heartbeat | None = None,
) -> RunResult:
    """Execute one run of a job with these settings, using *runtime*."""
    return await execute_run(
        runtime,
        AGENT,
        make_job(session_mode=session_mode, heartbeat=heartbeat),
        make_run(),
        session or SessionState(),
        settings,
        clock=FakeClock(NOW),
    )


async def test_one_invocation_without_heartbeat() -> None:
    """Without a heartbeat the agent runs once, even when it does not ask to sleep."""
    runtime = ScriptedRuntime(["first output\nresult: 3 disks ok\n", "never"])
    result = await run_once(runtime)
    assert result.status == RunStatus.succeeded
    assert result.output == "first output\nresult: 3 disks ok\n"
    assert result.summary == "first output\nresult: 3 disks ok"
    assert result.iterations == 1
    assert result.error_message is None
    assert result.details == {}
    context = runtime.contexts[0]
    assert (context.job_id, context.job_name, context.run_id) == ("job-1", "disk-check", "run-1")
    assert (context.iteration, context.attempt, context.trigger) == (1, 1, "schedule")
    assert context.input == "check the disks"


async def test_fully_ephemeral_carries_nothing_across_runs() -> None:
    """A fully ephemeral job's run sees no summary and no messages from earlier runs."""
    runtime = ScriptedRuntime(["one", "two"])
    session = SessionState(summary="old", messages=({"role": "user", "content": "x"},))
    first = await run_once(runtime, session=session, session_mode=SessionMode.fully_ephemeral)
    await run_once(runtime, session=SessionState(summary=first.summary))
    assert runtime.contexts[0].previous_summary is None
    assert runtime.contexts[0].messages == ()
    assert runtime.contexts[0].session_mode == SessionMode.fully_ephemeral
    assert first.messages == ()


async def test_ephemeral_with_summary_hands_the_summary_to_the_next_run() -> None:
    """The second run gets the summary the first one produced, and no messages."""
    runtime = ScriptedRuntime([AgentReply(output="long report", summary="2 warnings"), "fine"])
    first = await run_once(runtime)
    second = await run_once(runtime, session=SessionState(summary=first.summary))
    assert runtime.contexts[0].previous_summary is None
    assert runtime.contexts[1].previous_summary == "2 warnings"
    assert runtime.contexts[1].messages == ()
    assert second.summary == "fine"


async def test_shared_persistent_keeps_the_conversation() -> None:
    """A shared job's second run sees the first run's exchange and extends it."""
    runtime = ScriptedRuntime(["answer one", "answer two"])
    mode = SessionMode.shared_persistent
    first = await run_once(runtime, session_mode=mode)
    second = await run_once(
        runtime, session=SessionState(messages=first.messages), session_mode=mode
    )
    exchange = ({"role": "user", "content": "check the disks"},)
    assert first.messages == (*exchange, {"role": "assistant", "content": "answer one"})
    assert runtime.contexts[1].messages == first.messages
    assert runtime.contexts[1].previous_summary is None
    assert second.messages == (
        *first.messages,
        *exchange,
        {"role": "assistant", "content": "answer two"},
    )


async def test_shared_persistent_is_bounded() -> None:
    """The kept conversation drops its oldest messages past the limit and says how many."""
    old = tuple({"role": r, "content": f"{n}"} for n in range(5) for r in ("user", "assistant"))
    settings = RuntimeSettings(max_session_messages=4)
    runtime = ScriptedRuntime(["new"])
    result = await run_once(
        runtime,
        session=SessionState(messages=old),
        settings=settings,
        session_mode=SessionMode.shared_persistent,
    )
    assert len(runtime.contexts[0].messages) == 4
    assert result.messages == (*old[-2:], *result.messages[-2:])
    assert result.messages[-1] == {"role": "assistant", "content": "new"}
    assert result.details["session_messages_dropped"] == 8


async def test_heartbeat_stops_when_the_agent_sleeps() -> None:
    """A heartbeat calls the agent until a reply asks to sleep, numbering the iterations."""
    runtime = ScriptedRuntime(
        lambda context: AgentReply(output=f"step {context.iteration}", sleep=context.iteration == 3)
    )
    result = await run_once(runtime, heartbeat=Heartbeat(enabled=True, max_iterations=10))
    assert [context.iteration for context in runtime.contexts] == [1, 2, 3]
    assert result.iterations == 3
    assert result.output == "step 3"
    assert "max_iterations_reached" not in result.details


async def test_heartbeat_stops_at_max_iterations_and_records_it() -> None:
    """An agent that never sleeps is stopped at max_iterations, which the result records."""
    runtime = ScriptedRuntime(lambda context: f"busy {context.iteration}")
    result = await run_once(runtime, heartbeat=Heartbeat(enabled=True, max_iterations=4))
    assert result.status == RunStatus.succeeded
    assert result.iterations == 4
    assert result.details["max_iterations_reached"] is True


async def test_bare_sleep_keeps_the_previous_output() -> None:
    """When the last reply is only ``sleep``, the run's output is the last non-empty one."""
    runtime = ScriptedRuntime(["disk 91% full: cleaned tmp", AgentReply(output="", sleep=True)])
    result = await run_once(runtime, heartbeat=Heartbeat(enabled=True))
    assert result.output == "disk 91% full: cleaned tmp"
    assert result.summary == "disk 91% full: cleaned tmp"


def echo_iteration(context: AgentContext) -> AgentReply:
    """Reply with the iteration number; sleep at the third."""
    return AgentReply(
        output=f"out {context.iteration}",
        summary=f"sum {context.iteration}",
        sleep=context.iteration == 3,
    )


@pytest.mark.parametrize(
    ("mode", "summaries", "message_counts"),
    [
        (SessionMode.fully_ephemeral, ["prev", "prev", "prev"], [0, 0, 0]),
        (SessionMode.ephemeral_with_summary, ["prev", "sum 1", "sum 2"], [0, 0, 0]),
        (SessionMode.shared_persistent, ["prev", "prev", "prev"], [0, 2, 4]),
    ],
)
async def test_heartbeat_context_modes(
    mode: SessionMode, summaries: list[str], message_counts: list[int]
) -> None:
    """``heartbeat.context_mode`` decides what later iterations see of the earlier ones."""
    runtime = ScriptedRuntime(echo_iteration)
    await run_once(
        runtime,
        session=SessionState(summary="prev"),
        heartbeat=Heartbeat(enabled=True, context_mode=mode),
    )
    assert [context.previous_summary for context in runtime.contexts] == summaries
    assert [len(context.messages) for context in runtime.contexts] == message_counts
    assert [context.session_mode for context in runtime.contexts][1:] == [mode, mode]
    if mode == SessionMode.shared_persistent:
        assert runtime.contexts[2].messages[-1] == {"role": "assistant", "content": "out 2"}


async def test_agent_run_error_fails_the_run() -> None:
    """An `AgentRunError` ends the run as failed with its message; earlier output is kept."""

    def script(context: AgentContext) -> str:
        if context.iteration == 2:
            raise AgentRunError("agent", "HTTP 503 from upstream", retryable=True)
        return "partial"

    result = await run_once(ScriptedRuntime(script), heartbeat=Heartbeat(enabled=True))
    assert result.status == RunStatus.failed
    assert result.error_message == "agent 'agent' failed: HTTP 503 from upstream"
    assert result.output == "partial"
    assert result.iterations == 2
    assert result.details["retryable"] is True


async def test_other_exceptions_fail_the_run_without_escaping() -> None:
    """Any other exception becomes a failed run with ``Type: message``."""

    def script(context: AgentContext) -> str:
        raise ZeroDivisionError(f"division by zero in {context.job_name}")

    result = await run_once(ScriptedRuntime(script))
    assert result.status == RunStatus.failed
    assert result.error_message == "ZeroDivisionError: division by zero in disk-check"
    assert result.output is None


class SlowRuntime:
    """A runtime whose invocations never finish; counts cancellations."""

    def __init__(self) -> None:
        self.cancelled = 0

    async def invoke(self, context: AgentContext) -> AgentReply:
        """Wait forever (until cancelled)."""
        try:
            await anyio.sleep_forever()
        finally:
            self.cancelled += context.iteration
        raise AssertionError  # pragma: no cover


async def test_agent_timeout_fails_one_invocation() -> None:
    """An invocation longer than ``agent.timeout`` is cancelled and the run fails, saying so."""
    runtime = SlowRuntime()
    with anyio.fail_after(5):
        result = await execute_run(
            runtime,
            agent_spec(handler="x:y", timeout=timedelta(milliseconds=50)),
            make_job(),
            make_run(),
            SessionState(),
            SETTINGS,
            clock=FakeClock(NOW),
        )
    assert result.status == RunStatus.failed
    assert result.error_message == (
        "agent 'agent' failed: no reply within the agent's timeout of 50ms (iteration 1); "
        "the agent was stopped"
    )
    assert runtime.cancelled == 1


async def test_max_runtime_times_the_run_out() -> None:
    """A run longer than ``policy.max_runtime`` is cancelled and recorded as timed out."""
    runtime = SlowRuntime()
    with anyio.fail_after(5):
        result = await execute_run(
            runtime,
            AGENT,
            make_job(max_runtime=timedelta(milliseconds=50)),
            make_run(),
            SessionState(),
            SETTINGS,
            clock=FakeClock(NOW),
        )
    assert result.status == RunStatus.timed_out
    assert result.error_message == (
        "the run exceeded its max_runtime of 50ms (policy.max_runtime) during iteration 1; "
        "the agent was stopped"
    )
    assert runtime.cancelled == 1


async def test_records_truncation_and_execution_time() -> None:
    """A cut output is recorded, and the execution time is measured with the injected clock."""
    clock = FakeClock(NOW)

    def script(_: AgentContext) -> AgentReply:
        clock.advance(seconds=2.5)
        return AgentReply(output="x" * 10, output_truncated=True)

    result = await execute_run(
        ScriptedRuntime(script),
        AGENT,
        make_job(),
        make_run(run_input="given"),
        SessionState(),
        SETTINGS,
        clock=clock,
    )
    limit = SETTINGS.max_output_bytes
    assert result.details == {"output_truncated": True, "output_limit_bytes": limit}
    assert result.execution_time_ms == 2500


async def test_run_input_overrides_the_job_input() -> None:
    """A run's own input (run-now) replaces the job's default input."""
    runtime = ScriptedRuntime(["ok"])
    await execute_run(
        runtime,
        AGENT,
        make_job(),
        make_run(run_input="custom"),
        SessionState(),
        SETTINGS,
        clock=FakeClock(NOW),
    )
    assert runtime.contexts[0].input == "custom"
