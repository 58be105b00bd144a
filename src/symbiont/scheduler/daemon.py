"""`CronScheduler`: the tick loop that claims due occurrences and runs them, with leases."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import random
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

import anyio
import structlog
from anyio.abc import TaskStatus

from symbiont.core.clock import Clock
from symbiont.core.enums import JobStatus, RunStatus, RunTrigger, SecurityEventType, SessionMode
from symbiont.core.errors import InvalidTransition, StoreUnavailable
from symbiont.core.events import EventBus, RunClaimed, RunFinished, RunSkipped, RunStarted
from symbiont.core.ids import new_id
from symbiont.core.models import Job, JobSchedule, Run
from symbiont.scheduler.planner import OccurrencePlanner
from symbiont.store.base import (
    AuditRecord,
    ClaimedRun,
    FinishedRun,
    JobStore,
    RunOutcome,
    SessionState,
    StartResult,
    recovery_of,
)

_log = structlog.get_logger("symbiont.scheduler")
_FAILED = frozenset({RunStatus.failed, RunStatus.timed_out})
_FINISH_BATCH = 500
_LOOKAHEAD = timedelta(seconds=2)
_MAX_BATCHES_PER_TICK = 200
_LOOKAHEAD_JOBS = 20_000
_LOOKAHEAD_MIN_IDLE_S = 0.05
_CLAIM_AHEAD_S_PER_RUN = 0.0002
"""Extra claim-ahead lead per occurrence of a burst: its claim, definitions and task (~150 µs)."""
GC_GEN0_THRESHOLD = 50_000
"""Allocations between two young collections in a daemon process (CPython's default: 700)."""


def tune_gc() -> None:
    """Set a daemon process's garbage collector for bursts of short runs (`symbi up` does).

    A burst of 10,000 runs keeps half a million objects alive at once; with CPython's
    defaults the collector then runs full collections over all of them, which measured
    about 40 % of the burst's CPU time (benchmarks/dispatch.py). Young collections every
    50,000 allocations instead of 700 make full ones rare (and halve the collector's time
    in a burst against 10,000: 0.06 s instead of 0.13 s); cyclic garbage waits a little
    longer, nothing else changes (reference counting frees the rest at once). What exists
    at start-up (modules, settings, agent definitions) is frozen out of every collection.
    A process-wide setting, so the daemon's entry point calls it, not `CronScheduler`.
    """
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GC_GEN0_THRESHOLD, gen1, gen2)


_FINISH_RETRY_FIRST_S = 0.1
_FINISH_RETRY_MAX_S = 1.0


