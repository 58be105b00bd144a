"""The policy gate inside the scheduler: denials, approvals, expiry and AgentPin failures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest

from symbiont.core.enums import JobStatus, RunStatus, SecurityEventType
from symbiont.core.errors import AgentPinError
from symbiont.dsl import parse_text
from symbiont.runtime.base import RuntimeSettings
from symbiont.scheduler.daemon import CronScheduler, SchedulerSettings
from symbiont.scheduler.dispatch import AgentDispatcher, AgentRegistry, GateSettings
from symbiont.service import JobService
from symbiont.store import SQLiteJobStore
from symbiont.store.base import AuditFilter, JobStore, RunFilter
from symbiont.testing import FakeClock, wait_until

pytestmark = pytest.mark.anyio
T0 = datetime(2026, 3, 2, 8, 0, 0, 500_000, tzinfo=UTC)
AGENTS = parse_text(
    """
    agent echo { handler: "symbiont.testing.agents:echo" capabilities: ["deployment"] }
    """
).agents


class ExpiredPins:
    """A verifier that refuses every credential, as a real one does an expired token."""

    def __init__(self) -> None:
        self.tokens: list[str] = []

    async def verify(self, token: str, *, agent_id: str, domain: str | None) -> object:
        """Record the (resolved) token and refuse it."""
        del agent_id, domain
        self.tokens.append(token)
        raise AgentPinError("token expired at 2026-03-01T00:00:00Z")


@dataclass
class Node:
    """A scheduler with a real dispatcher on a fresh store."""

    store: JobStore
    service: JobService
    clock: FakeClock

    async def runs(self, name: str) -> list[Any]:
        """Runs of the job called *name*, newest first."""
        return await self.service.history(name, RunFilter(limit=100))

    async def wait_status(self, name: str, status: RunStatus) -> Any:
        """Wait until the job's newest run has *status*; return it."""

        async def check() -> bool:
            runs = await self.runs(name)
            return bool(runs) and runs[0].status is status

        await wait_until(check)
        return (await self.runs(name))[0]


@asynccontextmanager
async def node(tmp_path: Path, gate: GateSettings, pin: Any = None) -> AsyncIterator[Node]:
    """Run a scheduler whose dispatcher applies *gate*."""
    async with SQLiteJobStore(tmp_path / "p.db") as store:
        clock = FakeClock(T0)
        registry = AgentRegistry({a.name: a for a in AGENTS})
        settings = RuntimeSettings(environ={"PIN": "eyJ.secret.token"})
        dispatcher = AgentDispatcher(store, registry, settings, clock, gate=gate, pin=pin)
        scheduler = CronScheduler(store, dispatcher, clock, SchedulerSettings(node_id="n"))
        service = JobService(store, clock)
        service.on_change = scheduler.wake
        async with anyio.create_task_group() as tg:
            await tg.start(scheduler.run)
            try:
                yield Node(store, service, clock)
            finally:
                scheduler.stop()


async def _job(n: Node, **fields: Any) -> None:
    await n.service.create_job({"agent_id": "echo", "cron_expr": "@yearly", **fields}, actor="t")


async def test_denied_run_is_recorded_and_not_counted(tmp_path: Path) -> None:
    """A run outside the allowed environments is denied with the reason and no failure count."""
    async with node(tmp_path, GateSettings(environment="dev")) as n:
        await _job(n, name="deploy", max_retries=1, policy={"allowed_environments": ["prod"]})
        await n.service.trigger_run("deploy", actor="t")
        run = await n.wait_status("deploy", RunStatus.denied)
        assert run.error_message == "environment 'dev' is not in allowed_environments ['prod']"
        job = await n.service.get_job("deploy")
        assert (job.status, job.failure_count) == (JobStatus.active, 0)
        events = await n.service.audit(AuditFilter(type=SecurityEventType.CronJobDenied))
        assert [e.run_id for e in events] == [run.id]


async def test_approval_gates_the_run_until_an_approver_answers(tmp_path: Path) -> None:
    """A run waits pending_approval, then runs once a named approver approves it."""
    async with node(tmp_path, GateSettings()) as n:
        await _job(n, name="gated", policy={"require_approval": True, "approvers": ["alice"]})
        await n.service.trigger_run("gated", actor="t")
        pending = await n.wait_status("gated", RunStatus.pending_approval)
        assert pending.details["policy"]["approvers"] == ["alice"]
        await n.service.approve_run(pending.id, actor="alice")
        done = await n.wait_status("gated", RunStatus.succeeded)
        assert (done.id, done.details["approved_by"]) == (pending.id, "alice")
        kinds = [e.type for e in await n.service.audit()]
        assert kinds.index(SecurityEventType.CronJobApprovalRequested) < kinds.index(
            SecurityEventType.CronJobApproved
        )


async def test_unanswered_approval_expires(tmp_path: Path) -> None:
    """A pending run nobody answers is cancelled after the approval timeout, audited."""
    async with node(tmp_path, GateSettings()) as n:
        await _job(n, name="gated", policy={"require_approval": True})
        await n.service.trigger_run("gated", actor="t")
        await n.wait_status("gated", RunStatus.pending_approval)
        started = n.clock.now()

        async def expired() -> bool:
            # Time passes in steps the reaper notices, until it expires the run; stepping until
            # then (not a fixed count) keeps a busy machine from missing a fake-time jump.
            runs = await n.runs("gated")
            if runs[0].status is RunStatus.cancelled:
                return True
            n.clock.advance(timedelta(minutes=15))
            await anyio.sleep(0.01)
            return False

        await wait_until(expired)
        run = (await n.runs("gated"))[0]
        assert n.clock.now() - started > timedelta(hours=1)  # not before the approval timeout
        assert "approval was not given before the deadline" in run.error_message
        events = await n.service.audit(AuditFilter(type=SecurityEventType.CronJobExpired))
        assert [e.run_id for e in events] == [run.id]


async def test_agent_pin_failure_denies_and_is_audited(tmp_path: Path) -> None:
    """A credential that does not verify denies the run and emits the verification failure."""
    pins = ExpiredPins()
    async with node(tmp_path, GateSettings(agent_pin_domain="example.com"), pin=pins) as n:
        await _job(n, name="pinned", agent_pin_jwt="${PIN}", policy={"require_agent_pin": True})
        await n.service.trigger_run("pinned", actor="t")
        run = await n.wait_status("pinned", RunStatus.denied)
        assert run.error_message == (
            "AgentPin verification failed: token expired at 2026-03-01T00:00:00Z"
        )
        assert pins.tokens == ["eyJ.secret.token"]  # the template was resolved for the check
        events = await n.service.audit(
            AuditFilter(type=SecurityEventType.AgentPinVerificationFailed)
        )
        assert events[0].details["reason"] == "token expired at 2026-03-01T00:00:00Z"
        every = " ".join(str(e.details) for e in await n.service.audit())
        assert "eyJ.secret.token" not in every


async def test_missing_capability_denies(tmp_path: Path) -> None:
    """An agent without a required capability is denied; with it, the run proceeds."""
    async with node(tmp_path, GateSettings()) as n:
        await _job(n, name="needs", policy={"require_capabilities": ["deployment", "prod_write"]})
        await n.service.trigger_run("needs", actor="t")
        run = await n.wait_status("needs", RunStatus.denied)
        assert "lacks required capabilities ['prod_write']" in run.error_message
