"""`JobService`: the operations the API, the CLI and the DSL loader share."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from symbiont.core.clock import Clock
from symbiont.core.enums import JobStatus, RunStatus, RunTrigger, SecurityEventType
from symbiont.core.errors import (
    ConflictError,
    DuplicateJobName,
    InvalidTransition,
    JobNotFound,
    NotAllowed,
    ValidationError,
)
from symbiont.core.ids import new_id
from symbiont.core.models import AuditEvent, Job, Run
from symbiont.scheduler.planner import next_fire_time, next_fire_time_of
from symbiont.service._fields import RULES, check_definition, check_text, convert_fields
from symbiont.store.base import (
    AuditFilter,
    AuditRecord,
    AuditVerification,
    JobFilter,
    JobStore,
    RunFilter,
)

_DEFINITION = tuple(RULES)
_SCHEDULE_FIELDS = frozenset({"cron_expr", "at", "timezone", "name"})
_SENSITIVE = frozenset({"webhook_headers", "webhook_secret", "agent_pin_jwt", "input"})
_MANUAL_SLOTS = 100
_MICROSECOND = timedelta(microseconds=1)
UpsertResult = Literal["created", "updated", "unchanged"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceSettings:
    """Limits and defaults the service applies."""

    default_max_retries: int = 3
    """``[scheduler] default_max_retries``: failures before dead-letter when a job sets none."""


class JobService:
    """Validates requests, computes schedules and records every change with its actor.

    Args:
        store: the job store (opened by the caller).
        clock: the time source.
        settings: limits and defaults.
    """

    def __init__(
        self, store: JobStore, clock: Clock, settings: ServiceSettings | None = None
    ) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings or ServiceSettings()
        self.on_change: Callable[[], None] | None = None
        """Called after a change the scheduler should see now (the daemon wakes its tick)."""

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    # -- definitions ------------------------------------------------------------------

    async def create_job(
        self, fields: Mapping[str, Any], *, actor: str, source: str = "api"
    ) -> Job:
        """Create a job from API-named *fields*; raise `ValidationError` or `DuplicateJobName`."""
        job = self._new_job(fields, self.clock.now(), source)
        record = _record(SecurityEventType.CronJobCreated, actor, job, _summary(job))
        created = await self.store.create_job(job, [record])
        self._changed()
        return created

    def _new_job(self, fields: Mapping[str, Any], now: datetime, source: str) -> Job:
        values = convert_fields(fields)
        missing = [(k, "is required") for k in ("name", "agent_id") if k not in values]
        if missing:
            raise ValidationError(missing)
        check_definition(values)
        if values.get("at") is not None and values["at"] <= now:
            raise ValidationError([("at", f"{values['at'].isoformat()} is in the past")])
        at = values.get("at")
        next_run = at if at is not None else next_fire_time_of(values, now)
        return Job(
            id=new_id(), source=source, created_at=now, updated_at=now, next_run=next_run, **values
        )

    async def create_jobs(
        self, definitions: Sequence[Mapping[str, Any]], *, actor: str, source: str = "api"
    ) -> list[Job]:
        """Create many jobs in one transaction: every definition is valid, or nothing is written."""
        now = self.clock.now()
        jobs: list[Job] = []
        problems: list[tuple[str, str]] = []
        for index, fields in enumerate(definitions):
            try:
                jobs.append(self._new_job(fields, now, source))
            except ValidationError as exc:
                problems.extend((f"[{index}].{name}", msg) for name, msg in exc.problems)
        if problems:
            raise ValidationError(problems)
        records = [_record(SecurityEventType.CronJobCreated, actor, j, _summary(j)) for j in jobs]
        await self.store.create_jobs(jobs, records)
        self._changed()
        return jobs

    async def update_job(self, ref: str, fields: Mapping[str, Any], *, actor: str) -> Job:
        """Change some definition fields of a job; the schedule is recomputed when it changes."""
        job, _ = await self._update(await self.get_job(ref), fields, actor)
        return job

    async def _update(
        self, current: Job, fields: Mapping[str, Any], actor: str
    ) -> tuple[Job, bool]:
        values = convert_fields(fields)
        if "at" in values and values["at"] is not None and "cron_expr" not in values:
            values["cron_expr"] = None
        if "cron_expr" in values and values["cron_expr"] is not None and "at" not in values:
            values["at"] = None
        changed = {k: v for k, v in values.items() if getattr(current, k) != v}
        if not changed:
            return current, False
        merged = {k: getattr(current, k) for k in _DEFINITION} | changed
        check_definition(merged)
        now = self.clock.now()
        if _SCHEDULE_FIELDS & set(changed) and current.status is JobStatus.active:
            probe = dataclasses.replace(current, **merged)
            changed["next_run"] = next_fire_time(probe, now)
        changed["updated_at"] = now
        record = _record(
            SecurityEventType.CronJobUpdated,
            actor,
            current,
            {"name": current.name, "changed": sorted(set(changed) - {"next_run", "updated_at"})},
        )
        updated = await self.store.update_job(current.id, changed, [record])
        self._changed()
        return updated, True

    async def upsert_job(
        self, fields: Mapping[str, Any], *, actor: str, source: str
    ) -> tuple[Job, UpsertResult]:
        """Create the job named in *fields*, or bring it in line with them (idempotent by name).

        Used by the DSL loader: registering the same definition twice changes nothing.
        """
        name = str(fields.get("name", ""))
        try:
            current = await self.store.get_job_by_name(name)
        except JobNotFound:
            try:
                return await self.create_job(fields, actor=actor, source=source), "created"
            except DuplicateJobName:  # another node registered it a moment ago
                current = await self.store.get_job_by_name(name)
        full = {k: fields.get(k, _default(k)) for k in _DEFINITION if k != "name"}
        updated, changed = await self._update(current, full, actor)
        if updated.source != source:
            updated = await self.store.update_job(updated.id, {"source": source})
        return updated, ("updated" if changed else "unchanged")

    async def delete_job(self, ref: str, *, actor: str) -> Job:
        """Delete a job, its runs and its session state."""
        job = await self.get_job(ref)
        record = _record(SecurityEventType.CronJobDeleted, actor, job, _summary(job))
        return await self.store.delete_job(job.id, self.clock.now(), [record])

    # -- state ------------------------------------------------------------------------

    async def pause_job(self, ref: str, *, actor: str) -> Job:
        """Stop scheduling a job, keeping its state; pausing a paused job changes nothing."""
        job = await self.get_job(ref)
        if job.status is JobStatus.paused:
            return job
        record = _record(SecurityEventType.CronJobPaused, actor, job, {"name": job.name})
        return await self.store.update_job(
            job.id,
            {"status": JobStatus.paused, "updated_at": self.clock.now()},
            [record],
            expect_status=(JobStatus.active,),
        )

    async def resume_job(self, ref: str, *, actor: str) -> Job:
        """Schedule a paused job again; occurrences missed while paused follow misfire_policy."""
        job = await self.get_job(ref)
        if job.status is JobStatus.active:
            return job
        if job.status is not JobStatus.paused:
            hint = (
                "use `symbi cron reset` after fixing it"
                if job.status in (JobStatus.dead_letter, JobStatus.failed)
                else "a completed one-shot job does not run again"
            )
            raise InvalidTransition(f"job {job.name!r}", job.status.value, "resume", hint)
        now = self.clock.now()
        changes: dict[str, Any] = {"status": JobStatus.active, "updated_at": now}
        if job.next_run is None:
            changes["next_run"] = next_fire_time(job, now)
        record = _record(SecurityEventType.CronJobResumed, actor, job, {"name": job.name})
        resumed = await self.store.update_job(
            job.id, changes, [record], expect_status=(JobStatus.paused,)
        )
        self._changed()
        return resumed

    async def reset_job(self, ref: str, *, actor: str) -> Job:
        """Bring a dead-lettered or failed job back to active with a clean failure count."""
        job = await self.get_job(ref)
        if job.status not in (JobStatus.dead_letter, JobStatus.failed):
            raise InvalidTransition(
                f"job {job.name!r}", job.status.value, "reset", "only dead_letter or failed jobs"
            )
        now = self.clock.now()
        record = _record(
            SecurityEventType.CronJobReset,
            actor,
            job,
            {"name": job.name, "previous_status": job.status.value, "reason": job.status_reason},
        )
        changes = {
            "status": JobStatus.active,
            "status_reason": None,
            "failure_count": 0,
            "next_run": next_fire_time(job, now),
            "updated_at": now,
        }
        reset = await self.store.update_job(
            job.id, changes, [record], expect_status=(JobStatus.dead_letter, JobStatus.failed)
        )
        self._changed()
        return reset

    # -- runs -------------------------------------------------------------------------

    async def trigger_run(self, ref: str, *, actor: str, input: str | None = None) -> Run:  # noqa: A002 - the spec's name
        """Queue a run of the job now, outside its schedule; a scheduler node picks it up."""
        job = await self.get_job(ref)
        if input is not None:
            convert_fields({"input": input})
        now = self.clock.now()
        run = Run(
            id=new_id(),
            job_id=job.id,
            job_name=job.name,
            trigger=RunTrigger.manual,
            scheduled_for=now,
            status=RunStatus.queued,
            input=job.input if input is None else input,
            details={"requested_by": actor},
            created_at=now,
        )
        record = _record(
            SecurityEventType.CronJobTriggered, actor, job, {"name": job.name, "run_id": run.id}
        )
        # A manual run's occurrence is the moment it was asked for; two requests in the
        # same microsecond get consecutive microseconds instead of a conflict.
        for _ in range(_MANUAL_SLOTS - 1):
            try:
                created = await self.store.create_run(run, [record])
            except ConflictError:
                run = dataclasses.replace(run, scheduled_for=run.scheduled_for + _MICROSECOND)
            else:
                self._changed()
                return created
        created = await self.store.create_run(run, [record])
        self._changed()
        return created

    async def backfill(
        self,
        ref: str,
        start: datetime,
        end: datetime,
        *,
        actor: str,
        dry_run: bool = False,
        limit: int = 1000,
    ) -> tuple[list[datetime], list[Run]]:
        """Queue runs for the occurrences in [start, end) that have no run yet.

        Returns the occurrences found and the runs queued (none with *dry_run*). An
        occurrence recorded only as ``skipped`` gets a new attempt. At most *limit*.
        """
        job = await self.get_job(ref)
        if job.cron_expr is None:
            raise ValidationError([("job", f"{job.name!r} is a one-shot job; backfill needs cron")])
        if end <= start:
            raise ValidationError([("range", "--to must be after --from")])
        times = _occurrences(job, start, end, limit)
        done = await self._runs_by_occurrence(job, start, end)
        missed = [t for t in times if done.get(t, (0, True))[1]]
        if dry_run:
            return missed, []
        now = self.clock.now()
        queued = []
        for when in missed:
            run = Run(
                id=new_id(),
                job_id=job.id,
                job_name=job.name,
                trigger=RunTrigger.catchup,
                scheduled_for=when,
                status=RunStatus.queued,
                attempt=done.get(when, (0, True))[0] + 1,
                input=job.input,
                details={"requested_by": actor, "backfill": True},
                created_at=now,
            )
            record = _record(
                SecurityEventType.CronJobTriggered,
                actor,
                job,
                {"name": job.name, "run_id": run.id, "backfill": when.isoformat()},
            )
            queued.append(await self.store.create_run(run, [record]))
        self._changed()
        return missed, queued

    async def _runs_by_occurrence(
        self, job: Job, start: datetime, end: datetime
    ) -> dict[datetime, tuple[int, bool]]:
        """Occurrence -> (highest attempt, whether every attempt was skipped)."""
        found: dict[datetime, tuple[int, bool]] = {}
        query = RunFilter(job_id=job.id, since=start, until=end)
        async for run in self.store.iter_runs(query):
            attempt, all_skipped = found.get(run.scheduled_for, (0, True))
            found[run.scheduled_for] = (
                max(attempt, run.attempt),
                all_skipped and run.status is RunStatus.skipped,
            )
        return found

    async def approve_run(self, run_id: str, *, actor: str) -> Run:
        """Let a waiting run go ahead (only a named approver may, if the policy names any)."""
        run, job = await self._pending(run_id, actor, "approve")
        record = AuditRecord(
            type=SecurityEventType.CronJobApproved, actor=actor, job_id=job.id, run_id=run.id
        )
        approved = await self.store.set_run_status(
            run.id,
            RunStatus.queued,
            expect=(RunStatus.pending_approval,),
            now=self.clock.now(),
            details={"approved_by": actor},
            audit=[record],
        )
        self._changed()
        return approved

    async def reject_run(self, run_id: str, *, actor: str, reason: str | None = None) -> Run:
        """Refuse a run waiting for approval; it ends ``cancelled`` with the reason."""
        check_text("reason", reason, 2000)
        run, job = await self._pending(run_id, actor, "reject")
        why = f"rejected by {actor}" + (f": {reason}" if reason else "")
        record = AuditRecord(
            type=SecurityEventType.CronJobRejected,
            actor=actor,
            job_id=job.id,
            run_id=run.id,
            details={"reason": reason},
        )
        return await self.store.set_run_status(
            run.id,
            RunStatus.cancelled,
            expect=(RunStatus.pending_approval,),
            now=self.clock.now(),
            error_message=why,
            details={"rejected_by": actor},
            audit=[record],
        )

    async def _pending(self, run_id: str, actor: str, action: str) -> tuple[Run, Job]:
        run = await self.store.get_run(run_id)
        job = await self.store.get_job(run.job_id)
        if run.status is not RunStatus.pending_approval:
            raise InvalidTransition(f"run {run_id}", run.status.value, action)
        approvers = job.policy.approvers
        if approvers and actor not in approvers:
            raise NotAllowed(actor, f"{action} runs of job {job.name!r}", approvers)
        return run, job

    # -- queries ----------------------------------------------------------------------

    async def get_job(self, ref: str) -> Job:
        """Return a job by id or by name; raise `JobNotFound`."""
        first, second = (
            (self.store.get_job, self.store.get_job_by_name)
            if _looks_like_id(ref)
            else (self.store.get_job_by_name, self.store.get_job)
        )
        try:
            return await first(ref)
        except JobNotFound:
            try:
                return await second(ref)
            except JobNotFound:
                raise JobNotFound(ref) from None

    async def list_jobs(self, query: JobFilter | None = None) -> list[Job]:
        """Return jobs matching *query*."""
        return await self.store.list_jobs(query or JobFilter())

    async def history(self, ref: str, query: RunFilter | None = None) -> list[Run]:
        """Return a job's runs, newest first."""
        job = await self.get_job(ref)
        base = query or RunFilter()
        return await self.store.list_runs(dataclasses.replace(base, job_id=job.id))

    async def get_run(self, run_id: str) -> Run:
        """Return one run; raise `RunNotFound`."""
        return await self.store.get_run(run_id)

    async def list_runs(self, query: RunFilter) -> list[Run]:
        """Return runs across jobs (for example, all runs pending approval)."""
        return await self.store.list_runs(query)

    async def next_runs(self, ref: str, count: int = 1) -> list[datetime]:
        """Return the job's next *count* fire times from now (empty when none or not active)."""
        job = await self.get_job(ref)
        if job.status is not JobStatus.active or job.next_run is None:
            return []
        times = [job.next_run]
        while len(times) < count:
            following = next_fire_time(job, times[-1])
            if following is None:
                break
            times.append(following)
        return times

    async def audit(self, query: AuditFilter | None = None) -> list[AuditEvent]:
        """Return audit events matching *query*."""
        return await self.store.list_audit(query or AuditFilter())

    async def verify_audit(self) -> AuditVerification:
        """Check the audit log's hash chain."""
        return await self.store.verify_audit_chain()