class Dispatcher(Protocol):
    """Runs one started run of a job to its outcome (policy, session, agent, delivery)."""

    async def __call__(self, job: Job, run: Run, session: SessionState | None = None) -> RunOutcome:
        """Run *run* and report how it ended; never raise for an agent's failure.

        *session* is the job's carried session when the caller already read it (in bulk);
        None lets the dispatcher read it. The outcome's ``session`` is what to carry on.
        """
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
    fire_ahead: timedelta = timedelta(seconds=2)
    """How long before a burst's instant its occurrences are claimed (0 turns it off).

    A burst (at least ``fire_ahead_min`` occurrences due at one instant) is claimed before
    its instant, its runs wait, held ``queued`` by this node, and at the instant one
    transaction starts them all: so thousands of jobs due together start at their time,
    not after their claim. A bigger burst is claimed a little earlier (its claim takes
    longer). Smaller instants are claimed when due, as always.
    """
    fire_ahead_min: int = 100
    """The fewest occurrences due at one instant that are claimed ahead."""
    approval_timeout: timedelta = timedelta(hours=1)
    """How long a run waits for approval before it is cancelled."""
    planner: OccurrencePlanner = field(default_factory=OccurrencePlanner)
    """Misfire rules (``enable_missed_run_catchup`` lives here)."""
    history_max_age: timedelta | None = None
    """Finished runs older than this are deleted (``[store] history_max_age_days``)."""
    history_max_per_job: int | None = None
    """Finished runs kept per job, newest first (``[store] history_max_per_job``)."""
    prune_interval: timedelta = timedelta(minutes=10)
    """How often retention is applied, when either limit is set."""


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
    store_failing: bool = False
    """The last look at the store failed (health says ``degraded`` until one succeeds)."""


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
        self._busy = 0
        """Slots taken: runs executing, and runs about to start (claimed for a free slot)."""
        self._slot_freed = anyio.Event()
        self._starved = False
        """A tick found no free slot: the next run to end wakes the tick loop."""
        self._jobs: dict[str, Job] = {}
        self._sessions: dict[str, SessionState] = {}
        self._warmed_for: datetime | None = None
        self._armed: _Armed | None = None
        self._due_count: tuple[datetime | None, int] = (None, 0)
        """Occurrences due at the next due time, counted by the warm-up."""
        self._released: set[str] = set()
        """Runs of an armed instant given back in bulk at shutdown (not one by one)."""
        self._idle = anyio.Event()
        self._runs = _RunTasks()
        self._finisher = _Finisher(
            store,
            clock,
            settings.default_max_retries,
            f"scheduler@{settings.node_id}",
            give_up_after=settings.lease,
            on_error=self._store_error,
            stopping=lambda: self._stopping,
        )
        self._actor = f"scheduler@{settings.node_id}"
        self._failing_since: datetime | None = None
        self._errors_before = 0

    # -- control ----------------------------------------------------------------------

    def wake(self) -> None:
        """Look at the store now (a job or run changed in this process)."""
        self._warmed_for = None  # what is due next may have changed: count and load it again
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
        async with anyio.create_task_group() as outer:
            outer.start_soon(self._finisher.run)
            try:
                async with anyio.create_task_group() as loops:
                    loops.start_soon(self._every, self.settings.lease / 3, self._renew_leases)
                    loops.start_soon(self._every, self.settings.lease / 2, self._reap)
                    if self._retention_set():
                        loops.start_soon(self._every, self.settings.prune_interval, self._prune)
                    task_status.started()
                    await self._tick_loop()
                    loops.cancel_scope.cancel()
                await self._disarm()
                await self._drain()
            finally:
                # Cancelled from outside (or draining ended): no run task outlives the node.
                with anyio.CancelScope(shield=True):
                    self._runs.cancel()
                    with anyio.move_on_after(self.settings.shutdown_timeout.total_seconds()):
                        await self._runs.wait()
            outer.cancel_scope.cancel()
        _log.info("scheduler.stopped", node=self.settings.node_id)

    # -- loops ------------------------------------------------------------------------

    async def _tick_loop(self) -> None:
        while not self._stopping:
            try:
                delay = await self._tick()
            except Exception as exc:  # noqa: BLE001 - the store may be down; keep trying
                self._store_error(exc)
                delay = self.settings.tick_interval.total_seconds()
            else:
                self._store_back()
            if delay > 0:
                await self._sleep_or_wake(delay)

    async def _tick(self) -> float:
        """Claim and start what is due; return how long to sleep before the next look."""
        self._wake = anyio.Event()
        now = self.clock.now()
        self.stats.last_tick = now
        if self._armed is not None and self._armed.due <= now:
            await self._fire(now)
        claimed = await self._claim(now)
        if claimed:
            await self._prefetch(claimed)
        for item in claimed:
            # A run started in the claim, or taken from the queue for a free slot, holds
            # its slot from now on; a jittered one takes a slot only once its delay is over.
            reserved = item.run.status is RunStatus.running or not self._jittered(item.job)
            self._spawn(item, now, reserved=reserved)
        return await self._next_look()

    async def _next_look(self) -> float:
        """How long to sleep: until the next due time, the claim-ahead window, or a slot."""
        cap = self.settings.tick_interval.total_seconds()
        if self._free_slots() == 0:
            # Saturated: what is due waits in the store (queued runs, due jobs) until a run
            # ends and frees a slot, which wakes this loop; a full look would only spin.
            self._starved = True
            if self._armed is not None:  # its instant still comes on time
                return min(cap, max(0.0, (self._armed.due - self.clock.now()).total_seconds()))
            return cap
        due = await self.store.next_due_time()
        if self._armed is not None:
            due = self._armed.due if due is None else min(due, self._armed.due)
        if due is None:
            return cap
        delay = min(cap, max(0.0, (due - self.clock.now()).total_seconds()))
        if delay > _LOOKAHEAD_MIN_IDLE_S and due != self._warmed_for:
            self._warmed_for = due  # before the read: a change meanwhile makes it read again
            await self._warm_definitions(due)
            # the warm-up took time: sleep only what is left until the due time
            delay = min(cap, max(0.0, (due - self.clock.now()).total_seconds()))
        ahead, window = (due - self.clock.now()).total_seconds(), self._fire_ahead_for(due)
        if self._armed is None and 0 < ahead <= window:
            await self._arm(due)
            delay = min(cap, max(0.0, (due - self.clock.now()).total_seconds()))
        elif self._armed is None and window and ahead > window:
            delay = min(delay, ahead - window)  # wake when the window opens, not later
        return delay

    def _fire_ahead_for(self, due: datetime) -> float:
        """How long before *due* to claim its occurrences: 0 unless they make a burst.

        Also 0 with a global jitter: each run's delay starts at its time.
        """
        base = self.settings.fire_ahead.total_seconds()
        counted, count = self._due_count
        if not base or self.settings.max_jitter or counted != due:
            return 0.0
        if count < self.settings.fire_ahead_min:
            return 0.0
        return base + count * _CLAIM_AHEAD_S_PER_RUN

    def _spawn(
        self,
        item: ClaimedRun,
        now: datetime,
        *,
        reserved: bool,
        armed: _Armed | None = None,
    ) -> None:
        self._held.add(item.run.id)
        self.stats.held = len(self._held)
        self.stats.claimed_total += 1
        if reserved:
            self._busy += 1
        self.events.publish(RunClaimed(run=item.run, lateness=now - item.run.scheduled_for))
        self._runs.spawn(self._run_one(item, reserved, armed))

    async def _arm(self, due: datetime) -> None:
        """Claim, before their time, the occurrences due at *due*; their runs wait for it.

        Only as many as there are free slots. The runs are held by this node under its
        lease, as ``queued``: if the node dies before *due*, the reaper hands them back.
        """
        node, batch, lease = self.settings.node_id, self.settings.claim_batch, self.settings.lease
        armed = _Armed(due)
        claimed: list[ClaimedRun] = []
        for _ in range(_MAX_BATCHES_PER_TICK):
            free = self._free_slots() - len(claimed)
            if free <= 0:
                break
            got = await self.store.claim_due(
                due, node, self.settings.planner, min(batch, free), lease
            )
            claimed += got
            if len(got) < min(batch, free):
                break
        if not claimed:
            return
        await self._prefetch(claimed)
        now = self.clock.now()
        self._armed = armed
        for item in claimed:
            if item.run.scheduled_for > due or self._jittered(item.job):
                continue  # not for this instant (or jittered): started the usual way
            armed.runs.append(item.run)
        ids = {run.id for run in armed.runs}
        for item in claimed:
            reserved = item.run.id in ids or not self._jittered(item.job)
            self._spawn(item, now, reserved=reserved, armed=armed)

    async def _fire(self, now: datetime) -> None:
        """The armed instant has come: start its runs in one transaction and let them go."""
        armed, self._armed = self._armed, None
        assert armed is not None  # noqa: S101 - checked by the caller
        try:
            results = await self.store.start_runs(
                armed.runs, self.settings.node_id, now, self.settings.lease
            )
            pairs = zip(armed.runs, results, strict=True)
            armed.results = {run.id: result for run, result in pairs}
        finally:
            armed.fired.set()  # on a store error, no run of the instant starts; leases lapse

    async def _disarm(self) -> None:
        """Shutdown before an armed instant: give its runs back in one transaction."""
        armed, self._armed = self._armed, None
        if armed is None:
            return
        armed.released = True
        self._released.update(run.id for run in armed.runs)
        armed.fired.set()  # the waiting runs end without starting
        with anyio.CancelScope(shield=True):
            try:
                await self.store.release(self.settings.node_id, [run.id for run in armed.runs])
            except Exception as exc:  # noqa: BLE001 - the lease expiry hands them back anyway
                self._store_error(exc)

    async def _warm_definitions(self, due: datetime) -> None:
        """Load the definitions of jobs due soon while idle, so a burst only claims and runs."""
        upcoming = await self.store.due_jobs(due + _LOOKAHEAD, limit=_LOOKAHEAD_JOBS)
        # *due* is the earliest due time: the read holds its whole burst unless it was cut
        if len(upcoming) < _LOOKAHEAD_JOBS:
            self._due_count = (due, sum(job.next_run == due for job in upcoming))
        else:
            self._due_count = (due, await self.store.count_due_at(due))
        stale = [
            job.id
            for job in upcoming
            if (cached := self._jobs.get(job.id)) is None or cached.updated_at != job.updated_at
        ]
        if stale:
            self._jobs.update(await self.store.get_jobs(stale))

    async def _claim(self, now: datetime) -> list[ClaimedRun]:
        """Take queued runs for the free slots, then claim every due occurrence.

        Queued runs (waiting for a slot, retries, manual runs, recoveries) come first, oldest
        first, so new occurrences do not overtake them. Due occurrences are all claimed,
        batch after batch: those with a free slot start in the claim; the rest go to the
        shared queue, where this node (or any other) takes them as slots free up. So a
        saturated node holds only what it runs, and its backlog stays in the store.
        Runs are spawned only after the last batch: otherwise the runs of the first batch
        would execute between the claims and delay every later occurrence of a burst.
        """
        node, batch, lease = self.settings.node_id, self.settings.claim_batch, self.settings.lease
        free = self._free_slots()
        claimed: list[ClaimedRun] = []
        for _ in range(_MAX_BATCHES_PER_TICK):
            if free <= 0:
                break
            got = await self.store.acquire_queued(node, now, lease, min(batch, free))
            claimed += got
            free -= len(got)
            if len(got) < batch:
                break
        jitter = bool(self.settings.max_jitter)
        for _ in range(_MAX_BATCHES_PER_TICK):
            got = await self.store.claim_due(
                now,
                node,
                self.settings.planner,
                batch,
                lease,
                start=0 if jitter else free,
                hold_queued=jitter,
            )
            for item in got:
                if item.run.status is RunStatus.running:
                    free -= 1
                if item.run.node_id is not None:  # not left in the shared queue
                    claimed.append(item)
            if len(got) < batch:
                break
        return claimed

    def _jittered(self, job: JobSchedule | Job) -> bool:
        return bool(self.settings.max_jitter) or job.jitter_seconds > 0

    def _free_slots(self) -> int:
        return max(0, self.settings.max_concurrent_jobs - self._busy)

    async def _prefetch(self, claimed: list[ClaimedRun]) -> None:
        """Load, in bulk, the definitions and sessions the claimed runs will need."""
        stale = [
            c.job.id
            for c in claimed
            if (cached := self._jobs.get(c.job.id)) is None or cached.updated_at != c.job.updated_at
        ]
        if stale:
            self._jobs.update(await self.store.get_jobs(stale))
        wanted = [
            c.job.id
            for c in claimed
            if (job := self._jobs.get(c.job.id)) is not None
            and job.session_mode is not SessionMode.fully_ephemeral
        ]
        if wanted:
            found = await self.store.get_sessions(wanted)
            for job_id in wanted:
                self._sessions[job_id] = found.get(job_id, SessionState())

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
        expired = await self.store.expire_approvals(self.clock.now(), self._actor)
        if expired:
            _log.warning("scheduler.approvals_expired", runs=[r.id for r in expired])
        recovered = await self.store.reap_expired(self.clock.now(), self._actor)
        if recovered:
            _log.warning("scheduler.runs_recovered", runs=[r.id for r in recovered])
            self.wake()

    def _retention_set(self) -> bool:
        return (
            self.settings.history_max_age is not None
            or self.settings.history_max_per_job is not None
        )

    async def _prune(self) -> None:
        """Apply retention: finished runs past the age or count limits go; open runs stay."""
        deleted = await self.store.prune_history(
            self.clock.now(), self.settings.history_max_age, self.settings.history_max_per_job
        )
        if deleted:
            _log.info("scheduler.history_pruned", runs=deleted)

    # -- one run ----------------------------------------------------------------------

    async def _run_one(self, claimed: ClaimedRun, reserved: bool, armed: _Armed | None) -> None:
        run = claimed.run
        holder = _Holder(started=run if run.status is RunStatus.running else None)
        holder.reserved = reserved
        try:
            if armed is not None and not await self._armed_start(claimed, holder, armed):
                return
            await self._start_and_execute(claimed, holder)
        except anyio.get_cancelled_exc_class():
            with anyio.CancelScope(shield=True):
                await self._interrupt(run, holder.started)
            raise
        except StoreUnavailable as exc:
            # Not the agent's failure: recording "failed" would count towards dead-letter and
            # lose a result that may have been fine. The run is let go: its lease lapses and
            # the reaper records it interrupted and runs the occurrence again (attempt + 1).
            self._store_error(exc)
            _log.warning(
                "scheduler.run_unrecorded",
                run_id=run.id,
                job=run.job_name,
                note="the store failed; the run is handed back or recovered when its lease lapses",
            )
        except Exception as exc:  # noqa: BLE001 - record it on the run; never kill the loop
            _log.exception("scheduler.run_crashed", run_id=run.id)
            with anyio.CancelScope(shield=True):
                await self._fail_internal(run, holder.started, exc)
        finally:
            if holder.reserved:
                self._free_slot()
            self._held.discard(run.id)
            if self._stopping and not self._held:
                self._wake.set()
            if self._stopping and holder.started is None and run.id not in self._released:
                with anyio.CancelScope(shield=True):
                    await self._release(run)

    def _free_slot(self) -> None:
        self._busy -= 1
        self._slot_freed.set()
        if self._starved:  # the tick loop waits for this slot to take queued work
            self._starved = False
            self._wake.set()

    async def _take_slot(self) -> None:
        """Wait for a free slot and take it (a jittered run, once its delay is over)."""
        while self._free_slots() == 0:
            if self._slot_freed.is_set():  # a slot freed earlier went to someone else
                self._slot_freed = anyio.Event()
            await self._slot_freed.wait()
        self._busy += 1

    async def _armed_start(self, claimed: ClaimedRun, holder: _Holder, armed: _Armed) -> bool:
        """Wait for the armed instant; return whether the run goes on (started or jittered)."""
        await armed.fired.wait()
        if armed.released:
            return False
        if not holder.reserved:
            return True  # jittered: its delay starts now, then it starts the usual way
        result = armed.results.get(claimed.run.id)
        if result is None:
            return False  # the bulk start failed: the lease lapses and the run is handed back
        self._skipped(await self._job(claimed.job), result)
        holder.started = result.run
        return holder.started is not None

    async def _start_and_execute(self, claimed: ClaimedRun, holder: _Holder) -> None:
        job = await self._job(claimed.job)
        if not holder.reserved:
            await self._jitter(job)
            await self._take_slot()
            holder.reserved = True
        if holder.started is None:
            if self._stopping:
                return
            holder.started = await self._start(claimed.run, job)
            if holder.started is None:
                return
        await self._execute(job, holder.started)

    async def _start(self, run: Run, job: Job) -> Run | None:
        result = await self.store.start_run(
            run.id,
            self.settings.node_id,
            self.clock.now(),
            self.settings.lease,
            max_concurrent=job.max_concurrent,
        )
        self._skipped(job, result)
        return result.run

    def _skipped(self, job: Job, result: StartResult) -> None:
        if result.run is None and result.skipped_reason:
            self._count(RunStatus.skipped)
            self.events.publish(RunSkipped(job_name=job.name, reason=result.skipped_reason))

    async def _execute(self, job: Job, run: Run) -> None:
        # The claim may have marked the run running a moment before the agent really starts
        # (a burst queues behind other runs): the record gets the real start time.
        began = self.clock.now()
        self.events.publish(RunStarted(run=run, lateness=began - run.scheduled_for))
        self.stats.in_flight += 1
        # Each run is its own task with its own copy of the context: nothing to reset after
        structlog.contextvars.bind_contextvars(job_id=job.id, run_id=run.id)
        try:
            outcome = await self.dispatcher(job, run, self._sessions.pop(job.id, None))
            if outcome.started_at is None:
                outcome = dataclasses.replace(outcome, started_at=began)
        finally:
            self.stats.in_flight -= 1
            if not self.stats.in_flight:
                self._idle.set()
        if outcome.status is RunStatus.pending_approval:
            with anyio.CancelScope(shield=True):
                await self._await_approval(job, run, outcome)
            return
        with anyio.CancelScope(shield=True):
            finished = await self._finisher.finish(run, outcome)
        if finished is None:  # finished elsewhere meanwhile (reaped after a lost lease)
            return
        self._count(finished.run.status)
        self.stats.execution_ms_total += finished.run.execution_time_ms or 0
        self.events.publish(
            RunFinished(run=finished.run, job=finished.job, dead_lettered=finished.dead_lettered)
        )
        await self._maybe_retry(job, finished)

    async def _await_approval(self, job: Job, run: Run, outcome: RunOutcome) -> None:
        """Park the run as ``pending_approval``: no slot held, a deadline set, audited."""
        now = self.clock.now()
        request = AuditRecord(
            type=SecurityEventType.CronJobApprovalRequested,
            actor=self._actor,
            job_id=job.id,
            run_id=run.id,
            details=dict(outcome.details.get("policy", {})),
        )
        extra = [dataclasses.replace(r, job_id=job.id, run_id=run.id) for r in outcome.audit]
        await self.store.set_run_status(
            run.id,
            RunStatus.pending_approval,
            expect=(RunStatus.running,),
            now=now,
            details=outcome.details,
            audit=[*extra, request],
            deadline=now + self.settings.approval_timeout,
        )
        self._count(RunStatus.pending_approval)

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
            await self.store.create_run(recovery_of(started, self.clock.now()))
        except InvalidTransition:
            return  # its outcome was written just before the cancellation
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

    async def _drain(self) -> None:
        """Wait up to ``shutdown_timeout`` for running runs (`run` then cancels the rest)."""
        with anyio.move_on_after(self.settings.shutdown_timeout.total_seconds()):
            while self.stats.in_flight:
                self._idle = anyio.Event()
                if self.stats.in_flight:
                    await self._idle.wait()

    def _count(self, status: RunStatus | None) -> None:
        if status is not None:
            self.stats.finished[status.value] = self.stats.finished.get(status.value, 0) + 1

    def _store_error(self, exc: Exception) -> None:
        self.stats.store_errors += 1
        self.stats.last_store_error = f"{type(exc).__name__}: {exc}"
        self.stats.store_failing = True
        if self._failing_since is None:
            self._failing_since = self.clock.now()
            self._errors_before = self.stats.store_errors - 1
        _log.warning("scheduler.store_error", error=self.stats.last_store_error)

    def _store_back(self) -> None:
        """A tick worked: if the store had been failing, say that it answers again."""
        self.stats.store_failing = False
        if self._failing_since is None:
            return
        _log.info(
            "scheduler.store_recovered",
            failing_for_s=round((self.clock.now() - self._failing_since).total_seconds(), 1),
            errors=self.stats.store_errors - self._errors_before,
        )
        self._failing_since = None


