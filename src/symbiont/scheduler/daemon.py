"""`CronScheduler`: the tick loop that claims due occurrences and runs them, with leases."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

import anyio
import structlog
from anyio.abc import TaskGroup, TaskStatus

from symbiont.core.clock import Clock
from symbiont.core.enums import JobStatus, RunStatus, RunTrigger
from symbiont.core.events import EventBus, RunClaimed, RunFinished, RunStarted
from symbiont.core.ids import new_id
from symbiont.core.models import Job, JobSchedule, Run
from symbiont.scheduler.planner import OccurrencePlanner
from symbiont.store.base import ClaimedRun, FinishedRun, JobStore, RunOutcome

_log = structlog.get_logger("symbiont.scheduler")
_FAILED = frozenset({RunStatus.failed, RunStatus.timed_out})


class Dispatcher(Protocol):
    """Runs one started run of a job to its outcome (policy, session, agent, delivery)."""

    async def __call__(self, job: Job, run: Run) -> RunOutcome:
        """Run *run* and report how it ended; never raise for an agent's failure."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class SchedulerSettings:
    """How one scheduler node behaves (``[scheduler]`` in the configuration)."""

    node_id: str
    """Names this node in run records, leases and audit actors."""
    tick_interval: timedelta = timedelta(seconds=1)
    """Longest sleep between two looks at the store."""
    max_jitter: timedelta = timedelta(0)
    """Global random start delay cap; a job's ``jitter_seconds`` can raise it for that job."""
    max_concurrent_jobs: int = 100
    """Runs executing at once on this node; more wait ``queued``."""
    default_max_retries: int = 3
    """Failures before dead-letter for jobs that set no ``max_retries``."""
    shutdown_timeout: timedelta = timedelta(seconds=60)
    """How long a shutdown waits for running runs before cancelling them."""
    lease: timedelta = timedelta(seconds=30)
    """How long a node's hold on a run lasts without renewal."""
    claim_batch: int = 500
    """Most occurrences claimed per store transaction."""
    planner: OccurrencePlanner = field(default_factory=OccurrencePlanner)
    """Misfire rules (``enable_missed_run_catchup`` lives here)."""


@dataclass(slots=True)
class SchedulerStats:
    """Live counters of one node, for health and metrics."""

    started_at: datetime | None = None
    last_tick: datetime | None = None
    in_flight: int = 0
    held: int = 0
    claimed_total: int = 0
    finished: dict[str, int] = field(default_factory=dict)
    execution_ms_total: int = 0
    store_errors: int = 0
    last_store_error: str | None = None


