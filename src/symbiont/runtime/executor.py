"""`execute_run`: one run of a job, from session state to `RunResult`.

It builds each `AgentContext` from the job's session mode, drives the heartbeat loop,
enforces ``agent.timeout`` per invocation and ``policy.max_runtime`` per run, derives
summaries, bounds the shared conversation, and turns every failure into a result: no
exception from an agent escapes (cancellation from outside still propagates).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import anyio
import anyio.lowlevel

from symbiont.core.clock import Clock
from symbiont.core.durations import format_duration
from symbiont.core.enums import RunStatus, SessionMode
from symbiont.core.errors import AgentRunError
from symbiont.core.models import Job, Run
from symbiont.dsl import AgentSpec
from symbiont.runtime._session import bound_messages, choose_summary
from symbiont.runtime.base import (
    AgentContext,
    AgentReply,
    AgentRuntime,
    RunResult,
    RuntimeSettings,
)
from symbiont.store.base import SessionState

__all__ = ("execute_run",)


@dataclass(slots=True)
class _Progress:
    """What the iterations of one run have produced so far."""

    iterations: int = 0
    output: str | None = None
    summary: str | None = None
    truncated: bool = False
    max_iterations_reached: bool = False
    details: dict[str, Any] = field(default_factory=dict)
    """Facts for the run record gathered on the way (``retryable``...)."""
    turns: list[dict[str, str]] = field(default_factory=list)
    """This run's exchanges: ``user`` (the input) and ``assistant`` (the output) per iteration."""

    def record(self, reply: AgentReply, run_input: str) -> None:
        """Take one iteration's reply into account."""
        self.truncated = self.truncated or reply.output_truncated
        # A final bare ``sleep`` leaves an empty output: the run keeps the last real one.
        if reply.output.strip() or self.output is None:
            self.output = reply.output
        self.summary = choose_summary(reply.summary, reply.output) or self.summary
        self.turns.append({"role": "user", "content": run_input})
        self.turns.append({"role": "assistant", "content": reply.output})


@dataclass(frozen=True, slots=True)
class _Run:
    """The fixed inputs of one run."""

    runtime: AgentRuntime
    agent: AgentSpec
    job: Job
    run: Run
    session: SessionState
    settings: RuntimeSettings

    @property
    def input(self) -> str | None:
        return self.run.input if self.run.input is not None else self.job.input

    def bounded(self, messages: list[Any]) -> tuple[tuple[dict[str, Any], ...], int]:
        limits = self.settings
        return bound_messages(messages, limits.max_session_messages, limits.max_session_bytes)

    def context(self, iteration: int, progress: _Progress) -> AgentContext:
        """The context of *iteration*: the session's carry-over, then the heartbeat's."""
        mode = self.job.session_mode
        summary = self.session.summary if mode == SessionMode.ephemeral_with_summary else None
        messages = list(self.session.messages) if mode == SessionMode.shared_persistent else []
        if iteration > 1:
            mode = self.job.heartbeat.context_mode
            if mode == SessionMode.ephemeral_with_summary:
                summary = progress.summary
            elif mode == SessionMode.shared_persistent:
                messages += progress.turns
        return AgentContext(
            job_id=self.job.id,
            job_name=self.run.job_name,
            run_id=self.run.id,
            attempt=self.run.attempt,
            iteration=iteration,
            trigger=str(self.run.trigger),
            scheduled_for=self.run.scheduled_for,
            input=self.input,
            previous_summary=summary,
            messages=self.bounded(messages)[0] if messages else (),
            session_mode=mode,
            capabilities=self.agent.capabilities,
        )