def _occurrences(job: Job, start: datetime, end: datetime, limit: int) -> list[datetime]:
    times: list[datetime] = []
    moment = next_fire_time(job, start - _MICROSECOND)
    while moment is not None and moment < end:
        if len(times) >= limit:
            raise ValidationError(
                [("range", f"more than {limit} occurrences between the dates; narrow the range")]
            )
        times.append(moment)
        moment = next_fire_time(job, moment)
    return times


def _looks_like_id(ref: str) -> bool:
    try:
        uuid.UUID(ref)
    except ValueError:
        return False
    return True


def _default(name: str) -> Any:
    field = next(f for f in dataclasses.fields(Job) if f.name == name)
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return None


def _summary(job: Job) -> dict[str, Any]:
    """What the audit log keeps of a definition: enough to know it, never a secret."""
    return {
        "name": job.name,
        "agent_id": job.agent_id,
        "cron_expr": job.cron_expr,
        "at": None if job.at is None else job.at.isoformat(),
        "timezone": job.timezone,
        "source": job.source,
        "delivery": list(job.delivery),
        "redacted": sorted(k for k in _SENSITIVE if getattr(job, k)),
    }


def _record(kind: SecurityEventType, actor: str, job: Job, details: dict[str, Any]) -> AuditRecord:
    return AuditRecord(type=kind, actor=actor, job_id=job.id, details=details)
