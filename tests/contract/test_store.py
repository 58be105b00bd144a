"""The JobStore contract, run on every backend (SQLite file and PostgreSQL)."""

from __future__ import annotations

import dataclasses
from datetime import time, timedelta

import anyio
import pytest

from symbiont.core.enums import (
    JobStatus,
    MisfirePolicy,
    RunStatus,
    RunTrigger,
    SecurityEventType,
    SessionMode,
)
from symbiont.core.errors import (
    ConflictError,
    DuplicateJobName,
    InvalidTransition,
    JobNotFound,
    RunNotFound,
)
from symbiont.core.ids import new_id
from symbiont.core.models import AllowedHours, DeliveryResult, Heartbeat, Policy
from symbiont.scheduler.planner import OccurrencePlanner
from symbiont.store import open_store
from symbiont.store.base import (
    AuditFilter,
    AuditRecord,
    JobFilter,
    JobStore,
    RunFilter,
    RunOutcome,
)
from tests.contract.helpers import T0, make_job, make_run

pytestmark = pytest.mark.anyio
PLANNER = OccurrencePlanner()
LEASE = timedelta(seconds=30)


async def test_job_round_trips_every_field(store: JobStore) -> None:
    """A job comes back from the store exactly as it went in, nested values included."""
    job = make_job(
        "full",
        timezone="Europe/Berlin",
        session_mode=SessionMode.shared_persistent,
        delivery=("webhook", "custom:pager"),
        webhook_url="https://example.com/hook",
        webhook_headers={"Authorization": "Bearer ${TOKEN}"},
        email_recipients=("ops@example.com",),
        policy=Policy(
            require_approval=True,
            approvers=("alice",),
            max_runtime=timedelta(minutes=30),
            require_capabilities=("deploy",),
            allowed_hours=AllowedHours(start=time(22), end=time(4), timezone="UTC"),
            allowed_environments=("prod",),
            require_agent_pin=True,
        ),
        heartbeat=Heartbeat(enabled=True, max_iterations=7),
        max_retries=5,
        retry_delay=timedelta(seconds=90),
        misfire_policy=MisfirePolicy.run_all,
        agent_pin_jwt="${PIN}",
        input="hello",
    )
    await store.create_job(job)
    assert await store.get_job(job.id) == job
    assert await store.get_job_by_name("full") == job


async def test_duplicate_name_is_refused_and_writes_nothing(store: JobStore) -> None:
    """A second job with a taken name raises DuplicateJobName and leaves no trace."""
    audit = [AuditRecord(type=SecurityEventType.CronJobCreated, actor="t")]
    await store.create_job(make_job("dup"), audit)
    with pytest.raises(DuplicateJobName, match="'dup' already exists"):
        await store.create_job(make_job("dup"), audit)
    assert len(await store.list_jobs()) == 1
    assert len(await store.list_audit()) == 1


async def test_update_sets_only_given_fields(store: JobStore) -> None:
    """update_job changes the named fields and keeps every other one."""
    job = await store.create_job(make_job("u", description="old"))
    updated = await store.update_job(job.id, {"description": "new", "max_concurrent": 3})
    assert updated == dataclasses.replace(job, description="new", max_concurrent=3)


async def test_update_checks_expected_status_and_name_clash(store: JobStore) -> None:
    """A status precondition or a rename onto a taken name refuses the update."""
    a = await store.create_job(make_job("a"))
    await store.create_job(make_job("b"))
    with pytest.raises(InvalidTransition, match="cannot resume job 'a': it is active"):
        await store.update_job(
            a.id, {"status": JobStatus.active}, expect_status=(JobStatus.paused,)
        )
    with pytest.raises(DuplicateJobName):
        await store.update_job(a.id, {"name": "b"})
    with pytest.raises(JobNotFound):
        await store.update_job("nope", {"description": "x"})
    assert (await store.get_job(a.id)).name == "a"


