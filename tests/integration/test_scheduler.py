"""CronScheduler on a real SQLite store with a fake clock and a scripted dispatcher."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest

from symbiont.core.enums import JobStatus, RunStatus, RunTrigger, SecurityEventType
from symbiont.core.ids import new_id
from symbiont.core.models import Run
from symbiont.scheduler import daemon
from symbiont.scheduler.daemon import CronScheduler, SchedulerSettings
from symbiont.scheduler.planner import OccurrencePlanner
from symbiont.service import JobService
from symbiont.store import SQLiteJobStore
from symbiont.store.base import AuditFilter, JobStore, RunFilter, RunOutcome
from symbiont.testing import FakeClock, ScriptedDispatcher, wait_until

pytestmark = pytest.mark.anyio
T0 = datetime(2026, 3, 2, 8, 0, 0, 500_000, tzinfo=UTC)


@dataclass
class Harness:
    """A running scheduler with its store, service, clock and dispatcher."""

    store: JobStore
    service: JobService
    clock: FakeClock
    dispatcher: ScriptedDispatcher
    scheduler: CronScheduler

    async def job(self, **fields: Any) -> str:
        """Create a job and tell the scheduler."""
        job = await self.service.create_job({"agent_id": "a", **fields}, actor="t")
        self.scheduler.wake()
        return job.id

    async def runs(self, job_id: str, **kw: Any) -> list[Any]:
        """Return a job's runs, newest first."""
        return await self.store.list_runs(RunFilter(job_id=job_id, limit=1000, **kw))

    async def until(self, check: Callable[[], Awaitable[bool]]) -> None:
        """Wait (real time, bounded) until *check* holds."""
        await wait_until(check)

    async def advance(self, seconds: float) -> None:
        """Move the fake clock and let the scheduler react.

        The wake-up closes a race that only fake time has: a tick that computed its sleep
        before the jump but starts sleeping after it would sleep past the new "now".
        """
        self.clock.advance(seconds=seconds)
        self.scheduler.wake()
        await anyio.sleep(0.01)

    async def advance_until(self, check: Callable[[], Awaitable[bool]], seconds: float) -> None:
        """Step fake time by *seconds* until *check* holds (bounded in real time).

        For what the scheduler's periodic loops do (reaping, retention): stepping until the
        effect shows, not a fixed number of steps, so a busy machine cannot miss a jump.
        """

        async def stepped() -> bool:
            if await check():
                return True
            await self.advance(seconds)
            return False

        await wait_until(stepped)


@asynccontextmanager
async def harness(tmp_path: Path, **settings: Any) -> AsyncIterator[Harness]:
    """Run a scheduler on a fresh SQLite store for the duration of the block."""
    async with SQLiteJobStore(tmp_path / "s.db") as store:
        clock = FakeClock(T0)
        dispatcher = ScriptedDispatcher()
        config = SchedulerSettings(node_id="n1", **settings)
        scheduler = CronScheduler(store, dispatcher, clock, config, rng=random.Random(7))  # noqa: S311 - jitter
        h = Harness(store, JobService(store, clock), clock, dispatcher, scheduler)
        async with anyio.create_task_group() as tg:
            await tg.start(scheduler.run)
            try:
                yield h
            finally:
                scheduler.stop()


