"""The job store port: the protocols every backend implements, and their value objects.

The contract is documented here, once; backends (`SQLiteJobStore`, `PostgresJobStore`)
do not repeat it. Every method that changes state runs as one short transaction on current
rows (never a read-modify-write of whole rows from an older copy), and the audit events it
is given are appended in that same transaction.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple, Protocol, Self

from symbiont.core.enums import JobStatus, RunStatus, RunTrigger, SecurityEventType
from symbiont.core.ids import new_id
from symbiont.core.models import AuditEvent, DeliveryResult, Job, JobSchedule, Run


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditRecord:
    """An audit event to append; the store gives it its id, time and hashes."""

    type: SecurityEventType
    """What happened."""
    actor: str
    """Who did it."""
    job_id: str | None = None
    """The job concerned (filled in by the store when it creates or changes the job)."""
    run_id: str | None = None
    """The run concerned."""
    details: Mapping[str, Any] = field(default_factory=dict)
    """Event data; never a resolved secret."""


@dataclass(frozen=True, slots=True, kw_only=True)
class JobFilter:
    """Which jobs `list_jobs` returns, oldest first by name."""

    status: JobStatus | None = None
    agent_id: str | None = None
    name_prefix: str | None = None
    limit: int = 100
    offset: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class RunFilter:
    """Which runs `list_runs` returns, newest occurrence first."""

    job_id: str | None = None
    status: RunStatus | None = None
    since: datetime | None = None
    """Only runs scheduled at or after this time."""
    until: datetime | None = None
    """Only runs scheduled before this time."""
    limit: int = 20
    offset: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditFilter:
    """Which audit events `list_audit` returns, oldest first."""

    type: SecurityEventType | None = None
    job_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    after_id: int = 0
    """Only events with a larger id (for paging and tailing)."""
    limit: int = 100


class PlannedRun(NamedTuple):
    """One run row that a claim creates for a due job (a named tuple: built per claim)."""

    scheduled_for: datetime
    trigger: RunTrigger = RunTrigger.schedule
    status: RunStatus = RunStatus.queued
    """``queued`` to run it, or ``skipped`` to record a missed occurrence."""
    error_message: str | None = None
    """The reason, for a ``skipped`` record."""


class ClaimPlan(NamedTuple):
    """What claiming one due job does: the runs to create and where its schedule moves."""

    runs: tuple[PlannedRun, ...]
    next_run: datetime | None
    """The job's next occurrence after this claim; ``None`` when it has no more."""


Planner = Callable[[JobSchedule, datetime], ClaimPlan]
"""Pure function: a due job's runs and next occurrence (see `symbiont.scheduler.planner`)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimedRun:
    """A run a node now holds, with the schedule of its job (load the full `Job` to run it)."""

    run: Run
    job: JobSchedule


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionState:
    """What a job carries between runs (DESIGN §6, session modes)."""

    summary: str | None = None
    messages: tuple[Mapping[str, Any], ...] = ()
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RunOutcome:
    """How a run ended, as the runtime reports it."""

    status: RunStatus
    """A final status: succeeded, failed, timed_out, denied, skipped, interrupted or cancelled."""
    output: str | None = None
    summary: str | None = None
    error_message: str | None = None
    iterations: int = 0
    execution_time_ms: int | None = None
    deliveries: tuple[DeliveryResult, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)
    """Merged into the run's ``details``."""
    session: SessionState | None = None
    """The job's carried session after this run, written in the same transaction."""
    audit: tuple[AuditRecord, ...] = ()
    """Extra audit events of the run (an AgentPin failure...), appended in the same transaction."""
    started_at: datetime | None = None
    """When the agent really started, if later than the recorded start (burst queueing)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StartResult:
    """The result of `start_run`."""

    run: Run | None
    """The running run, or None when it was not started."""
    skipped_reason: str | None = None
    """Set when the run was recorded ``skipped`` because the job was at max_concurrent."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FinishedRun:
    """The result of `finish_run`: the run and its job as they now are in the store."""

    run: Run
    job: Job | None
    """``None`` when the job was deleted while the run ran (and, from `finish_runs`, when
    the run did not count as a failure)."""
    dead_lettered: bool = False
    """This failure moved the job to ``dead_letter``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditVerification:
    """The result of checking the audit log's hash chain."""

    ok: bool
    events: int
    """Events checked."""
    first_bad_id: int | None = None
    """The first event whose hash or link does not match."""
    problem: str | None = None


def recovery_of(run: Run, now: datetime) -> Run:
    """The run that retries *run*'s occurrence after it was interrupted: attempt + 1, queued."""
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