async def test_list_filters_and_pages(store: JobStore) -> None:
    """Listing filters by status, agent and literal name prefix, and pages by name."""
    await store.create_job(make_job("report_a", agent_id="r"))
    await store.create_job(make_job("report%b", agent_id="r", status=JobStatus.paused))
    await store.create_job(make_job("reportXc", agent_id="s"))
    await store.create_job(make_job("other", agent_id="s"))
    names = [j.name for j in await store.list_jobs(JobFilter(name_prefix="report_"))]
    assert names == ["report_a"]
    paused = await store.list_jobs(JobFilter(status=JobStatus.paused))
    assert [j.name for j in paused] == ["report%b"]
    by_agent = await store.list_jobs(JobFilter(agent_id="s"))
    assert [j.name for j in by_agent] == ["other", "reportXc"]
    page = await store.list_jobs(JobFilter(limit=2, offset=1))
    assert [j.name for j in page] == ["report%b", "reportXc"]  # byte order on every backend
    counts = await store.count_jobs()
    assert counts[JobStatus.active] == 3
    assert counts[JobStatus.paused] == 1


async def test_delete_removes_runs_and_session(store: JobStore) -> None:
    """Deleting a job removes its runs and session state; later lookups say not found."""
    job = await store.create_job(make_job("gone"))
    run = await store.create_run(make_run(job))
    await store.put_session(job.id, "s", [{"role": "user"}], T0)
    await store.delete_job(job.id, T0)
    with pytest.raises(JobNotFound, match="no job with id or name"):
        await store.get_job(job.id)
    with pytest.raises(RunNotFound):
        await store.get_run(run.id)
    assert (await store.get_session(job.id)).summary is None


async def test_claim_due_advances_and_creates_runs_once(store: JobStore) -> None:
    """Claiming takes only due active jobs, moves next_run on, and never claims twice."""
    due = await store.create_job(make_job("due"))
    await store.create_job(make_job("later", next_run=T0 + timedelta(minutes=5)))
    await store.create_job(make_job("paused", status=JobStatus.paused))
    claimed = await store.claim_due(T0, "node-1", PLANNER)
    assert [(c.job.name, c.run.scheduled_for, c.run.node_id) for c in claimed] == [
        ("due", T0, "node-1")
    ]
    assert claimed[0].run.status is RunStatus.queued
    assert (await store.get_job(due.id)).next_run == T0 + timedelta(minutes=1)
    assert await store.claim_due(T0, "node-2", PLANNER) == []
    assert await store.next_due_time() == T0 + timedelta(minutes=1)


async def test_count_due_at_counts_the_active_jobs_of_one_instant(store: JobStore) -> None:
    """A burst's size: active jobs due exactly then; paused ones and other instants not."""
    for name in ("a", "b", "c"):
        await store.create_job(make_job(name))
    await store.create_job(make_job("paused", status=JobStatus.paused))
    await store.create_job(make_job("later", next_run=T0 + timedelta(seconds=1)))
    assert await store.count_due_at(T0) == 3
    assert await store.count_due_at(T0 + timedelta(seconds=1)) == 1
    await store.claim_due(T0, "n1", PLANNER)
    assert await store.count_due_at(T0) == 0


async def test_claim_without_free_slots_leaves_runs_in_the_shared_queue(store: JobStore) -> None:
    """With hold_queued off, runs beyond *start* are queued for any node, not held."""
    for name in ("a", "b", "c"):
        await store.create_job(make_job(name))
    await store.create_job(make_job("jittery", jitter_seconds=5))
    claimed = await store.claim_due(T0, "n1", PLANNER, start=1, hold_queued=False)
    by_status = sorted((c.run.status, c.run.node_id is not None) for c in claimed)
    assert by_status == sorted(
        [
            (RunStatus.running, True),  # the one free slot
            (RunStatus.queued, True),  # the jittered job's run: its node waits out the delay
            (RunStatus.queued, False),
            (RunStatus.queued, False),
        ]
    )
    shared = {c.run.id for c in claimed if c.run.node_id is None}
    for run_id in shared:
        stored = await store.get_run(run_id)
        assert (stored.node_id, stored.lease_expires_at) == (None, None)
    taken = await store.acquire_queued("n2", T0, LEASE)
    assert {c.run.id for c in taken} == shared
    assert {c.run.node_id for c in taken} == {"n2"}


