"""JobService: validation, schedules, state changes and their audit trail, on a real SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from symbiont.core.enums import JobStatus, RunStatus, RunTrigger, SecurityEventType
from symbiont.core.errors import (
    DuplicateJobName,
    InvalidTransition,
    JobNotFound,
    NotAllowed,
    ValidationError,
)
from symbiont.service import JobService
from symbiont.store import SQLiteJobStore
from symbiont.store.base import AuditFilter, JobFilter, RunFilter, RunOutcome
from symbiont.testing import FakeClock

pytestmark = pytest.mark.anyio
NOW = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)  # a Monday


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[JobService]:
    """A service over a fresh SQLite store and a fake clock at NOW."""
    async with SQLiteJobStore(tmp_path / "s.db") as store:
        yield JobService(store, FakeClock(NOW))


async def test_create_computes_next_run_and_audits(service: JobService) -> None:
    """Creating a job validates it, schedules it and records who created it."""
    job = await service.create_job(
        {"name": "daily-report", "agent_id": "reporter", "cron_expr": "0 0 9 * * *"},
        actor="alice",
    )
    assert job.next_run == datetime(2026, 3, 2, 9, tzinfo=UTC)
    assert job.status is JobStatus.active
    events = await service.audit()
    assert [(e.type, e.actor, e.job_id) for e in events] == [
        (SecurityEventType.CronJobCreated, "alice", job.id)
    ]


async def test_timezone_is_applied(service: JobService) -> None:
    """A job's cron expression is read in its own time zone."""
    job = await service.create_job(
        {"name": "b", "agent_id": "a", "cron_expr": "0 0 9 * * *", "timezone": "Europe/Berlin"},
        actor="t",
    )
    assert job.next_run == datetime(2026, 3, 3, 8, tzinfo=UTC)


async def test_validation_lists_every_problem_and_writes_nothing(service: JobService) -> None:
    """Bad input is refused with every problem named, and the store stays empty."""
    with pytest.raises(ValidationError) as caught:
        await service.create_job(
            {
                "name": "../etc",
                "agent_id": "a",
                "cron_expr": "0 61 * * *",
                "session_mode": "ephemeral",
                "delivery": ["webhok"],
                "max_concurent": 2,
            },
            actor="t",
        )
    text = str(caught.value)
    assert "name: '../etc' is not a valid job name" in text
    assert "session_mode: 'ephemeral' is not one of" in text
    assert "did you mean 'ephemeral_with_summary'?" in text
    assert "unknown channel 'webhok'" in text
    assert "max_concurent: unknown field (did you mean 'max_concurrent'?)" in text
    assert await service.list_jobs() == []
    assert await service.audit() == []


async def test_cross_field_rules(service: JobService) -> None:
    """Cron and at are exclusive, and channels need their settings."""
    with pytest.raises(ValidationError) as caught:
        await service.create_job(
            {
                "name": "x",
                "agent_id": "a",
                "delivery": ["webhook", "email"],
            },
            actor="t",
        )
    text = str(caught.value)
    assert "give exactly one of cron_expr (recurring) and at (one-shot)" in text
    assert "webhook_url: is required when delivery includes 'webhook'" in text
    assert "email_recipients: is required when delivery includes 'email'" in text
    with pytest.raises(ValidationError, match="hour field: value out of range"):
        await service.create_job(
            {"name": "y", "agent_id": "a", "cron_expr": "0 61 * * *"}, actor="t"
        )


async def test_one_shot_in_the_past_is_refused(service: JobService) -> None:
    """A one-shot time that has already passed is an error, not a silent no-op."""
    with pytest.raises(ValidationError, match="is in the past"):
        await service.create_job(
            {"name": "o", "agent_id": "a", "at": "2026-01-01T00:00:00Z"}, actor="t"
        )
    job = await service.create_job(
        {"name": "o", "agent_id": "a", "at": "2026-03-02T10:00:00+01:00"}, actor="t"
    )
    assert job.next_run == datetime(2026, 3, 2, 9, tzinfo=UTC)


async def test_duplicate_name(service: JobService) -> None:
    """Two jobs cannot share a name."""
    fields = {"name": "same", "agent_id": "a", "cron_expr": "@hourly"}
    await service.create_job(fields, actor="t")
    with pytest.raises(DuplicateJobName):
        await service.create_job(fields, actor="t")