class ScheduleStore(Protocol):
    """Job definitions and their scheduling state."""

    async def create_job(self, job: Job, audit: Sequence[AuditRecord] = ()) -> Job:
        """Insert *job*; raise `DuplicateJobName` if its name is taken."""
        ...

    async def create_jobs(self, jobs: Sequence[Job], audit: Sequence[AuditRecord] = ()) -> None:
        """Insert many jobs in one transaction: all or none (`DuplicateJobName` on a clash)."""
        ...

    async def update_job(
        self,
        job_id: str,
        changes: Mapping[str, Any],
        audit: Sequence[AuditRecord] = (),
        *,
        expect_status: Sequence[JobStatus] | None = None,
    ) -> Job:
        """Set only the given fields of a job and return it as stored.

        Raises `JobNotFound`; `InvalidTransition` when *expect_status* is given and the
        job's current status is not in it; `DuplicateJobName` on a rename clash.
        """
        ...

    async def delete_job(
        self, job_id: str, now: datetime, audit: Sequence[AuditRecord] = ()
    ) -> Job:
        """Delete a job with its runs and session; return what was deleted."""
        ...

    async def get_job(self, job_id: str) -> Job:
        """Return a job by id; raise `JobNotFound`."""
        ...

    async def get_job_by_name(self, name: str) -> Job:
        """Return a job by name; raise `JobNotFound`."""
        ...

    async def list_jobs(self, query: JobFilter = JobFilter()) -> list[Job]:
        """Return jobs matching *query*, by name."""
        ...

    async def count_jobs(self) -> dict[JobStatus, int]:
        """Return the number of jobs in each status."""
        ...

    async def next_due_time(self) -> datetime | None:
        """Return the earliest ``next_run`` of an active job."""
        ...

    async def due_jobs(self, now: datetime, limit: int = 100) -> list[JobSchedule]:
        """Return active jobs due at *now*, earliest first, without claiming them."""
        ...

    async def count_due_at(self, at: datetime) -> int:
        """Count the active jobs whose ``next_run`` is exactly *at* (how big a burst is)."""
        ...

    async def get_jobs(self, job_ids: Sequence[str]) -> dict[str, Job]:
        """Return the jobs with these ids that exist, by id (one query per 500 ids)."""
        ...

    async def claim_due(
        self,
        now: datetime,
        node_id: str,
        planner: Planner,
        limit: int = 100,
        lease: timedelta = timedelta(seconds=30),
        *,
        start: int = 0,
        hold_queued: bool = True,
    ) -> list[ClaimedRun]:
        """Atomically claim up to *limit* active jobs due at *now*.

        In one transaction: lock the due jobs (no two nodes get the same one), ask *planner*
        for each job's runs and next occurrence, advance ``next_run``, and insert the runs.
        The unique (job, scheduled_for, attempt) key makes a second claim of the same
        occurrence impossible. The created ``queued`` runs are held by *node_id* under a
        *lease* (renew it with `extend_leases`; a lapsed one hands them back). Returns them;
        ``skipped`` records are written but not returned.

        With *start* > 0, up to that many runs of jobs without jitter start at once
        (``running``, ``started_at = now``) in the same transaction, after the same
        cluster-wide ``max_concurrent`` check as `start_run` (an occurrence that finds its
        job full is recorded ``skipped``): a burst of due jobs costs one transaction.

        With *hold_queued* False, the runs that did not start (no free slot on this node)
        go to the shared queue instead (returned with no node and no lease; `acquire_queued`
        takes them, on any node); runs of jobs with ``jitter_seconds`` are still held, since
        their node waits out the delay. This is the scheduler's backpressure:
        a saturated node does not hoard work in memory, and an idle node can take it.
        """
        ...