async def test_start_runs_starts_held_runs_in_one_go(store: JobStore) -> None:
    """Runs claimed ahead of their time start together; a full job's run is skipped."""
    solo = await store.create_job(make_job("solo", max_concurrent=1))
    pair = await store.create_job(make_job("pair", max_concurrent=2))
    gone = await store.create_job(make_job("gone"))
    running = await store.create_run(make_run(solo, T0 - timedelta(minutes=1)))
    assert (await store.start_run(running.id, "n1", T0, LEASE)).run is not None
    claimed = await store.claim_due(T0, "n1", PLANNER)
    ids = {c.job.name: c.run.id for c in claimed}
    await store.delete_job(gone.id, T0)  # its claimed run goes with it
    extra = await store.create_run(make_run(pair, T0 + timedelta(seconds=1)))
    other = await store.create_run(make_run(pair, T0 + timedelta(seconds=2)))
    await store.acquire_queued("n2", T0 + timedelta(seconds=2), LEASE)  # n2 holds both
    runs = {c.run.id: c.run for c in claimed} | {extra.id: extra}
    ghost = make_run(pair, T0 + timedelta(seconds=9))  # never stored
    order = [runs[ids["solo"]], runs[ids["pair"]], extra, ghost, runs[ids["gone"]]]
    results = await store.start_runs(order, "n1", T0 + timedelta(seconds=3), LEASE)
    assert [r.run is not None for r in results] == [False, True, False, False, False]
    assert results[1].run is not None
    assert (results[1].run.status, results[1].run.node_id) == (RunStatus.running, "n1")
    assert "max_concurrent=1" in (results[0].skipped_reason or "")
    started = await store.get_run(ids["pair"])
    assert (started.status, started.node_id) == (RunStatus.running, "n1")
    assert started.started_at == T0 + timedelta(seconds=3)
    assert (await store.get_run(ids["solo"])).status is RunStatus.skipped
    assert (await store.get_run(extra.id)).node_id == "n2"  # held by another node: untouched
    assert (await store.get_run(other.id)).status is RunStatus.queued


async def test_claim_records_missed_occurrences(store: JobStore) -> None:
    """After downtime run_once runs the latest missed occurrence and records the rest."""
    job = await store.create_job(make_job("late"))
    now = T0 + timedelta(minutes=10, seconds=30)
    claimed = await store.claim_due(now, "n", PLANNER)
    assert [(c.run.scheduled_for, c.run.trigger) for c in claimed] == [
        (T0 + timedelta(minutes=10), RunTrigger.catchup)
    ]
    skipped = await store.list_runs(RunFilter(job_id=job.id, status=RunStatus.skipped))
    assert len(skipped) == 1
    assert "10 occurrences missed" in (skipped[0].error_message or "")
    events = await store.list_audit(AuditFilter(type=SecurityEventType.CronJobSkipped))
    assert len(events) == 1


async def test_concurrent_claims_take_each_occurrence_once(store_url: str) -> None:
    """Two store connections claiming at once never create the same occurrence twice."""
    async with open_store(store_url) as first, open_store(store_url) as second:
        for i in range(40):
            await first.create_job(make_job(f"j{i}"))
        results: list[list[str]] = [[], []]

        async def claim(slot: int, store: JobStore) -> None:
            for _ in range(5):
                got = await store.claim_due(T0, f"node-{slot}", PLANNER, limit=7)
                results[slot].extend(c.job.name for c in got)

        async with anyio.create_task_group() as tg:
            tg.start_soon(claim, 0, first)
            tg.start_soon(claim, 1, second)
        everything = results[0] + results[1]
        assert sorted(everything) == sorted(f"j{i}" for i in range(40))
        runs = await first.list_runs(RunFilter(limit=1000))
        assert len(runs) == 40


async def test_same_occurrence_attempt_is_unique(store: JobStore) -> None:
    """A second run for the same occurrence and attempt is refused."""
    job = await store.create_job(make_job("u"))
    await store.create_run(make_run(job))
    with pytest.raises(ConflictError, match="already has attempt 1"):
        await store.create_run(make_run(job))


async def test_finish_counts_failures_and_dead_letters(store: JobStore) -> None:
    """Consecutive failures reach max_retries and move the job to dead_letter with an event."""
    job = await store.create_job(make_job("flaky", max_retries=2))
    for i in range(2):
        run = await store.create_run(make_run(job, T0 + timedelta(minutes=i)))
        await store.start_run(run.id, "n", T0, LEASE)
        done = await store.finish_run(
            run.id,
            RunOutcome(status=RunStatus.failed, error_message="boom"),
            T0,
            default_max_retries=3,
            actor="scheduler@n",
        )
    assert done.dead_lettered
    assert done.job is not None
    assert done.job.status is JobStatus.dead_letter
    assert done.job.failure_count == 2
    assert "max_retries=2" in (done.job.status_reason or "")
    kinds = [e.type for e in await store.list_audit()]
    assert kinds.count(SecurityEventType.CronJobFailed) == 2
    assert kinds[-1] is SecurityEventType.CronJobDeadLettered