class CronScheduler:
    """Claims due occurrences from the store and runs them; one per node, many per cluster.

    Args:
        store: the opened job store.
        dispatcher: runs a started run to its outcome.
        clock: the time source (tests pass a `FakeClock`).
        settings: node settings.
        events: the bus run events are published on.
        rng: jitter source (seed it in tests).
    """

    def __init__(
        self,
        store: JobStore,
        dispatcher: Dispatcher,
        clock: Clock,
        settings: SchedulerSettings,
        *,
        events: EventBus | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.dispatcher = dispatcher
        self.clock = clock
        self.settings = settings
        self.events = events or EventBus()
        self.stats = SchedulerStats()
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self._wake = anyio.Event()
        self._stopping = False
        self._held: set[str] = set()
        self._slots = anyio.CapacityLimiter(settings.max_concurrent_jobs)
        self._jobs: dict[str, Job] = {}
        self._idle = anyio.Event()
        self._actor = f"scheduler@{settings.node_id}"

    # -- control ----------------------------------------------------------------------

    def wake(self) -> None:
        """Look at the store now (a job or run changed in this process)."""
        self._wake.set()

    def stop(self) -> None:
        """Stop claiming; running runs get ``shutdown_timeout`` to finish."""
        self._stopping = True
        self._wake.set()

    @property
    def stopping(self) -> bool:
        """Whether a shutdown was asked for."""
        return self._stopping

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Run until `stop`: tick, renew leases, reap dead nodes' runs; then drain and return."""
        self.stats.started_at = self.clock.now()
        async with anyio.create_task_group() as runs:
            async with anyio.create_task_group() as loops:
                loops.start_soon(self._every, self.settings.lease / 3, self._renew_leases)
                loops.start_soon(self._every, self.settings.lease / 2, self._reap)
                task_status.started()
                await self._tick_loop(runs)
                loops.cancel_scope.cancel()
            await self._drain(runs)
        _log.info("scheduler.stopped", node=self.settings.node_id)

    # -- loops ------------------------------------------------------------------------

    async def _tick_loop(self, runs: TaskGroup) -> None:
        while not self._stopping:
            try:
                delay = await self._tick(runs)
            except Exception as exc:  # noqa: BLE001 - the store may be down; keep trying
                self._store_error(exc)
                delay = self.settings.tick_interval.total_seconds()
            if delay > 0:
                await self._sleep_or_wake(delay)

    async def _tick(self, runs: TaskGroup) -> float:
        """Claim and start what is due; return how long to sleep before the next look."""
        self._wake = anyio.Event()
        now = self.clock.now()
        self.stats.last_tick = now
        node, batch = self.settings.node_id, self.settings.claim_batch
        claimed = await self.store.claim_due(
            now, node, self.settings.planner, batch, self.settings.lease
        )
        claimed += await self.store.acquire_queued(node, now, self.settings.lease, batch)
        for item in claimed:
            self._held.add(item.run.id)
            self.stats.claimed_total += 1
            self.events.publish(RunClaimed(run=item.run, lateness=now - item.run.scheduled_for))
            runs.start_soon(self._run_one, item)
        self.stats.held = len(self._held)
        if len(claimed) >= batch:
            return 0.0
        cap = self.settings.tick_interval.total_seconds()
        due = await self.store.next_due_time()
        if due is None:
            return cap
        return min(cap, max(0.0, (due - self.clock.now()).total_seconds()))

    async def _sleep_or_wake(self, seconds: float) -> None:
        wake = self._wake
        async with anyio.create_task_group() as tg:

            async def sleeper() -> None:
                await self.clock.sleep(seconds)
                tg.cancel_scope.cancel()

            async def waker() -> None:
                await wake.wait()
                tg.cancel_scope.cancel()

            tg.start_soon(sleeper)
            tg.start_soon(waker)

    async def _every(self, period: timedelta, action: Callable[[], Awaitable[None]]) -> None:
        while True:
            await self.clock.sleep(period.total_seconds())
            try:
                await action()
            except Exception as exc:  # noqa: BLE001 - keep the loop alive through outages
                self._store_error(exc)

    async def _renew_leases(self) -> None:
        held = list(self._held)
        if not held:
            return
        until = self.clock.now() + self.settings.lease
        kept = set(await self.store.extend_leases(self.settings.node_id, held, until))
        lost = [run_id for run_id in held if run_id not in kept and run_id in self._held]
        if lost:
            _log.warning("scheduler.leases_lost", runs=lost, node=self.settings.node_id)

    async def _reap(self) -> None:
        recovered = await self.store.reap_expired(self.clock.now(), self._actor)
        if recovered:
            _log.warning("scheduler.runs_recovered", runs=[r.id for r in recovered])
            self.wake()

    # -- one run ----------------------------------------------------------------------

    async def _run_one(self, claimed: ClaimedRun) -> None:
        run = claimed.run
        started: Run | None = None
        try:
            job = await self._job(claimed.job)
            await self._jitter(job)
            async with self._slots:
                if self._stopping:
                    return
                result = await self.store.start_run(
                    run.id,
                    self.settings.node_id,
                    self.clock.now(),
                    self.settings.lease,
                    max_concurrent=job.max_concurrent,
                )
                started = result.run
                if started is None:
                    self._count(RunStatus.skipped if result.skipped_reason else None)
                    return
                await self._execute(job, started)
        except anyio.get_cancelled_exc_class():
            with anyio.CancelScope(shield=True):
                await self._interrupt(run, started)
            raise
        except Exception as exc:  # noqa: BLE001 - record it on the run; never kill the loop
            _log.exception("scheduler.run_crashed", run_id=run.id)
            with anyio.CancelScope(shield=True):
                await self._fail_internal(run, started, exc)
        finally:
            self._held.discard(run.id)
            if self._stopping and not self._held:
                self._wake.set()
            if self._stopping and started is None:
                with anyio.CancelScope(shield=True):
                    await self._release(run)

    async def _execute(self, job: Job, run: Run) -> None:
        assert run.started_at is not None  # noqa: S101 - start_run sets it
        self.events.publish(RunStarted(run=run, lateness=run.started_at - run.scheduled_for))
        self.stats.in_flight += 1
        try:
            with structlog.contextvars.bound_contextvars(job_id=job.id, run_id=run.id):
                outcome = await self.dispatcher(job, run)
        finally:
            self.stats.in_flight -= 1
            if not self.stats.in_flight:
                self._idle.set()
        with anyio.CancelScope(shield=True):
            finished = await self.store.finish_run(
                run.id,
                outcome,
                self.clock.now(),
                default_max_retries=self.settings.default_max_retries,
                actor=self._actor,
            )
        self._count(finished.run.status)
        self.stats.execution_ms_total += finished.run.execution_time_ms or 0
        self.events.publish(
            RunFinished(run=finished.run, job=finished.job, dead_lettered=finished.dead_lettered)
        )
        await self._maybe_retry(job, finished)

    async def _maybe_retry(self, job: Job, finished: FinishedRun) -> None:
        """Queue a retry after ``retry_delay`` when it comes before the next occurrence."""
        current = finished.job
        if job.retry_delay is None or current is None or finished.run.status not in _FAILED:
            return
        if current.status is not JobStatus.active:
            return
        when = self.clock.now() + job.retry_delay
        if current.next_run is not None and when >= current.next_run:
            return
        retry = Run(
            id=new_id(),
            job_id=job.id,
            job_name=job.name,
            trigger=RunTrigger.retry,
            scheduled_for=when,
            status=RunStatus.queued,
            attempt=finished.run.attempt + 1,
            input=finished.run.input,
            details={"retry_of": finished.run.id},
            created_at=self.clock.now(),
        )
        await self.store.create_run(retry)

    async def _jitter(self, job: Job) -> None:
        cap = max(self.settings.max_jitter.total_seconds(), float(job.jitter_seconds))
        if cap > 0:
            await self.clock.sleep(self._rng.uniform(0, cap))

    async def _job(self, schedule: JobSchedule) -> Job:
        cached = self._jobs.get(schedule.id)
        if cached is None or cached.updated_at != schedule.updated_at:
            cached = self._jobs[schedule.id] = await self.store.get_job(schedule.id)
        return cached

    async def _interrupt(self, run: Run, started: Run | None) -> None:
        """Shutdown cancelled a run: record it interrupted and queue its recovery."""
        if started is None:
            return
        reason = f"node {self.settings.node_id} shut down before the run finished; recovered"
        try:
            await self.store.finish_run(
                run.id,
                RunOutcome(status=RunStatus.interrupted, error_message=reason),
                self.clock.now(),
                default_max_retries=self.settings.default_max_retries,
                actor=self._actor,
            )
            await self.store.create_run(_recovery(started, self.clock.now()))
        except Exception as exc:  # noqa: BLE001 - the lease expiry will recover it instead
            self._store_error(exc)

    async def _fail_internal(self, run: Run, started: Run | None, exc: Exception) -> None:
        if started is None:
            return
        try:
            await self.store.finish_run(
                run.id,
                RunOutcome(
                    status=RunStatus.failed, error_message=f"internal error: {type(exc).__name__}"
                ),
                self.clock.now(),
                default_max_retries=self.settings.default_max_retries,
                actor=self._actor,
            )
        except Exception as store_exc:  # noqa: BLE001 - the lease expiry will recover it
            self._store_error(store_exc)

    async def _release(self, run: Run) -> None:
        try:
            await self.store.release(self.settings.node_id, [run.id])
        except Exception as exc:  # noqa: BLE001 - the lease expiry hands it back anyway
            self._store_error(exc)

    async def _drain(self, runs: TaskGroup) -> None:
        """Wait up to ``shutdown_timeout`` for running runs, then cancel the rest."""
        with anyio.move_on_after(self.settings.shutdown_timeout.total_seconds()):
            while self.stats.in_flight:
                self._idle = anyio.Event()
                if self.stats.in_flight:
                    await self._idle.wait()
        runs.cancel_scope.cancel()

    def _count(self, status: RunStatus | None) -> None:
        if status is not None:
            self.stats.finished[status.value] = self.stats.finished.get(status.value, 0) + 1

    def _store_error(self, exc: Exception) -> None:
        self.stats.store_errors += 1
        self.stats.last_store_error = f"{type(exc).__name__}: {exc}"
        _log.warning("scheduler.store_error", error=self.stats.last_store_error)


def _recovery(run: Run, now: datetime) -> Run:
    return Run(
        id=new_id(),
        job_id=run.job_id,
        job_name=run.job_name,
        trigger=RunTrigger.recovery,
        scheduled_for=run.scheduled_for,
        status=RunStatus.queued,
        attempt=run.attempt + 1,
        input=run.input,
        details={"recovers": run.id},
        created_at=now,
    )