async def test_jobs_are_found_by_id_or_name(service: JobService) -> None:
    """Every operation accepts a job's id or its name."""
    job = await service.create_job(
        {"name": "n1", "agent_id": "a", "cron_expr": "@daily"}, actor="t"
    )
    assert (await service.get_job(job.id)).name == "n1"
    assert (await service.get_job("n1")).id == job.id
    with pytest.raises(JobNotFound, match="'missing'"):
        await service.get_job("missing")


async def test_update_recomputes_schedule_and_audits_changed_fields(service: JobService) -> None:
    """Changing the cron expression moves next_run; the audit names the changed fields."""
    job = await service.create_job(
        {"name": "u", "agent_id": "a", "cron_expr": "0 0 9 * * *"}, actor="t"
    )
    updated = await service.update_job("u", {"cron_expr": "0 0 */2 * * *"}, actor="bob")
    assert updated.next_run == datetime(2026, 3, 2, 10, tzinfo=UTC)
    event = (await service.audit(AuditFilter(type=SecurityEventType.CronJobUpdated)))[0]
    assert (event.actor, event.details["changed"]) == ("bob", ["cron_expr"])
    same = await service.update_job(job.id, {"cron_expr": "0 0 */2 * * *"}, actor="bob")
    assert same == updated
    assert len(await service.audit(AuditFilter(type=SecurityEventType.CronJobUpdated))) == 1


async def test_switching_cron_to_at(service: JobService) -> None:
    """Giving a one-shot time to a cron job turns it into a one-shot job."""
    await service.create_job({"name": "s", "agent_id": "a", "cron_expr": "@daily"}, actor="t")
    job = await service.update_job("s", {"at": "2026-04-01T00:00:00Z"}, actor="t")
    assert (job.cron_expr, job.next_run) == (None, datetime(2026, 4, 1, tzinfo=UTC))


async def test_pause_resume_reset(service: JobService) -> None:
    """Pause and resume are idempotent; reset applies only to dead-lettered jobs."""
    await service.create_job({"name": "p", "agent_id": "a", "cron_expr": "@hourly"}, actor="t")
    paused = await service.pause_job("p", actor="ops")
    assert paused.status is JobStatus.paused
    assert (await service.pause_job("p", actor="ops")).status is JobStatus.paused
    resumed = await service.resume_job("p", actor="ops")
    assert resumed.status is JobStatus.active
    with pytest.raises(InvalidTransition, match="cannot reset job 'p': it is active"):
        await service.reset_job("p", actor="ops")
    kinds = [e.type for e in await service.audit()]
    assert kinds == [
        SecurityEventType.CronJobCreated,
        SecurityEventType.CronJobPaused,
        SecurityEventType.CronJobResumed,
    ]


async def test_reset_brings_dead_letter_back(service: JobService) -> None:
    """A dead-lettered job resets to active with no failures and a fresh next run."""
    job = await service.create_job(
        {"name": "f", "agent_id": "a", "cron_expr": "@hourly", "max_retries": 1}, actor="t"
    )
    run = await service.trigger_run("f", actor="t")
    await service.store.finish_run(
        run.id, RunOutcome(status=RunStatus.failed), NOW, default_max_retries=3, actor="s"
    )
    assert (await service.get_job("f")).status is JobStatus.dead_letter
    with pytest.raises(InvalidTransition, match="use `symbi cron reset`"):
        await service.resume_job("f", actor="ops")
    reset = await service.reset_job(job.id, actor="ops")
    assert (reset.status, reset.failure_count, reset.status_reason) == (JobStatus.active, 0, None)
    assert reset.next_run == datetime(2026, 3, 2, 9, tzinfo=UTC)
    dead = await service.list_jobs(JobFilter(status=JobStatus.dead_letter))
    assert dead == []


async def test_trigger_run_queues_manual_run(service: JobService) -> None:
    """Run-now queues a manual run with the given input, recorded with its requester."""
    await service.create_job(
        {"name": "r", "agent_id": "a", "cron_expr": "@daily", "input": "default"}, actor="t"
    )
    run = await service.trigger_run("r", actor="carol", input="Check production database")
    assert (run.status, run.trigger, run.input) == (
        RunStatus.queued,
        RunTrigger.manual,
        "Check production database",
    )
    assert (await service.trigger_run("r", actor="carol")).input == "default"
    history = await service.history("r", RunFilter(limit=10))
    assert len(history) == 2


