"""`AgentDispatcher`: the session lifecycle of one run, from context to stored session."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from symbiont.core.clock import Clock
from symbiont.core.enums import RunStatus, SessionMode
from symbiont.core.models import Job, Run
from symbiont.dsl.model import AgentSpec
from symbiont.runtime.base import AgentRuntime, RunResult, RuntimeSettings
from symbiont.runtime.build import build_runtime
from symbiont.runtime.executor import execute_run
from symbiont.store.base import JobStore, RunOutcome, SessionState

RuntimeFactory = Callable[[AgentSpec, RuntimeSettings], AgentRuntime]


class AgentRegistry:
    """The agent definitions the daemon knows, by name (replaced whole on reload)."""

    def __init__(self, agents: Mapping[str, AgentSpec] | None = None) -> None:
        self._agents: dict[str, AgentSpec] = dict(agents or {})

    def replace(self, agents: Mapping[str, AgentSpec]) -> None:
        """Swap in a new set of definitions."""
        self._agents = dict(agents)

    def get(self, name: str) -> AgentSpec | None:
        """Return the agent called *name*, if defined."""
        return self._agents.get(name)

    def names(self) -> list[str]:
        """Return the defined agent names, sorted."""
        return sorted(self._agents)


class AgentDispatcher:
    """Runs a started run: create the session context, run the agent, persist the session.

    Args:
        store: reads and writes the job's carried session.
        registry: resolves ``job.agent_id`` to a definition.
        settings: runtime limits and the environment templates resolve against.
        clock: the time source.
        runtime_factory: builds a runtime for a definition (tests may swap it).
    """

    def __init__(
        self,
        store: JobStore,
        registry: AgentRegistry,
        settings: RuntimeSettings,
        clock: Clock,
        runtime_factory: RuntimeFactory = build_runtime,
    ) -> None:
        self.store = store
        self.registry = registry
        self.settings = settings
        self.clock = clock
        self._factory = runtime_factory
        self._runtimes: dict[str, tuple[AgentSpec, AgentRuntime]] = {}

    async def __call__(self, job: Job, run: Run, session: SessionState | None = None) -> RunOutcome:
        """Run *run* of *job* and return its outcome; an unknown agent fails the run."""
        agent = self.registry.get(job.agent_id)
        if agent is None:
            known = ", ".join(self.registry.names()) or "none"
            return RunOutcome(
                status=RunStatus.failed,
                error_message=(
                    f"unknown agent {job.agent_id!r}: define `agent {job.agent_id} {{ ... }}`"
                    f" in a .symbi file of the agents folder (known agents: {known})"
                ),
            )
        carried = SessionState()
        if job.session_mode is not SessionMode.fully_ephemeral:
            carried = session if session is not None else await self.store.get_session(job.id)
        result = await execute_run(
            self._runtime(agent), agent, job, run, carried, self.settings, clock=self.clock
        )
        details = {
            **result.details,
            "session": {
                "mode": job.session_mode.value,
                "carried_summary": carried.summary is not None,
                "carried_messages": len(carried.messages),
            },
        }
        return RunOutcome(
            status=result.status,
            output=result.output,
            summary=result.summary,
            error_message=result.error_message,
            iterations=result.iterations,
            execution_time_ms=result.execution_time_ms,
            details=details,
            session=_carry(job, result),
        )

    def _runtime(self, agent: AgentSpec) -> AgentRuntime:
        cached = self._runtimes.get(agent.name)
        if cached is None or cached[0] != agent:
            cached = self._runtimes[agent.name] = (agent, self._factory(agent, self.settings))
        return cached[1]


def _carry(job: Job, result: RunResult) -> SessionState | None:
    """Session cleanup: what the mode carries to the next run (None keeps the stored one)."""
    if job.session_mode is SessionMode.fully_ephemeral:
        return None
    if result.summary is None and not result.messages:
        return None
    messages = result.messages if job.session_mode is SessionMode.shared_persistent else ()
    return SessionState(summary=result.summary, messages=tuple(messages))