class _RunTasks:
    """The tasks of the runs a node executes: spawned cheaply, cancelled together.

    A burst spawns thousands of runs at once. An anyio task-group spawn costs about twice
    a plain asyncio task with its own anyio cancel scope (42 against 7 + 16 µs measured
    on the 2-core benchmark machine), so each run is a plain task whose whole body is in a
    `CancelScope` created here; `cancel` cancels those scopes, so the run's shielded
    sections (its result being written, its interruption being recorded) are honoured
    exactly as in a task group. The daemon therefore needs asyncio (as psycopg's async
    driver and uvicorn do).
    """

    def __init__(self) -> None:
        self._scopes: dict[asyncio.Task[None], anyio.CancelScope] = {}

    def spawn(self, body: Coroutine[object, object, None]) -> None:
        """Run *body* in a new task."""
        scope = anyio.CancelScope()
        task = asyncio.get_running_loop().create_task(self._scoped(scope, body))
        self._scopes[task] = scope
        task.add_done_callback(self._done)

    @staticmethod
    async def _scoped(scope: anyio.CancelScope, body: Coroutine[object, object, None]) -> None:
        with scope:
            await body

    def _done(self, task: asyncio.Task[None]) -> None:
        del self._scopes[task]
        if not task.cancelled() and (exc := task.exception()) is not None:
            # `_run_one` records every error on its run; only a bug in it ends up here
            _log.error("scheduler.run_task_crashed", error=f"{type(exc).__name__}: {exc}")

    def cancel(self) -> None:
        """Cancel every run (shielded sections finish first)."""
        for scope in self._scopes.values():
            scope.cancel()

    async def wait(self) -> None:
        """Return once every run task has ended."""
        while self._scopes:
            await asyncio.wait(list(self._scopes))