async def test_approvals_respect_named_approvers(service: JobService) -> None:
    """Only a named approver may approve; a rejection cancels the run with the reason."""
    await service.create_job(
        {
            "name": "deploy",
            "agent_id": "a",
            "cron_expr": "@daily",
            "policy": {"require_approval": True, "approvers": ["alice"]},
        },
        actor="t",
    )
    runs = []
    for _ in range(2):
        run = await service.trigger_run("deploy", actor="t")
        runs.append(
            await service.store.set_run_status(
                run.id, RunStatus.pending_approval, expect=(RunStatus.queued,), now=NOW
            )
        )
    with pytest.raises(NotAllowed, match="'mallory' may not approve"):
        await service.approve_run(runs[0].id, actor="mallory")
    approved = await service.approve_run(runs[0].id, actor="alice")
    assert (approved.status, approved.details["approved_by"]) == (RunStatus.queued, "alice")
    with pytest.raises(InvalidTransition, match="it is queued"):
        await service.approve_run(runs[0].id, actor="alice")
    rejected = await service.reject_run(runs[1].id, actor="alice", reason="not today")
    assert rejected.status is RunStatus.cancelled
    assert rejected.error_message == "rejected by alice: not today"
    kinds = [e.type for e in await service.audit()][-2:]
    assert kinds == [SecurityEventType.CronJobApproved, SecurityEventType.CronJobRejected]


async def test_upsert_is_idempotent_by_name(service: JobService) -> None:
    """Registering the same definition twice changes nothing; a changed one updates in place."""
    fields = {"name": "dsl-job", "agent_id": "a", "cron_expr": "@daily"}
    job, result = await service.upsert_job(fields, actor="loader", source="dsl:a.symbi")
    assert result == "created"
    again, result = await service.upsert_job(fields, actor="loader", source="dsl:a.symbi")
    assert (result, again.id, again.updated_at) == ("unchanged", job.id, job.updated_at)
    changed, result = await service.upsert_job(
        {**fields, "cron_expr": "@hourly"}, actor="loader", source="dsl:a.symbi"
    )
    assert (result, changed.id, changed.cron_expr) == ("updated", job.id, "@hourly")
    assert len(await service.list_jobs()) == 1


async def test_secrets_stay_templates_and_out_of_audit(service: JobService) -> None:
    """Templated secrets are stored as written and never copied into the audit log."""
    job = await service.create_job(
        {
            "name": "hook",
            "agent_id": "a",
            "cron_expr": "@daily",
            "delivery": ["webhook"],
            "webhook_url": "https://example.com",
            "webhook_headers": {"Authorization": "Bearer ${METRICS_API_KEY}"},
            "webhook_secret": "literal-secret-value",
        },
        actor="t",
    )
    assert job.webhook_headers == {"Authorization": "Bearer ${METRICS_API_KEY}"}
    event = (await service.audit())[0]
    assert "literal-secret-value" not in str(event.details)
    assert "METRICS_API_KEY" not in str(event.details)
    assert event.details["redacted"] == ["webhook_headers", "webhook_secret"]


async def test_next_runs(service: JobService) -> None:
    """next_runs lists the coming fire times; a paused job has none."""
    await service.create_job(
        {"name": "q", "agent_id": "a", "cron_expr": "0 */15 * * * *"}, actor="t"
    )
    times = await service.next_runs("q", 3)
    assert times == [NOW + timedelta(minutes=m) for m in (15, 30, 45)]
    await service.pause_job("q", actor="t")
    assert await service.next_runs("q", 3) == []


async def test_create_jobs_batch_validates_everything_first(service: JobService) -> None:
    """A batch with one bad definition names it by index and creates nothing."""
    good = [{"name": f"g{i}", "agent_id": "a", "cron_expr": "@hourly"} for i in range(3)]
    with pytest.raises(ValidationError, match=r"\[3\]\.cron_expr"):
        await service.create_jobs([*good, {"name": "bad", "agent_id": "a"}], actor="t")
    assert await service.list_jobs() == []
    created = await service.create_jobs(good, actor="t")
    assert [j.next_run for j in created] == [datetime(2026, 3, 2, 9, tzinfo=UTC)] * 3
    assert len(await service.audit()) == 3