class RunStore(Protocol):
    """Runs, their leases, and the session state carried between them."""

    async def create_run(self, run: Run, audit: Sequence[AuditRecord] = ()) -> Run:
        """Insert a run (manual, retry); raise `ConflictError` if its occurrence exists."""
        ...

    async def acquire_queued(
        self, node_id: str, now: datetime, lease: timedelta, limit: int = 100
    ) -> list[ClaimedRun]:
        """Take ownership of due ``queued`` runs that no node holds (manual, retry, recovery).

        Locked rows are skipped, so two nodes never acquire the same run.
        """
        ...

    async def start_run(
        self,
        run_id: str,
        node_id: str,
        now: datetime,
        lease: timedelta,
        *,
        max_concurrent: int | None = None,
    ) -> StartResult:
        """Move a ``queued`` run to ``running`` under *node_id*'s lease.

        With *max_concurrent*, the job's running runs are counted cluster-wide in the same
        transaction; when the limit is reached the run is recorded ``skipped`` with the
        reason instead. ``StartResult.run`` is None when the run was not started.
        """
        ...

    async def start_runs(
        self, runs: Sequence[Run], node_id: str, now: datetime, lease: timedelta
    ) -> list[StartResult]:
        """Start many ``queued`` runs in one transaction (a burst claimed ahead of its time).

        *runs* are the runs as this node claimed them; a started one comes back as a copy
        with its new status, node, start time and lease.

        Like `start_run` with each job's own ``max_concurrent``, counted cluster-wide in
        the same transaction and in order (a run that finds its job full is recorded
        ``skipped`` with the reason). A run no longer queued, held by another node or
        whose job is gone is not started. Returns one result per run, in order.
        """
        ...

    async def release(self, node_id: str, run_ids: Sequence[str]) -> int:
        """Give back queued runs this node holds but will not start (shutdown)."""
        ...

    async def set_run_status(
        self,
        run_id: str,
        status: RunStatus,
        *,
        expect: Sequence[RunStatus],
        now: datetime,
        error_message: str | None = None,
        details: Mapping[str, Any] | None = None,
        audit: Sequence[AuditRecord] = (),
        deadline: datetime | None = None,
    ) -> Run:
        """Change a run's status if it is one of *expect*; raise `InvalidTransition` if not.

        The run is released (no node holds it). A final status also sets ``finished_at``.
        Used for approvals: ``running`` -> ``pending_approval`` (with the approval
        *deadline*, kept in ``lease_expires_at``) -> ``queued`` or ``cancelled``.
        """
        ...

    async def finish_runs(
        self,
        outcomes: Sequence[tuple[Run, RunOutcome]],
        now: datetime,
        *,
        default_max_retries: int,
        actor: str,
    ) -> list[FinishedRun | None]:
        """`finish_run` for many runs in one transaction; None for a run no longer open.

        The runs are passed as the caller started them (a scheduler holds them): only
        their status is read back, and the finished run is built from them. Each result
        carries its job only when the run counted as a failure (``failed``, ``timed_out``:
        what a retry or dead-letter decision reads); otherwise ``job`` is None. Reading
        every job back cost a tenth of a steady load's CPU for nothing the scheduler uses.
        """
        ...

    async def get_sessions(self, job_ids: Sequence[str]) -> dict[str, SessionState]:
        """Return the carried session state of these jobs (jobs without one are left out)."""
        ...

    async def finish_run(
        self,
        run_id: str,
        outcome: RunOutcome,
        now: datetime,
        *,
        default_max_retries: int,
        actor: str,
    ) -> FinishedRun:
        """Record a run's final state and update its job in one transaction.

        Counts the run, resets or increments ``failure_count`` (failed and timed_out runs
        count; denied, skipped, cancelled and interrupted do not), moves the job to
        ``dead_letter`` when ``failure_count`` reaches its ``max_retries`` (or
        *default_max_retries*), completes a one-shot job after a success, and appends the
        matching audit events. ``outcome.session`` replaces the job's carried session.
        Raises `InvalidTransition` when the run is no longer open.
        """
        ...

    async def get_run(self, run_id: str) -> Run:
        """Return a run; raise `RunNotFound`."""
        ...

    async def list_runs(self, query: RunFilter) -> list[Run]:
        """Return runs matching *query*, newest occurrence first."""
        ...

    def iter_runs(self, query: RunFilter, batch: int = 500) -> AsyncIterator[Run]:
        """Yield every run matching *query* (ignoring its limit), in pages of *batch*."""
        ...

    async def count_running(self, job_id: str) -> int:
        """Return the number of ``running`` runs of a job, cluster-wide."""
        ...

    async def extend_leases(
        self, node_id: str, run_ids: Sequence[str], until: datetime
    ) -> list[str]:
        """Renew *node_id*'s leases on running runs; return the ids it still holds."""
        ...

    async def reap_expired(self, now: datetime, actor: str) -> list[Run]:
        """Mark running runs whose lease lapsed ``interrupted`` and queue their recovery.

        Each interrupted run gets a new ``queued`` run for the same occurrence with
        ``trigger=recovery`` and ``attempt + 1``, in the same transaction. Returns the
        new recovery runs.
        """
        ...

    async def expire_approvals(self, now: datetime, actor: str) -> list[Run]:
        """Cancel runs whose approval deadline passed (audit ``CronJobExpired``); return them."""
        ...

    async def get_session(self, job_id: str) -> SessionState:
        """Return a job's carried session state (empty if none)."""
        ...

    async def put_session(
        self, job_id: str, summary: str | None, messages: Sequence[Mapping[str, Any]], now: datetime
    ) -> None:
        """Replace a job's carried session state."""
        ...

    async def prune_history(
        self, now: datetime, max_age: timedelta | None, max_per_job: int | None
    ) -> int:
        """Delete finished runs older than *max_age* or beyond the newest *max_per_job*.

        Runs that are queued, running or pending approval are never pruned. Returns the
        number of runs deleted.
        """
        ...


class AuditStore(Protocol):
    """The append-only, hash-chained audit log."""

    async def append_audit(self, records: Sequence[AuditRecord], now: datetime) -> None:
        """Append events in one transaction."""
        ...

    async def list_audit(self, query: AuditFilter = AuditFilter()) -> list[AuditEvent]:
        """Return events matching *query*, oldest first."""
        ...

    async def verify_audit_chain(self) -> AuditVerification:
        """Recompute every hash and link; report the first event that does not match."""
        ...


class JobStore(ScheduleStore, RunStore, AuditStore, Protocol):
    """The whole store: an async context manager that opens, migrates and closes it."""

    location: str
    """Where the store lives, for messages (a path or a DSN with the password masked)."""

    async def __aenter__(self) -> Self:
        """Open the store and apply pending migrations."""
        ...

    async def __aexit__(self, *exc_info: object) -> None:
        """Close the store."""
        ...