async def execute_run(  # noqa: PLR0917 - the positional signature is issue 4's contract
    runtime: AgentRuntime,
    agent: AgentSpec,
    job: Job,
    run: Run,
    session: SessionState,
    settings: RuntimeSettings,
    *,
    clock: Clock,
) -> RunResult:
    """Run *agent* for one run of *job* and report how it ended.

    Without a heartbeat the agent is invoked once; with one, again and again until a
    reply asks to sleep or ``heartbeat.max_iterations`` is reached. The run's output is
    the last iteration's output (or the last non-empty one, when the final reply was a
    bare ``sleep``); its summary is the last one given or derived.

    Args:
        runtime: the agent's runtime (see `build_runtime`).
        agent: the agent definition (for its name, timeout and capabilities).
        job: the job (session mode, heartbeat, ``policy.max_runtime``, default input).
        run: the run (ids, attempt, trigger, occurrence and input).
        session: what earlier runs left (``summary``, ``messages``).
        settings: limits shared by all runtimes.
        clock: measures the execution time.

    Returns:
        ``succeeded``, ``failed`` (with the error message) or ``timed_out`` (with the
        limit), the output and summary of the completed iterations, and for
        ``shared_persistent`` jobs the conversation to keep (already bounded).
    """
    state = _Run(runtime, agent, job, run, session, settings)
    progress = _Progress()
    status, error = RunStatus.succeeded, None
    started = clock.now()
    max_runtime = job.policy.max_runtime
    if max_runtime is None:  # no deadline: spare the cancel scope (a burst runs thousands)
        status, error = await _iterate_safely(state, progress)
        elapsed = clock.now() - started
        await _let_others_start()
        return _result(state, progress, status, error, elapsed)
    with anyio.move_on_after(_seconds(max_runtime)) as scope:
        status, error = await _iterate_safely(state, progress)
    elapsed = clock.now() - started
    await _let_others_start()
    if scope.cancelled_caught:
        status = RunStatus.timed_out
        error = (
            f"the run exceeded its max_runtime of {format_duration(max_runtime)} "
            f"(policy.max_runtime) during iteration {progress.iterations}; the agent was stopped"
        )
    return _result(state, progress, status, error, elapsed)


async def _let_others_start() -> None:
    """Yield to the event loop between the agent's reply and the run's bookkeeping.

    An agent that answers without waiting (a quick handler) would otherwise have its run
    recorded before the next run of a burst is even started: with this yield every run of
    a burst reaches its agent first, and the results are written after, in big batches.
    Shielded: a run whose agent has answered is not cancelled before its result is kept.
    """
    await anyio.lowlevel.cancel_shielded_checkpoint()


async def _iterate_safely(state: _Run, progress: _Progress) -> tuple[RunStatus, str | None]:
    """Iterate; an agent's error becomes a failed status with its message."""
    try:
        await _iterate(state, progress)
    except AgentRunError as exc:
        progress.details["retryable"] = exc.retryable
        return RunStatus.failed, str(exc)
    except Exception as exc:  # noqa: BLE001 - any error from agent code fails the run
        return RunStatus.failed, f"{type(exc).__name__}: {exc}"
    return RunStatus.succeeded, None


async def _iterate(state: _Run, progress: _Progress) -> None:
    heartbeat = state.job.heartbeat
    limit = max(heartbeat.max_iterations, 1) if heartbeat.enabled else 1
    for iteration in range(1, limit + 1):
        context = state.context(iteration, progress)
        progress.iterations = iteration
        reply = await _invoke(state, context)
        progress.record(reply, state.input or "")
        if reply.sleep or not heartbeat.enabled:
            return
    progress.max_iterations_reached = True


async def _invoke(state: _Run, context: AgentContext) -> AgentReply:
    """One invocation, limited by ``agent.timeout``."""
    timeout = state.agent.timeout
    if timeout is None:
        return await state.runtime.invoke(context)
    with anyio.move_on_after(_seconds(timeout)):
        return await state.runtime.invoke(context)
    # Only this scope's own deadline ends up here; an outer cancellation propagates.
    raise AgentRunError(
        state.agent.name,
        f"no reply within the agent's timeout of {format_duration(timeout)} "
        f"(iteration {context.iteration}); the agent was stopped",
        retryable=True,
    )


def _seconds(limit: timedelta | None) -> float:
    return math.inf if limit is None else max(limit.total_seconds(), 0.0)


def _result(
    state: _Run,
    progress: _Progress,
    status: RunStatus,
    error: str | None,
    elapsed: timedelta,
) -> RunResult:
    details = dict(progress.details)
    if progress.truncated:
        details["output_truncated"] = True
        details["output_limit_bytes"] = state.settings.max_output_bytes
    if progress.max_iterations_reached:
        details["max_iterations_reached"] = True
    messages: tuple[dict[str, Any], ...] = ()
    if state.job.session_mode == SessionMode.shared_persistent:
        messages, dropped = state.bounded([*state.session.messages, *progress.turns])
        if dropped:
            details["session_messages_dropped"] = dropped
    return RunResult(
        status=status,
        output=progress.output,
        summary=progress.summary,
        error_message=error,
        iterations=progress.iterations,
        execution_time_ms=max(elapsed // timedelta(milliseconds=1), 0),
        messages=messages,
        details=details,
    )
