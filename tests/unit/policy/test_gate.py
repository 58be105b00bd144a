"""The policy gate: every condition of the spec, as a pure function of job and context."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from symbiont.core.models import Allow, AllowedHours, Deny, Job, Policy, RequireApproval
from symbiont.policy import PinCheck, PolicyContext, PolicyGate, evaluate
from symbiont.policy.gate import gated

NOW = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)  # a Monday, 23:30 UTC


def job(**policy: object) -> Job:
    """A job with the given policy fields."""
    return Job(
        id="j",
        name="deploy",
        agent_id="deployer",
        cron_expr="@daily",
        policy=Policy(**policy),  # type: ignore[arg-type]
        agent_pin_jwt="${PIN}",
        created_at=NOW,
        updated_at=NOW,
    )


def test_no_policy_allows() -> None:
    """A job without conditions is allowed."""
    assert evaluate(job(), PolicyContext(now=NOW)) == Allow()


def test_max_runtime_is_not_a_gate() -> None:
    """max_runtime never denies: the runtime enforces it while the agent runs."""
    assert evaluate(job(max_runtime=timedelta(minutes=5)), PolicyContext(now=NOW)) == Allow()


@pytest.mark.parametrize(
    ("start", "end", "zone", "moment", "allowed"),
    [
        (time(0), time(4), "UTC", NOW.replace(hour=3, minute=59), True),
        (time(0), time(4), "UTC", NOW.replace(hour=4, minute=0), False),
        (time(22), time(4), "UTC", NOW, True),  # wraps midnight: 23:30 is inside
        (time(22), time(4), "UTC", NOW.replace(hour=12), False),
        (time(22), time(4), "UTC", NOW.replace(hour=2), True),
        (time(9), time(17), "Europe/Berlin", NOW.replace(hour=8), True),  # 09:00 in Berlin
        (time(9), time(17), "Europe/Berlin", NOW.replace(hour=7, minute=59), False),
        (time(6), time(6), "UTC", NOW, True),  # equal ends: the whole day
    ],
)
def test_allowed_hours(start: time, end: time, zone: str, moment: datetime, allowed: bool) -> None:
    """allowed_hours is read in its zone (UTC by default), wraps midnight, excludes its end."""
    hours = AllowedHours(start=start, end=end, timezone=zone)
    decision = evaluate(job(allowed_hours=hours), PolicyContext(now=moment))
    assert isinstance(decision, Allow) is allowed
    if not allowed:
        assert isinstance(decision, Deny)
        assert "is outside allowed_hours" in decision.reason


def test_environment_restriction() -> None:
    """Only the listed environments may run the job; the reason names the environment."""
    restricted = job(allowed_environments=("staging", "production"))
    assert evaluate(restricted, PolicyContext(now=NOW, environment="production")) == Allow()
    denied = evaluate(restricted, PolicyContext(now=NOW, environment="dev"))
    assert denied == Deny(
        reason="environment 'dev' is not in allowed_environments ['staging', 'production']"
    )
    unset = evaluate(restricted, PolicyContext(now=NOW))
    assert isinstance(unset, Deny)
    assert "SYMBI_ENV is not set" in unset.reason


def test_capabilities() -> None:
    """The agent must declare every required capability; the missing ones are named."""
    needy = job(require_capabilities=("deployment", "production_write"))
    ok = PolicyContext(now=NOW, capabilities=("deployment", "production_write", "x"))
    assert evaluate(needy, ok) == Allow()
    partial = PolicyContext(now=NOW, capabilities=("deployment",))
    assert evaluate(needy, partial) == Deny(
        reason="agent 'deployer' lacks required capabilities ['production_write']"
    )


def test_agent_pin() -> None:
    """A required credential must have verified; its failure reason is carried."""
    pinned = job(require_agent_pin=True)
    assert evaluate(pinned, PolicyContext(now=NOW, agent_pin=PinCheck(ok=True))) == Allow()
    failed = PolicyContext(now=NOW, agent_pin=PinCheck(ok=False, reason="token expired"))
    assert evaluate(pinned, failed) == Deny(reason="AgentPin verification failed: token expired")
    missing = evaluate(pinned, PolicyContext(now=NOW))
    assert isinstance(missing, Deny)
    globally = PolicyContext(now=NOW, agent_pin_required=True)
    assert isinstance(evaluate(job(), globally), Deny)


def test_approval_comes_last() -> None:
    """A run that needs approval asks for it only if nothing else denies it."""
    gated = job(require_approval=True, approvers=("alice",), allowed_environments=("prod",))
    asked = evaluate(gated, PolicyContext(now=NOW, environment="prod"))
    assert isinstance(asked, RequireApproval)
    assert asked.approvers == ("alice",)
    assert isinstance(evaluate(gated, PolicyContext(now=NOW, environment="dev")), Deny)
    approved = PolicyContext(now=NOW, environment="prod", approved_by="alice")
    assert evaluate(gated, approved) == Allow()


def test_gate_object_matches_function() -> None:
    """PolicyGate.evaluate is the same decision as evaluate."""
    gated = job(require_approval=True)
    context = PolicyContext(now=NOW)
    assert PolicyGate().evaluate(gated, context) == evaluate(gated, context)


@pytest.mark.parametrize(
    "condition",
    [
        {"require_approval": True},
        {"require_capabilities": ("shell",)},
        {"allowed_hours": AllowedHours(start=time(0), end=time(1))},
        {"allowed_environments": ("production",)},
        {"require_agent_pin": True},
    ],
)
def test_every_condition_makes_a_job_gated(condition: dict[str, object]) -> None:
    """`gated` is True for each condition that can hold a run back (runs skip the gate else)."""
    gated_job = job(**condition)
    assert gated(gated_job)
    assert not isinstance(evaluate(gated_job, PolicyContext(now=NOW)), Allow)


def test_a_job_without_conditions_is_not_gated_unless_the_daemon_requires_agentpin() -> None:
    """Only max_runtime set: nothing to check, unless SYMBI_AGENTPIN_REQUIRED is on."""
    plain = job(max_runtime=timedelta(minutes=5))
    assert not gated(plain)
    assert gated(plain, agent_pin_required=True)
    assert isinstance(evaluate(plain, PolicyContext(now=NOW, agent_pin_required=True)), Deny)
