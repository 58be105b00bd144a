"""`PolicyGate`: decides, without I/O, whether a run may start now (spec "Policy Enforcement")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from symbiont.core.models import (
    Allow,
    AllowedHours,
    Deny,
    Job,
    RequireApproval,
    SchedulePolicyDecision,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class PinCheck:
    """The outcome of verifying the job's AgentPin credential (done before the gate, with I/O)."""

    ok: bool
    reason: str | None = None
    """Why it failed (``expired``, ``wrong issuer``...)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyContext:
    """What the gate needs to know besides the job."""

    now: datetime
    """The moment the run would start (aware)."""
    environment: str | None = None
    """The daemon's environment name (``SYMBI_ENV``)."""
    capabilities: tuple[str, ...] = ()
    """The agent's declared capabilities."""
    agent_pin: PinCheck | None = None
    """The AgentPin verification, when one was attempted."""
    agent_pin_required: bool = False
    """``SYMBI_AGENTPIN_REQUIRED``: every job needs a verified credential."""
    approved_by: str | None = None
    """Who approved this run, when it was approved."""


def evaluate(job: Job, context: PolicyContext) -> SchedulePolicyDecision:
    """Return Allow, Deny(reason) or RequireApproval(approvers) for *job* now.

    Checks run from the cheapest, most definite to the human one: environment, time window,
    capabilities, AgentPin, and only then approval, so nobody is asked to approve a run
    that would be denied anyway. ``max_runtime`` is not a gate: the runtime enforces it.
    """
    policy = job.policy
    for check in (_environment, _hours, _capabilities, _agent_pin):
        reason = check(job, context)
        if reason is not None:
            return Deny(reason=reason)
    if policy.require_approval and context.approved_by is None:
        who = ", ".join(policy.approvers) if policy.approvers else "any operator"
        return RequireApproval(
            approvers=policy.approvers,
            reason=f"job {job.name!r} requires approval before each run (by {who})",
        )
    return Allow()


def gated(job: Job, *, agent_pin_required: bool = False) -> bool:
    """Whether `evaluate` can decide anything but `Allow` for *job*.

    False for a job with no condition (the common case): its runs skip building a
    `PolicyContext`, which a burst of thousands of runs would otherwise pay for each.
    """
    policy = job.policy
    return bool(
        policy.require_approval
        or policy.require_capabilities
        or policy.allowed_hours is not None
        or policy.allowed_environments
        or policy.require_agent_pin
        or agent_pin_required
    )


class PolicyGate:
    """The spec's ``PolicyGate``: `evaluate` as a method, for injection and substitution."""

    def evaluate(self, job: Job, context: PolicyContext) -> SchedulePolicyDecision:
        """Decide whether *job* may run now; see `evaluate`."""
        return evaluate(job, context)


def _environment(job: Job, context: PolicyContext) -> str | None:
    allowed = job.policy.allowed_environments
    if not allowed or context.environment in allowed:
        return None
    where = context.environment or "no environment (SYMBI_ENV is not set)"
    return f"environment {where!r} is not in allowed_environments {list(allowed)}"


def _hours(job: Job, context: PolicyContext) -> str | None:
    window = job.policy.allowed_hours
    if window is None or in_window(window, context.now):
        return None
    return (
        f"{_local(window, context.now):%H:%M} {window.timezone} is outside allowed_hours"
        f" {window.start:%H:%M}-{window.end:%H:%M}"
    )


def in_window(window: AllowedHours, moment: datetime) -> bool:
    """Whether *moment* falls in the daily window (start inclusive, end exclusive).

    A window whose end is not after its start wraps midnight (22:00-04:00); one whose
    start equals its end covers the whole day.
    """
    local = _local(window, moment).time().replace(tzinfo=None)
    start, end = window.start, window.end
    if start == end:
        return True
    if start < end:
        return start <= local < end
    return local >= start or local < end


def _local(window: AllowedHours, moment: datetime) -> datetime:
    return moment.astimezone(ZoneInfo(window.timezone))


def _capabilities(job: Job, context: PolicyContext) -> str | None:
    missing = [c for c in job.policy.require_capabilities if c not in context.capabilities]
    if not missing:
        return None
    return f"agent {job.agent_id!r} lacks required capabilities {missing}"


def _agent_pin(job: Job, context: PolicyContext) -> str | None:
    if not (job.policy.require_agent_pin or context.agent_pin_required):
        return None
    if not job.agent_pin_jwt:
        return "an AgentPin credential is required but the job has no agent_pin_jwt"
    if context.agent_pin is None:
        return "an AgentPin credential is required but was not verified"
    if not context.agent_pin.ok:
        return f"AgentPin verification failed: {context.agent_pin.reason}"
    return None