async def test_success_resets_failures_and_completes_one_shot(store: JobStore) -> None:
    """A success resets failure_count, stores results, and completes a one-shot job."""
    job = await store.create_job(
        make_job("once", cron_expr=None, at=T0, failure_count=2, max_retries=5)
    )
    run = await store.create_run(make_run(job))
    started = (await store.start_run(run.id, "n", T0, LEASE)).run
    assert started is not None
    assert started.status is RunStatus.running
    outcome = RunOutcome(
        status=RunStatus.succeeded,
        output="ok",
        summary="all good",
        iterations=3,
        execution_time_ms=12,
        deliveries=(DeliveryResult(channel="stdout", status="delivered"),),
        details={"policy": "allow"},
    )
    done = await store.finish_run(run.id, outcome, T0, default_max_retries=3, actor="s")
    assert done.job is not None
    assert (done.job.status, done.job.failure_count, done.job.run_count) == (
        JobStatus.completed,
        0,
        1,
    )
    stored = await store.get_run(run.id)
    assert (stored.output, stored.summary, stored.iterations, stored.finished_at) == (
        "ok",
        "all good",
        3,
        T0,
    )
    assert stored.deliveries == outcome.deliveries
    with pytest.raises(InvalidTransition, match="it is succeeded"):
        await store.finish_run(run.id, outcome, T0, default_max_retries=3, actor="s")


async def test_denied_runs_do_not_count_as_failures(store: JobStore) -> None:
    """A denied run is recorded but leaves the failure count alone."""
    job = await store.create_job(make_job("d", max_retries=1))
    run = await store.create_run(make_run(job))
    done = await store.finish_run(
        run.id,
        RunOutcome(status=RunStatus.denied, error_message="outside allowed hours"),
        T0,
        default_max_retries=3,
        actor="s",
    )
    assert done.job is not None
    assert (done.job.status, done.job.failure_count) == (JobStatus.active, 0)
    kinds = [e.type for e in await store.list_audit()]
    assert kinds == [SecurityEventType.CronJobDenied]


async def test_finish_runs_writes_a_batch_and_leaves_closed_runs_alone(store: JobStore) -> None:
    """A batch finish records each open run once, counts as single finishes would.

    A run closed meanwhile (or given twice) gets None and keeps what it had.
    """
    flaky = await store.create_job(make_job("flaky", max_retries=1))
    fine = await store.create_job(make_job("fine"))
    started = []
    for job, when in ((flaky, T0), (fine, T0), (fine, T0 + timedelta(minutes=1))):
        run = await store.create_run(make_run(job, when))
        result = await store.start_run(run.id, "n", T0, LEASE)
        assert result.run is not None
        started.append(result.run)
    failing, passing, closed = started
    await store.finish_run(
        closed.id, RunOutcome(status=RunStatus.cancelled), T0, default_max_retries=3, actor="s"
    )
    done = await store.finish_runs(
        [
            (failing, RunOutcome(status=RunStatus.failed, error_message="boom")),
            (passing, RunOutcome(status=RunStatus.succeeded, output="ok", details={"k": 1})),
            (closed, RunOutcome(status=RunStatus.succeeded, output="late")),
            (passing, RunOutcome(status=RunStatus.failed, error_message="second outcome")),
        ],
        T0 + timedelta(seconds=5),
        default_max_retries=3,
        actor="scheduler@n",
    )
    first, second, third, fourth = done
    assert (third, fourth) == (None, None)
    assert first is not None
    assert first.dead_lettered
    assert first.job is not None
    assert (first.job.status, first.job.failure_count) == (JobStatus.dead_letter, 1)
    assert second is not None
    assert (second.run.status, second.job) == (RunStatus.succeeded, None)
    stored = {r.id: r for r in await store.list_runs(RunFilter(limit=10))}
    assert stored[failing.id].status is RunStatus.failed
    assert (stored[passing.id].status, stored[passing.id].output) == (RunStatus.succeeded, "ok")
    assert stored[passing.id].details == {"k": 1}
    assert stored[passing.id].finished_at == T0 + timedelta(seconds=5)
    assert (stored[closed.id].status, stored[closed.id].output) == (RunStatus.cancelled, None)
    assert (await store.get_job(fine.id)).run_count == 1
    kinds = [e.type for e in await store.list_audit()]
    assert kinds[-3:] == [
        SecurityEventType.CronJobFailed,
        SecurityEventType.CronJobDeadLettered,
        SecurityEventType.CronJobExecuted,
    ]