@dataclass(slots=True)
class _Armed:
    """Occurrences of one instant claimed ahead of it, their runs waiting for it."""

    due: datetime
    runs: list[Run] = field(default_factory=list)
    """The runs started at once when *due* comes, in claim order."""
    fired: anyio.Event = field(default_factory=anyio.Event)
    results: dict[str, StartResult] = field(default_factory=dict)
    released: bool = False
    """Shutdown came first: the runs were given back unstarted."""


@dataclass(slots=True)
class _Holder:
    """A run task's view of its run: started yet, and whether it holds a slot."""

    started: Run | None
    reserved: bool = False


@dataclass(slots=True)
class _Pending:
    run: Run
    outcome: RunOutcome
    done: anyio.Event = field(default_factory=anyio.Event)
    result: FinishedRun | None = None
    error: Exception | None = None


class _Finisher:
    """Group commit of run results.

    Finishes that arrive while one batch is written go into the next, so a burst of short
    runs costs a few transactions, not one each. A batch is written in job order, so the
    batches of several nodes lock job and session rows in the same order (no deadlock).
    When the store fails (down, restarting, a deadlock), the batch is written again with
    backoff for up to *give_up_after* (the lease: after it the reaper owns the runs), so a
    store outage does not lose the outcomes of runs that finished during it. Once the node
    is *stopping* it does not wait for the store: the leases recover those runs.
    """

    def __init__(
        self,
        store: JobStore,
        clock: Clock,
        default_max_retries: int,
        actor: str,
        *,
        give_up_after: timedelta,
        on_error: Callable[[Exception], None],
        stopping: Callable[[], bool],
    ) -> None:
        self._store = store
        self._clock = clock
        self._retries = default_max_retries
        self._actor = actor
        self._give_up_after = give_up_after.total_seconds()
        self._on_error = on_error
        self._stopping = stopping
        self._queue: list[_Pending] = []
        self._ready = anyio.Event()

    async def finish(self, run: Run, outcome: RunOutcome) -> FinishedRun | None:
        """Record *outcome* of *run* (as started); None if the run was no longer open."""
        pending = _Pending(run, outcome)
        self._queue.append(pending)
        self._ready.set()
        await pending.done.wait()
        if pending.error is not None:
            raise pending.error
        return pending.result

    async def run(self) -> None:
        """Write queued results in batches until cancelled."""
        while True:
            await self._ready.wait()
            self._ready = anyio.Event()
            batch, self._queue = self._queue[:_FINISH_BATCH], self._queue[_FINISH_BATCH:]
            if self._queue:
                self._ready.set()
            batch.sort(key=lambda p: (p.run.job_id, p.run.id))
            with anyio.CancelScope(shield=True):
                await self._write(batch)

    async def _write(self, batch: list[_Pending]) -> None:
        now = self._clock.now()
        give_up = anyio.current_time() + self._give_up_after
        pause = _FINISH_RETRY_FIRST_S
        while True:
            try:
                results = await self._store.finish_runs(
                    [(p.run, p.outcome) for p in batch],
                    now,
                    default_max_retries=self._retries,
                    actor=self._actor,
                )
                break
            except StoreUnavailable as exc:
                self._on_error(exc)
                if self._stopping() or anyio.current_time() + pause > give_up:
                    self._fail(batch, exc)
                    return
                await anyio.sleep(pause)
                pause = min(pause * 2, _FINISH_RETRY_MAX_S)
            except Exception as exc:  # noqa: BLE001 - handed to each waiting run
                self._fail(batch, exc)
                return
        for pending, result in zip(batch, results, strict=True):
            pending.result = result
            pending.done.set()

    @staticmethod
    def _fail(batch: list[_Pending], exc: Exception) -> None:
        for pending in batch:
            pending.error = exc
            pending.done.set()