def _succeeded(h: Harness, job_id: str, count: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return len(await h.runs(job_id, status=RunStatus.succeeded)) >= count

    return check


async def test_cron_job_runs_on_time(tmp_path: Path) -> None:
    """A job due every minute runs once per minute, at its occurrence, with its result stored."""
    async with harness(tmp_path) as h:
        job_id = await h.job(name="minutely", cron_expr="0 * * * * *")
        await h.advance(60)
        await h.until(_succeeded(h, job_id, 1))
        await h.advance(60)
        await h.until(_succeeded(h, job_id, 2))
        runs = await h.runs(job_id)
        assert [r.scheduled_for for r in runs] == [
            datetime(2026, 3, 2, 8, 2, tzinfo=UTC),
            datetime(2026, 3, 2, 8, 1, tzinfo=UTC),
        ]
        assert {(r.trigger, r.node_id, r.output) for r in runs} == {
            (RunTrigger.schedule, "n1", "ok minutely")
        }
        job = await h.service.get_job(job_id)
        assert (job.run_count, job.next_run) == (2, datetime(2026, 3, 2, 8, 3, tzinfo=UTC))


async def test_run_now_is_picked_up(tmp_path: Path) -> None:
    """A manual run queued through the service starts without waiting for the schedule."""
    async with harness(tmp_path) as h:
        job_id = await h.job(name="manual", cron_expr="@yearly")
        run = await h.service.trigger_run(job_id, actor="t", input="now please")
        h.scheduler.wake()
        await h.until(_succeeded(h, job_id, 1))
        assert h.dispatcher.calls[0][1].id == run.id
        assert h.dispatcher.calls[0][1].input == "now please"


async def test_failures_dead_letter_the_job(tmp_path: Path) -> None:
    """Consecutive failures reach max_retries; the job stops and is dead-lettered."""
    async with harness(tmp_path) as h:
        job_id = await h.job(name="flaky", cron_expr="* * * * * *", max_retries=2)
        h.dispatcher.script(
            "flaky", lambda _j, _r: RunOutcome(status=RunStatus.failed, error_message="boom")
        )
        for _ in range(2):
            await h.advance(1)
        await h.until(lambda: _status(h, job_id, JobStatus.dead_letter))
        await h.advance(5)
        failed = await h.runs(job_id, status=RunStatus.failed)
        assert len(failed) == 2
        events = await h.store.list_audit(AuditFilter(type=SecurityEventType.CronJobDeadLettered))
        assert [e.job_id for e in events] == [job_id]


async def _status(h: Harness, job_id: str, status: JobStatus) -> bool:
    return (await h.store.get_job(job_id)).status is status


async def test_max_concurrent_skips_overlapping_occurrences(tmp_path: Path) -> None:
    """While a run is still going, the next occurrence is recorded skipped with the reason."""
    async with harness(tmp_path) as h:
        job_id = await h.job(name="slow", cron_expr="* * * * * *", max_concurrent=1)
        h.dispatcher.hold("slow")
        await h.advance(1)
        await h.until(lambda: _running(h, "slow", 1))
        await h.advance(1)

        async def skipped() -> bool:
            return bool(await h.runs(job_id, status=RunStatus.skipped))

        await h.until(skipped)
        h.dispatcher.release("slow")
        await h.until(_succeeded(h, job_id, 1))
        skip = (await h.runs(job_id, status=RunStatus.skipped))[0]
        assert "max_concurrent=1" in (skip.error_message or "")


async def _running(h: Harness, name: str, count: int) -> bool:
    return h.dispatcher.running[name] >= count


async def test_global_limit_queues_instead_of_dropping(tmp_path: Path) -> None:
    """Beyond max_concurrent_jobs runs wait queued, then all of them run."""
    async with harness(tmp_path, max_concurrent_jobs=1) as h:
        a = await h.job(name="a", cron_expr="0 * * * * *")
        b = await h.job(name="b", cron_expr="0 * * * * *")
        h.dispatcher.hold("a")
        h.dispatcher.hold("b")
        await h.advance(60)
        await h.until(lambda: _any_running(h))
        queued = await h.store.list_runs(RunFilter(status=RunStatus.queued))
        assert len(queued) == 1
        first = "a" if h.dispatcher.running["a"] else "b"
        second = "b" if first == "a" else "a"
        assert h.dispatcher.running[second] == 0
        h.dispatcher.release(first)
        await h.until(lambda: _running(h, second, 1))
        h.dispatcher.release(second)
        await h.until(_succeeded(h, a, 1))
        await h.until(_succeeded(h, b, 1))


class _CountingStore:
    """The real store, counting the scheduler's looks at what is due."""

    def __init__(self, store: JobStore) -> None:
        self._store = store
        self.looks = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def next_due_time(self) -> datetime | None:
        self.looks += 1
        return await self._store.next_due_time()


async def test_saturated_node_holds_only_what_it_runs(tmp_path: Path) -> None:
    """With every slot busy, due work waits in the store's shared queue.

    The node holds only what it runs, and its tick loop waits for a slot instead of
    spinning; then everything runs.
    """
    async with harness(tmp_path, max_concurrent_jobs=2) as h:
        counting = _CountingStore(h.store)
        h.scheduler.store = counting  # type: ignore[assignment] - same protocol, counted
        names = [f"j{i}" for i in range(6)]
        for name in names:
            h.dispatcher.hold(name)
            await h.job(name=name, cron_expr="0 * * * * *")
        await h.advance(60)

        async def two_running() -> bool:
            return sum(h.dispatcher.running.values()) == 2

        await h.until(two_running)
        queued = await h.store.list_runs(RunFilter(status=RunStatus.queued))
        assert len(queued) == 4
        assert {r.node_id for r in queued} == {None}  # in the shared queue, not held
        assert h.scheduler.stats.held == 2  # what the node holds in memory
        looks = counting.looks
        await anyio.sleep(0.3)  # real time passes; fake time does not: no tick is due
        assert counting.looks - looks <= 1
        for name in names:
            h.dispatcher.release(name)
        for name in names:
            job = await h.service.get_job(name)
            await h.until(_succeeded(h, job.id, 1))


async def _held_queued(h: Harness, count: int) -> bool:
    queued = await h.store.list_runs(RunFilter(status=RunStatus.queued))
    return sum(r.node_id == "n1" for r in queued) == count


async def test_occurrences_are_claimed_ahead_and_start_at_their_time(tmp_path: Path) -> None:
    """Within fire_ahead of their time, occurrences are claimed and held, not started.

    At their time they start together, each recorded as started then.
    """
    async with harness(tmp_path, fire_ahead_min=3) as h:
        ids = [await h.job(name=f"j{i}", cron_expr="0 * * * * *") for i in range(3)]
        await h.advance(59)  # 08:00:59.5: the 08:01:00 occurrences are half a second away
        await h.until(lambda: _held_queued(h, 3))
        assert h.dispatcher.calls == []
        await h.advance(0.5)
        for job_id in ids:
            await h.until(_succeeded(h, job_id, 1))
            run = (await h.runs(job_id))[0]
            assert run.scheduled_for == run.started_at == datetime(2026, 3, 2, 8, 1, tzinfo=UTC)


async def test_a_burst_larger_than_the_look_ahead_read_is_counted_and_claimed_ahead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the read of upcoming jobs is cut short, the burst is counted in the store.

    (The read is capped at 20,000 jobs; here at 2, with a burst of 5.)
    """
    monkeypatch.setattr(daemon, "_LOOKAHEAD_JOBS", 2)
    async with harness(tmp_path, fire_ahead_min=4) as h:
        ids = [await h.job(name=f"j{i}", cron_expr="0 * * * * *") for i in range(5)]
        await h.advance(59)  # 08:00:59.5: the 08:01:00 occurrences are half a second away
        await h.until(lambda: _held_queued(h, 5))
        assert h.dispatcher.calls == []
        await h.advance(0.5)
        for job_id in ids:
            await h.until(_succeeded(h, job_id, 1))


async def test_an_instant_below_fire_ahead_min_is_claimed_only_when_due(tmp_path: Path) -> None:
    """Fewer occurrences than fire_ahead_min at one instant: none is claimed before it.

    So a job's history never shows its next occurrence queued ahead of time (only bursts
    are claimed ahead).
    """

    async def looked(h: Harness) -> bool:
        return (
            h.scheduler.stats.last_tick is not None and h.scheduler.stats.last_tick >= h.clock.now()
        )

    async with harness(tmp_path, fire_ahead_min=4) as h:
        ids = [await h.job(name=f"j{i}", cron_expr="0 * * * * *") for i in range(3)]
        await h.advance(59)  # 08:00:59.5: within fire_ahead of 08:01:00
        await h.until(lambda: looked(h))
        await h.advance(0.1)  # a second look starts only after the first one ended
        await h.until(lambda: looked(h))
        assert await h.store.list_runs(RunFilter()) == []
        await h.advance(0.4)
        for job_id in ids:
            await h.until(_succeeded(h, job_id, 1))


async def test_claimed_ahead_run_is_checked_against_max_concurrent_at_its_time(
    tmp_path: Path,
) -> None:
    """max_concurrent is checked when a claimed-ahead occurrence starts, not when claimed.

    A run still going at the claim but ended by the occurrence's time does not skip it;
    one still going at that time does.
    """
    async with harness(tmp_path, fire_ahead_min=1) as h:
        job_id = await h.job(name="busy", cron_expr="0 * * * * *", max_concurrent=1)
        h.dispatcher.hold("busy")
        await h.advance(60)  # 08:01:00.5: the first occurrence runs and is held
        await h.until(lambda: _running(h, "busy", 1))
        await h.advance(59)  # 08:01:59.5: the next one is claimed ahead
        await h.until(lambda: _held_queued(h, 1))
        h.dispatcher.release("busy")
        await h.until(_succeeded(h, job_id, 1))
        await h.advance(0.5)
        await h.until(_succeeded(h, job_id, 2))
        h.dispatcher.hold("busy")
        await h.advance(60)  # 08:03:00: runs and is held
        await h.until(lambda: _running(h, "busy", 1))
        await h.advance(59.5)  # 08:03:59.5: claimed ahead while the other still runs
        await h.until(lambda: _held_queued(h, 1))
        await h.advance(0.5)  # 08:04:00: the job is full at its time

        async def skipped() -> bool:
            return bool(await h.runs(job_id, status=RunStatus.skipped))

        await h.until(skipped)
        h.dispatcher.release("busy")
        await h.until(_succeeded(h, job_id, 3))


async def test_shutdown_gives_claimed_ahead_runs_back(tmp_path: Path) -> None:
    """Stopping before the armed instant returns its runs to the queue, unstarted."""
    async with harness(tmp_path, fire_ahead_min=3) as h:
        ids = [await h.job(name=f"s{i}", cron_expr="0 * * * * *") for i in range(3)]
        await h.advance(59)
        await h.until(lambda: _held_queued(h, 3))
    async with SQLiteJobStore(tmp_path / "s.db") as store:
        for job_id in ids:
            runs = await store.list_runs(RunFilter(job_id=job_id))
            assert [(r.status, r.node_id, r.started_at) for r in runs] == [
                (RunStatus.queued, None, None)
            ]


async def _any_running(h: Harness) -> bool:
    return any(h.dispatcher.running.values())


async def test_one_shot_job_completes(tmp_path: Path) -> None:
    """An `at` job runs once at its time and becomes completed."""
    async with harness(tmp_path) as h:
        job_id = await h.job(name="once", at="2026-03-02T08:00:30Z")
        await h.advance(30)
        await h.until(lambda: _status(h, job_id, JobStatus.completed))
        assert len(await h.runs(job_id)) == 1


async def test_retry_delay_retries_before_next_occurrence(tmp_path: Path) -> None:
    """A failed occurrence is retried after retry_delay as attempt 2."""
    async with harness(tmp_path) as h:
        job_id = await h.job(name="r", cron_expr="0 0 * * * *", retry_delay="30s", max_retries=5)
        outcomes = iter([RunStatus.failed, RunStatus.succeeded])
        h.dispatcher.script("r", lambda _j, _r: RunOutcome(status=next(outcomes)))
        await h.advance(3600)

        async def retry_queued() -> bool:
            return len(await h.runs(job_id)) == 2

        await h.until(retry_queued)
        await h.advance(30)
        await h.until(_succeeded(h, job_id, 1))
        runs = await h.runs(job_id)
        retry = next(r for r in runs if r.trigger is RunTrigger.retry)
        assert (retry.attempt, retry.status) == (2, RunStatus.succeeded)


async def test_jitter_delays_start_without_holding_a_slot(tmp_path: Path) -> None:
    """A jittered run waits its delay while another job uses the only slot."""
    async with harness(tmp_path, max_concurrent_jobs=1) as h:
        jittery = await h.job(name="jittery", cron_expr="0 * * * * *", jitter_seconds=30)
        plain = await h.job(name="plain", cron_expr="0 * * * * *")
        await h.advance(60)
        await h.until(_succeeded(h, plain, 1))
        assert await h.runs(jittery, status=RunStatus.succeeded) == []
        await h.advance(30)
        await h.until(_succeeded(h, jittery, 1))
        run = (await h.runs(jittery))[0]
        assert run.started_at is not None
        assert run.started_at > run.scheduled_for


async def test_missed_runs_on_startup_follow_misfire_policy(tmp_path: Path) -> None:
    """After downtime, run_once runs the latest missed occurrence once as a catch-up."""
    async with SQLiteJobStore(tmp_path / "s.db") as store:
        service = JobService(store, FakeClock(T0))
        job = await service.create_job(
            {"name": "m", "agent_id": "a", "cron_expr": "0 * * * * *"}, actor="t"
        )
    async with harness(tmp_path) as h:
        await h.advance(570)  # the daemon "was down": 08:01 to 08:09 were missed
        await h.until(_succeeded(h, job.id, 1))
        runs = await h.runs(job.id)
        assert [(r.scheduled_for.minute, r.status, r.trigger) for r in runs] == [
            (9, RunStatus.succeeded, RunTrigger.catchup),
            (8, RunStatus.skipped, RunTrigger.catchup),
        ]
        assert "8 occurrences missed" in (runs[1].error_message or "")


async def test_catchup_disabled_skips_missed_runs(tmp_path: Path) -> None:
    """With enable_missed_run_catchup off, missed occurrences are recorded, not run."""
    async with SQLiteJobStore(tmp_path / "s.db") as store:
        service = JobService(store, FakeClock(T0))
        job = await service.create_job(
            {"name": "m", "agent_id": "a", "cron_expr": "0 0 * * * *"}, actor="t"
        )
    async with harness(tmp_path, planner=OccurrencePlanner(catchup=False)) as h:
        await h.advance(3 * 3600 - 600)  # 09:00 and 10:00 were missed; 11:00 is not due yet

        async def recorded() -> bool:
            return bool(await h.runs(job.id, status=RunStatus.skipped))

        await h.until(recorded)
        assert h.dispatcher.calls == []


async def test_shutdown_interrupts_and_queues_recovery(tmp_path: Path) -> None:
    """A run still going at shutdown is recorded interrupted and queued again as attempt 2."""
    async with harness(tmp_path, shutdown_timeout=timedelta(seconds=0.2)) as h:
        job_id = await h.job(name="long", cron_expr="0 * * * * *")
        h.dispatcher.hold("long")
        await h.advance(60)
        await h.until(lambda: _running(h, "long", 1))
    async with SQLiteJobStore(tmp_path / "s.db") as store:
        runs = await store.list_runs(RunFilter(job_id=job_id))
    assert [(r.attempt, r.status, r.trigger) for r in runs] == [
        (2, RunStatus.queued, RunTrigger.recovery),
        (1, RunStatus.interrupted, RunTrigger.schedule),
    ]


async def test_a_cancelled_scheduler_interrupts_its_runs_before_returning(tmp_path: Path) -> None:
    """Cancelled from outside (not stopped): no run task outlives it, each run is recorded."""
    async with SQLiteJobStore(tmp_path / "s.db") as store:
        clock = FakeClock(T0)
        dispatcher = ScriptedDispatcher()
        scheduler = CronScheduler(store, dispatcher, clock, SchedulerSettings(node_id="n1"))
        h = Harness(store, JobService(store, clock), clock, dispatcher, scheduler)
        async with anyio.create_task_group() as tg:
            await tg.start(scheduler.run)
            job_id = await h.job(name="long", cron_expr="0 * * * * *")
            dispatcher.hold("long")
            await h.advance(60)
            await h.until(lambda: _running(h, "long", 1))
            tg.cancel_scope.cancel()
        runs = await store.list_runs(RunFilter(job_id=job_id))
    assert [(r.attempt, r.status, r.trigger) for r in runs] == [
        (2, RunStatus.queued, RunTrigger.recovery),
        (1, RunStatus.interrupted, RunTrigger.schedule),
    ]


async def test_dead_node_runs_are_recovered(tmp_path: Path) -> None:
    """A run held by a node that stopped renewing its lease is interrupted and run again."""
    async with harness(tmp_path, lease=timedelta(seconds=30)) as h:
        job_id = await h.job(name="orphan", cron_expr="@yearly")
        # another node started a run of it, then died without renewing its lease
        await h.store.create_run(
            Run(
                id=new_id(),
                job_id=job_id,
                job_name="orphan",
                trigger=RunTrigger.manual,
                scheduled_for=T0,
                status=RunStatus.running,
                node_id="dead",
                started_at=T0,
                lease_expires_at=T0 + timedelta(seconds=30),
                created_at=T0,
            )
        )
        await h.advance_until(_succeeded(h, job_id, 1), seconds=20)
        runs = await h.runs(job_id)
        assert [(r.attempt, r.status, r.trigger) for r in runs] == [
            (2, RunStatus.succeeded, RunTrigger.recovery),
            (1, RunStatus.interrupted, RunTrigger.manual),
        ]


async def test_retention_prunes_finished_history_and_keeps_open_runs(tmp_path: Path) -> None:
    """With history_max_per_job the daemon deletes older finished runs; a running one stays."""
    async with harness(tmp_path, history_max_per_job=2, prune_interval=timedelta(seconds=30)) as h:
        job_id = await h.job(name="often", cron_expr="*/5 * * * * *", max_concurrent=1)
        for count in range(1, 5):
            await h.advance(5)
            await h.until(_succeeded(h, job_id, count))
        h.dispatcher.hold("often")
        await h.advance(5)
        await h.until(lambda: _running(h, "often", 1))

        async def skipped_twice() -> bool:
            return len(await h.runs(job_id, status=RunStatus.skipped)) >= 2

        async def old_successes_gone() -> bool:
            return not await h.runs(job_id, status=RunStatus.succeeded)

        # the job is full: later occurrences are recorded skipped, newer than the successes
        await h.advance(5)
        await h.advance(5)
        await h.until(skipped_twice)
        await h.advance_until(old_successes_gone, seconds=30)  # until a retention pass ran
        assert len(await h.runs(job_id, status=RunStatus.running)) == 1
        h.dispatcher.release("often")