async def test_leases_extend_and_lapsed_runs_are_recovered(store: JobStore) -> None:
    """A running run whose lease lapses becomes interrupted and is queued again as attempt 2."""
    job = await store.create_job(make_job("l"))
    run = await store.create_run(make_run(job, input="x"))
    await store.start_run(run.id, "dead-node", T0, LEASE)
    held = await store.extend_leases("dead-node", [run.id], T0 + timedelta(minutes=1))
    assert held == [run.id]
    assert await store.extend_leases("other", [run.id], T0 + timedelta(minutes=5)) == []
    assert await store.reap_expired(T0 + timedelta(seconds=59), "s") == []
    recovered = await store.reap_expired(T0 + timedelta(minutes=2), "s")
    assert [(r.attempt, r.trigger, r.input, r.scheduled_for) for r in recovered] == [
        (2, RunTrigger.recovery, "x", T0)
    ]
    old = await store.get_run(run.id)
    assert old.status is RunStatus.interrupted
    assert "dead-node stopped renewing its lease" in (old.error_message or "")
    taken = await store.acquire_queued("n2", T0 + timedelta(minutes=2), LEASE)
    assert [c.run.id for c in taken] == [recovered[0].id]
    assert await store.acquire_queued("n3", T0 + timedelta(minutes=2), LEASE) == []


async def test_history_queries(store: JobStore) -> None:
    """History filters by status and time range, newest first, and iterates past a page."""
    job = await store.create_job(make_job("h"))
    for i in range(12):
        run = await store.create_run(make_run(job, T0 + timedelta(minutes=i)))
        status = RunStatus.failed if i % 3 == 0 else RunStatus.succeeded
        await store.finish_run(
            run.id, RunOutcome(status=status), T0, default_max_retries=0, actor="s"
        )
    page = await store.list_runs(RunFilter(job_id=job.id, limit=3))
    assert [r.scheduled_for.minute for r in page] == [11, 10, 9]
    failed = await store.list_runs(RunFilter(job_id=job.id, status=RunStatus.failed))
    assert [r.scheduled_for.minute for r in failed] == [9, 6, 3, 0]
    window = await store.list_runs(
        RunFilter(job_id=job.id, since=T0 + timedelta(minutes=2), until=T0 + timedelta(minutes=4))
    )
    assert [r.scheduled_for.minute for r in window] == [3, 2]
    every = [r async for r in store.iter_runs(RunFilter(job_id=job.id), batch=5)]
    assert len(every) == 12


async def test_sessions_round_trip(store: JobStore) -> None:
    """Session state is replaced as a whole and read back."""
    job = await store.create_job(make_job("s"))
    await store.put_session(job.id, "first", [{"role": "assistant", "content": "a"}], T0)
    await store.put_session(job.id, "second", [], T0 + timedelta(seconds=1))
    state = await store.get_session(job.id)
    assert (state.summary, state.messages, state.updated_at) == (
        "second",
        (),
        T0 + timedelta(seconds=1),
    )


async def test_prune_keeps_open_runs(store: JobStore) -> None:
    """Retention deletes old finished runs and extra ones per job, never open runs."""
    job = await store.create_job(make_job("p"))
    ids = []
    for i in range(6):
        run = await store.create_run(make_run(job, T0 + timedelta(days=i)))
        ids.append(run.id)
        if i != 0:
            await store.finish_run(
                run.id,
                RunOutcome(status=RunStatus.succeeded),
                T0,
                default_max_retries=0,
                actor="s",
            )
    await store.start_run(ids[0], "n", T0, LEASE)
    deleted = await store.prune_history(T0 + timedelta(days=10), timedelta(days=8), None)
    assert deleted == 1  # day 1; day 0 is still running
    deleted = await store.prune_history(T0 + timedelta(days=10), None, 2)
    assert deleted == 2
    left = {r.id for r in await store.list_runs(RunFilter(job_id=job.id))}
    assert left == {ids[0], ids[4], ids[5]}


