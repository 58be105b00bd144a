"""The agent runtime port: what an agent receives, what it returns, and the runtime protocol."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from symbiont.core.enums import RunStatus, SessionMode


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentContext:
    """Everything one invocation of an agent is given (one heartbeat iteration of one run)."""

    job_id: str
    job_name: str
    run_id: str
    attempt: int
    """1 for the first attempt at an occurrence."""
    iteration: int
    """1-based heartbeat iteration within the run (1 when the job has no heartbeat)."""
    trigger: str
    """Why the run exists: schedule, manual, catchup, retry, recovery."""
    scheduled_for: datetime
    input: str | None
    """The run's input (the job's ``input`` or the one given to run-now)."""
    previous_summary: str | None = None
    """``ephemeral_with_summary``: the summary of the previous run or iteration."""
    messages: tuple[Mapping[str, Any], ...] = ()
    """``shared_persistent``: the conversation so far, oldest first."""
    session_mode: SessionMode = SessionMode.ephemeral_with_summary
    capabilities: tuple[str, ...] = ()
    """The agent's declared capabilities."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentReply:
    """What one invocation returned."""

    output: str
    """The agent's output (already capped)."""
    summary: str | None = None
    """A short summary for the next run/iteration; None lets the executor derive one."""
    sleep: bool = False
    """Heartbeat: the agent is done until the next tick (its last output line was ``sleep``)."""
    output_truncated: bool = False
    """The output exceeded the cap and was cut."""


class AgentRuntime(Protocol):
    """Invokes one agent once. Built per agent definition; stateless between calls."""

    async def invoke(self, context: AgentContext) -> AgentReply:
        """Run the agent with *context*; raise `AgentRunError` when it fails.

        Cancellation (``max_runtime``, shutdown) must stop the agent completely: a
        subprocess agent's whole process group is killed before this returns.
        """
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class RunResult:
    """How a run ended, as the executor reports it to the scheduler."""

    status: RunStatus
    """succeeded, failed or timed_out."""
    output: str | None = None
    summary: str | None = None
    error_message: str | None = None
    iterations: int = 0
    execution_time_ms: int = 0
    messages: tuple[Mapping[str, Any], ...] = ()
    """``shared_persistent``: the conversation to keep for the next run (already bounded)."""
    details: Mapping[str, Any] = field(default_factory=dict)
    """Facts for the run record: ``max_iterations_reached``, ``output_truncated``..."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RuntimeSettings:
    """Limits and inputs every runtime shares (built by the composition root)."""

    environ: Mapping[str, str] = field(default_factory=dict)
    """Variables that ``${VAR}`` templates resolve against (the daemon's environment)."""
    max_output_bytes: int = 1024 * 1024
    """Output beyond this is cut and the run records ``output_truncated``."""
    kill_grace: timedelta = timedelta(seconds=5)
    """Between SIGTERM and SIGKILL when a subprocess agent is cancelled."""
    work_dir: str | None = None
    """Folder for per-invocation context files (a temporary folder when None)."""
    max_session_messages: int = 50
    """``shared_persistent``: messages kept across runs (oldest dropped first)."""
    max_session_bytes: int = 64 * 1024
    """``shared_persistent``: total size kept across runs (oldest dropped first)."""
