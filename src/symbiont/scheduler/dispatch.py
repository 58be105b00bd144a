"""`AgentDispatcher`: the session lifecycle of one run (spec "Session Lifecycle").

Session creation, policy gate, execution, delivery and session cleanup, in that order; the
scheduler does pre-execution (concurrency, jitter) and post-execution (the run record).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from symbiont.core.clock import Clock
from symbiont.core.enums import RunStatus, SecurityEventType, SessionMode
from symbiont.core.errors import AgentPinError, SymbiontError
from symbiont.core.models import Allow, DeliveryResult, Deny, Job, Run, SchedulePolicyDecision
from symbiont.dsl.model import AgentSpec
from symbiont.policy.gate import PinCheck, PolicyContext, evaluate, gated
from symbiont.runtime.base import AgentRuntime, RunResult, RuntimeSettings
from symbiont.runtime.build import build_runtime
from symbiont.runtime.executor import execute_run
from symbiont.runtime.templates import resolve_template
from symbiont.store.base import AuditRecord, JobStore, RunOutcome, SessionState

_ALLOW = Allow()
RuntimeFactory = Callable[[AgentSpec, RuntimeSettings], AgentRuntime]


class PinVerifier(Protocol):
    """Verifies an AgentPin credential (`symbiont.policy.agentpin.AgentPinVerifier`)."""

    async def verify(self, token: str, *, agent_id: str, domain: str | None) -> object:
        """Return the verified claims; raise `AgentPinError` with the reason."""
        ...


class RunDelivery(Protocol):
    """Delivers a finished run to the job's channels (`symbiont.delivery` router)."""

    async def deliver_all(self, job: Job, run: Run, output: str) -> tuple[DeliveryResult, ...]:
        """Deliver to every channel of *job* that its ``deliver_on`` selects."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class GateSettings:
    """What the policy gate knows about this daemon."""

    environment: str | None = None
    """``SYMBI_ENV``: checked against ``allowed_environments``."""
    agent_pin_required: bool = False
    """``SYMBI_AGENTPIN_REQUIRED``: every job must carry a verified credential."""
    agent_pin_domain: str | None = None
    """``SYMBI_AGENTPIN_DOMAIN``: the expected issuer (domain anchor)."""


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
        gate: what the policy gate knows about this daemon.
        pin: verifies AgentPin credentials (None: a required credential cannot verify).
        delivery: routes results to channels (None: nothing is delivered).
        runtime_factory: builds a runtime for a definition (tests may swap it).
    """

    def __init__(
        self,
        store: JobStore,
        registry: AgentRegistry,
        settings: RuntimeSettings,
        clock: Clock,
        *,
        gate: GateSettings | None = None,
        pin: PinVerifier | None = None,
        delivery: RunDelivery | None = None,
        runtime_factory: RuntimeFactory = build_runtime,
    ) -> None:
        self.store = store
        self.registry = registry
        self.settings = settings
        self.clock = clock
        self.gate = gate or GateSettings()
        self.pin = pin
        self.delivery = delivery
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
        began = self.clock.now()
        carried = SessionState()
        if job.session_mode is not SessionMode.fully_ephemeral:
            carried = session if session is not None else await self.store.get_session(job.id)
        decision, extra_audit = await self._decide(job, run, agent)
        if not isinstance(decision, Allow):
            return _held_back(decision, extra_audit)
        result = await execute_run(
            self._runtime(agent), agent, job, run, carried, self.settings, clock=self.clock
        )
        deliveries = await self._deliver(job, run, result)
        details: dict[str, Any] = {
            **result.details,
            "policy": {"decision": "allow"},
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
            deliveries=deliveries,
            details=details,
            session=_carry(job, result),
            started_at=began,
        )

    async def _decide(
        self, job: Job, run: Run, agent: AgentSpec
    ) -> tuple[SchedulePolicyDecision, tuple[AuditRecord, ...]]:
        """Policy gate: verify the AgentPin credential (I/O) and evaluate the pure gate."""
        if not gated(job, agent_pin_required=self.gate.agent_pin_required):
            return _ALLOW, ()
        check, audit = await self._verify_pin(job)
        context = PolicyContext(
            now=self.clock.now(),
            environment=self.gate.environment,
            capabilities=agent.capabilities,
            agent_pin=check,
            agent_pin_required=self.gate.agent_pin_required,
            approved_by=run.details.get("approved_by"),
        )
        return evaluate(job, context), audit

    async def _verify_pin(self, job: Job) -> tuple[PinCheck | None, tuple[AuditRecord, ...]]:
        if not (job.policy.require_agent_pin or self.gate.agent_pin_required):
            return None, ()
        if not job.agent_pin_jwt:
            return None, ()
        try:
            if self.pin is None:
                raise AgentPinError("no AgentPin key source is configured")
            token = resolve_template(job.agent_pin_jwt, self.settings.environ)
            await self.pin.verify(token, agent_id=job.agent_id, domain=self.gate.agent_pin_domain)
        except SymbiontError as exc:
            reason = exc.reason if isinstance(exc, AgentPinError) else str(exc)
            event = AuditRecord(
                type=SecurityEventType.AgentPinVerificationFailed,
                actor="policy",
                details={"agent_id": job.agent_id, "reason": reason},
            )
            return PinCheck(ok=False, reason=reason), (event,)
        return PinCheck(ok=True), ()

    async def _deliver(self, job: Job, run: Run, result: RunResult) -> tuple[DeliveryResult, ...]:
        """Delivery: route the output to the job's channels; failures never fail the run."""
        if self.delivery is None or not job.delivery:
            return ()
        snapshot = dataclasses.replace(
            run,
            status=result.status,
            output=result.output,
            summary=result.summary,
            error_message=result.error_message,
            iterations=result.iterations,
            execution_time_ms=result.execution_time_ms,
            finished_at=self.clock.now(),
        )
        return await self.delivery.deliver_all(job, snapshot, result.output or "")

    def _runtime(self, agent: AgentSpec) -> AgentRuntime:
        cached = self._runtimes.get(agent.name)
        if cached is None or (cached[0] is not agent and cached[0] != agent):
            cached = self._runtimes[agent.name] = (agent, self._factory(agent, self.settings))
        return cached[1]


def _held_back(decision: SchedulePolicyDecision, audit: tuple[AuditRecord, ...]) -> RunOutcome:
    """The outcome of a run the gate did not let through: denied, or waiting for approval."""
    if isinstance(decision, Deny):
        return RunOutcome(
            status=RunStatus.denied,
            error_message=decision.reason,
            details={"policy": {"decision": "deny", "reason": decision.reason}},
            audit=audit,
        )
    assert not isinstance(decision, Allow)  # noqa: S101 - narrowed for the type checker
    return RunOutcome(
        status=RunStatus.pending_approval,
        details={
            "policy": {
                "decision": "require_approval",
                "reason": decision.reason,
                "approvers": list(decision.approvers),
                "policy_id": decision.policy_id,
            }
        },
        audit=audit,
    )


def _carry(job: Job, result: RunResult) -> SessionState | None:
    """Session cleanup: what the mode carries to the next run (None keeps the stored one)."""
    if job.session_mode is SessionMode.fully_ephemeral:
        return None
    if result.summary is None and not result.messages:
        return None
    messages = result.messages if job.session_mode is SessionMode.shared_persistent else ()
    return SessionState(summary=result.summary, messages=tuple(messages))