async def test_audit_chain_verifies(store: JobStore) -> None:
    """An untouched audit log verifies; events come back in order with their data."""
    for i in range(5):
        await store.append_audit(
            [AuditRecord(type=SecurityEventType.CronJobPaused, actor=f"a{i}", details={"i": i})],
            T0 + timedelta(seconds=i),
        )
    result = await store.verify_audit_chain()
    assert (result.ok, result.events) == (True, 5)
    events = await store.list_audit(AuditFilter(since=T0 + timedelta(seconds=2)))
    assert [e.actor for e in events] == ["a2", "a3", "a4"]
    assert events[0].prev_hash == (await store.list_audit())[1].hash


async def test_create_jobs_is_all_or_nothing(store: JobStore) -> None:
    """A batch with one taken name writes none of its jobs."""
    await store.create_job(make_job("taken"))
    batch = [make_job(f"b{i}") for i in range(3)] + [make_job("taken")]
    with pytest.raises(DuplicateJobName, match="'taken'"):
        await store.create_jobs(batch)
    assert [j.name for j in await store.list_jobs()] == ["taken"]
    await store.create_jobs(batch[:3])
    assert len(await store.list_jobs()) == 4


async def test_due_jobs_reads_without_claiming(store: JobStore) -> None:
    """due_jobs lists due active jobs earliest first and leaves them due."""
    await store.create_job(make_job("second", next_run=T0))
    await store.create_job(make_job("first", next_run=T0 - timedelta(minutes=1)))
    await store.create_job(make_job("future", next_run=T0 + timedelta(minutes=1)))
    names = [j.name for j in await store.due_jobs(T0)]
    assert names == ["first", "second"]
    assert [j.name for j in await store.due_jobs(T0)] == names


async def test_start_respects_max_concurrent_and_ownership(store: JobStore) -> None:
    """A start beyond max_concurrent records the run skipped; another node's run is not taken."""
    job = await store.create_job(make_job("c"))
    first = await store.create_run(make_run(job, T0))
    second = await store.create_run(make_run(job, T0 + timedelta(seconds=1)))
    assert (await store.start_run(first.id, "n", T0, LEASE, max_concurrent=1)).run is not None
    result = await store.start_run(second.id, "n", T0, LEASE, max_concurrent=1)
    assert result.run is None
    assert "max_concurrent=1" in (result.skipped_reason or "")
    assert (await store.get_run(second.id)).status is RunStatus.skipped
    assert [e.type for e in await store.list_audit()] == [SecurityEventType.CronJobSkipped]
    third = await store.create_run(make_run(job, T0 + timedelta(seconds=2), node_id="other"))
    assert (await store.start_run(third.id, "n", T0, LEASE)).run is None
    assert await store.release("other", [third.id]) == 1
    assert (await store.start_run(third.id, "n", T0, LEASE)).run is not None


async def test_claimed_runs_of_a_dead_node_are_handed_back(store: JobStore) -> None:
    """Runs claimed but never started by a node that died return to the pool after the lease."""
    job = await store.create_job(make_job("h"))
    claimed = await store.claim_due(T0, "dead", PLANNER, lease=LEASE)
    assert claimed[0].run.lease_expires_at == T0 + LEASE
    assert await store.acquire_queued("n2", T0 + timedelta(seconds=1), LEASE) == []
    await store.reap_expired(T0 + LEASE + timedelta(seconds=1), "s")
    taken = await store.acquire_queued("n2", T0 + LEASE + timedelta(seconds=1), LEASE)
    assert [(c.run.id, c.job.id) for c in taken] == [(claimed[0].run.id, job.id)]


async def test_lease_calls_take_more_ids_than_a_statement_can(store: JobStore) -> None:
    """Renewing and releasing work for any number of held runs (a claimed-ahead burst).

    70,000 ids exceed what one statement can carry (SQLite: 32,766 parameters).
    """
    job = await store.create_job(make_job("held"))
    (claimed,) = await store.claim_due(T0, "n1", PLANNER)
    ids = [claimed.run.id, *(new_id() for _ in range(70_000))]
    assert await store.extend_leases("n1", ids, T0 + LEASE) == [claimed.run.id]
    assert await store.release("n1", ids) == 1
    assert (await store.get_run(claimed.run.id)).node_id is None
    assert (await store.get_job(job.id)).name == "held"
