"""The store logic shared by the SQL backends, written once against a small transaction port."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import AsyncIterator, Collection, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta
from typing import Any, Protocol

from symbiont.core.enums import JobStatus, RunStatus, SecurityEventType
from symbiont.core.errors import (
    ConflictError,
    DuplicateJobName,
    InvalidTransition,
    JobNotFound,
    RunNotFound,
)
from symbiont.core.ids import new_ids
from symbiont.core.models import AuditEvent, Job, JobSchedule, Run
from symbiont.store import _sql
from symbiont.store._sql import (
    AUDIT_SELECT,
    GENESIS_HASH,
    JOB_COLUMNS,
    JOB_SELECT,
    OPEN_RUN_STATUSES,
    RUN_COLUMNS,
    RUN_SELECT,
    to_us,
)
from symbiont.store.base import (
    AuditFilter,
    AuditRecord,
    AuditVerification,
    ClaimedRun,
    FinishedRun,
    JobFilter,
    PlannedRun,
    Planner,
    RunFilter,
    RunOutcome,
    SessionState,
    StartResult,
    recovery_of,
)

_JOB_INSERT = f"INSERT INTO jobs ({JOB_SELECT}) VALUES ({', '.join(['%s'] * len(JOB_COLUMNS))})"  # noqa: S608 - constant column list
_RUN_INSERT = (
    f"INSERT INTO runs ({RUN_SELECT}) VALUES ({', '.join(['%s'] * len(RUN_COLUMNS))})"  # noqa: S608 - constant column list
    " ON CONFLICT DO NOTHING"
)
_CLAIM_INSERT = (
    f"INSERT INTO runs ({', '.join(_sql.CLAIM_COLUMNS)})"  # noqa: S608 - constant column list
    f" VALUES ({', '.join(['%s'] * len(_sql.CLAIM_COLUMNS))}) ON CONFLICT DO NOTHING"
)
_FINISH_SQL = (
    "UPDATE runs SET status = %s, output = %s, summary = %s, error_message = %s,"
    " iterations = %s, execution_time_ms = %s, deliveries = %s, finished_at = %s,"
    " lease_expires_at = NULL, details = %s, started_at = %s WHERE id = %s"
)
# One statement for both kinds of counted outcome, so a batch applies them in its order.
_COUNT_SQL = (
    "UPDATE jobs SET run_count = run_count + 1,"
    " failure_count = CASE WHEN %s THEN failure_count + 1 ELSE 0 END, last_run = %s,"
    " status = CASE WHEN %s AND at IS NOT NULL AND status = 'active' THEN 'completed'"
    " ELSE status END WHERE id = %s"
)
_DUE_SQL = (
    f"SELECT {_sql.SCHEDULE_SELECT} FROM jobs WHERE status = 'active' AND next_run <= %s"  # noqa: S608 - constant column list
    " ORDER BY next_run LIMIT %s"
)
_PAGE = 1000
_OPEN = "('queued', 'running', 'pending_approval')"
_COUNTED_FAILURES = frozenset({RunStatus.failed, RunStatus.timed_out})
_FINISH_EVENT = {
    RunStatus.succeeded: SecurityEventType.CronJobExecuted,
    RunStatus.failed: SecurityEventType.CronJobFailed,
    RunStatus.timed_out: SecurityEventType.CronJobTimedOut,
    RunStatus.denied: SecurityEventType.CronJobDenied,
    RunStatus.skipped: SecurityEventType.CronJobSkipped,
    RunStatus.interrupted: SecurityEventType.CronJobFailed,
    RunStatus.cancelled: SecurityEventType.CronJobFailed,
}


class Tx(Protocol):
    """One open database transaction, as the shared logic sees it."""

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement; return the number of rows it changed."""
        ...

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        """Run a statement once per parameter row; return the rows changed in total."""
        ...

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        """Run a query and return its first row."""
        ...

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a query and return all rows."""
        ...


class SqlJobStore:
    """`JobStore` logic over any SQL backend that provides transactions and a few dialect bits."""

    location: str = "<store>"
    _skip_locked: str = ""
    """Suffix that locks selected rows and skips rows other nodes hold (PostgreSQL)."""
    _for_update: str = ""
    """Suffix that locks selected rows (PostgreSQL)."""
    _unindexed: str = ""
    """Prefix that keeps a column's index out of a plan (SQLite's ``+column``)."""

    def _write(self) -> AbstractAsyncContextManager[Tx]:
        raise NotImplementedError

    def _read(self) -> AbstractAsyncContextManager[Tx]:
        raise NotImplementedError

    async def _lock_audit(self, tx: Tx) -> None:
        """Serialize audit appends across writers (SQLite's write lock already does)."""

    # -- jobs -------------------------------------------------------------------------

    async def create_job(self, job: Job, audit: Sequence[AuditRecord] = ()) -> Job:
        async with self._write() as tx:
            if await tx.fetchone("SELECT 1 FROM jobs WHERE name = %s", (job.name,)):
                raise DuplicateJobName(job.name)
            await tx.execute(_JOB_INSERT, _sql.job_to_row(job))
            await self._append(tx, audit, job.created_at, job_id=job.id)
        return job

    async def create_jobs(self, jobs: Sequence[Job], audit: Sequence[AuditRecord] = ()) -> None:
        names = [job.name for job in jobs]
        if len(set(names)) != len(names):
            raise DuplicateJobName(next(n for n in names if names.count(n) > 1))
        async with self._write() as tx:
            for start in range(0, len(names), 500):
                chunk = names[start : start + 500]
                marks = ", ".join(["%s"] * len(chunk))
                taken = await tx.fetchone(
                    f"SELECT name FROM jobs WHERE name IN ({marks}) LIMIT 1",  # noqa: S608 - placeholders only
                    chunk,
                )
                if taken:
                    raise DuplicateJobName(str(taken[0]))
            await tx.executemany(_JOB_INSERT, [_sql.job_to_row(job) for job in jobs])
            if jobs:
                await self._append(tx, audit, jobs[0].created_at)

    async def update_job(
        self,
        job_id: str,
        changes: Mapping[str, Any],
        audit: Sequence[AuditRecord] = (),
        *,
        expect_status: Sequence[JobStatus] | None = None,
    ) -> Job:
        unknown = set(changes) - {f.name for f in dataclasses.fields(Job)} - {"id"}
        if unknown or "id" in changes:
            raise ValueError(
                f"cannot update job fields {sorted(unknown | ({'id'} & set(changes)))}"
            )
        async with self._write() as tx:
            current = await self._job_for_update(tx, job_id)
            if expect_status is not None and current.status not in expect_status:
                raise InvalidTransition(
                    f"job {current.name!r}", current.status.value, _verb(changes)
                )
            if "name" in changes and changes["name"] != current.name:
                clash = await tx.fetchone("SELECT 1 FROM jobs WHERE name = %s", (changes["name"],))
                if clash:
                    raise DuplicateJobName(str(changes["name"]))
            if changes:
                cols = ", ".join(f"{_sql.job_column(k)} = %s" for k in changes)
                values = [_sql.encode_job_value(k, v) for k, v in changes.items()]
                await tx.execute(f"UPDATE jobs SET {cols} WHERE id = %s", (*values, job_id))  # noqa: S608 - columns come from Job's fields
            updated = await self._job_for_update(tx, job_id)
            await self._append(tx, audit, updated.updated_at, job_id=job_id)
        return updated

    async def delete_job(
        self, job_id: str, now: datetime, audit: Sequence[AuditRecord] = ()
    ) -> Job:
        async with self._write() as tx:
            job = await self._job_for_update(tx, job_id)
            await tx.execute("DELETE FROM runs WHERE job_id = %s", (job_id,))
            await tx.execute("DELETE FROM sessions WHERE job_id = %s", (job_id,))
            await tx.execute("DELETE FROM jobs WHERE id = %s", (job_id,))
            await self._append(tx, audit, now, job_id=job_id)
        return job

    async def get_job(self, job_id: str) -> Job:
        async with self._read() as tx:
            row = await tx.fetchone(f"SELECT {JOB_SELECT} FROM jobs WHERE id = %s", (job_id,))  # noqa: S608 - constant column list
        if row is None:
            raise JobNotFound(job_id)
        return _sql.row_to_job(row)

    async def get_job_by_name(self, name: str) -> Job:
        async with self._read() as tx:
            row = await tx.fetchone(f"SELECT {JOB_SELECT} FROM jobs WHERE name = %s", (name,))  # noqa: S608 - constant column list
        if row is None:
            raise JobNotFound(name)
        return _sql.row_to_job(row)

    async def list_jobs(self, query: JobFilter = JobFilter()) -> list[Job]:  # noqa: B008 - frozen default
        where, params = [], []
        if query.status is not None:
            where.append("status = %s")
            params.append(query.status.value)
        if query.agent_id is not None:
            where.append("agent_id = %s")
            params.append(query.agent_id)
        if query.name_prefix:
            where.append("name LIKE %s ESCAPE '!'")
            params.append(_like_prefix(query.name_prefix))
        sql = f"SELECT {JOB_SELECT} FROM jobs"  # noqa: S608 - constant column list
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY name LIMIT %s OFFSET %s"
        async with self._read() as tx:
            rows = await tx.fetchall(sql, (*params, query.limit, query.offset))
        return [_sql.row_to_job(r) for r in rows]

    async def count_jobs(self) -> dict[JobStatus, int]:
        async with self._read() as tx:
            rows = await tx.fetchall("SELECT status, COUNT(*) FROM jobs GROUP BY status")
        counts = dict.fromkeys(JobStatus, 0)
        counts.update({JobStatus(s): int(n) for s, n in rows})
        return counts

    async def next_due_time(self) -> datetime | None:
        async with self._read() as tx:
            job = await tx.fetchone("SELECT MIN(next_run) FROM jobs WHERE status = 'active'")
            run = await tx.fetchone(
                "SELECT MIN(scheduled_for) FROM runs WHERE status = 'queued' AND node_id IS NULL"
            )
        times = [t for t in ((job or (None,))[0], (run or (None,))[0]) if t is not None]
        return _sql.from_us(min(times)) if times else None

    async def due_jobs(self, now: datetime, limit: int = 100) -> list[JobSchedule]:
        async with self._read() as tx:
            rows = await tx.fetchall(_DUE_SQL, (to_us(now), limit))
        return _sql.rows_to_schedules(rows)

    async def count_due_at(self, at: datetime) -> int:
        async with self._read() as tx:
            row = await tx.fetchone(
                "SELECT COUNT(*) FROM jobs WHERE status = 'active' AND next_run = %s", (to_us(at),)
            )
        return int(row[0]) if row else 0

    async def get_jobs(self, job_ids: Sequence[str]) -> dict[str, Job]:
        async with self._read() as tx:
            return await self._jobs_by_id(tx, job_ids)

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
        now_us = to_us(now)
        async with self._write() as tx:
            rows = await tx.fetchall(_DUE_SQL + self._skip_locked, (now_us, limit))
            if not rows:
                return []
            jobs = _sql.rows_to_schedules(rows)
            running = await _running_counts(tx, [j.id for j in jobs]) if start > 0 else None
            batch = _ClaimBatch(now, node_id, now + lease, running, start, hold_queued=hold_queued)
            batch.plan(jobs, planner)
            for next_run, job_ids in batch.moves.items():
                await _execute_in(
                    tx, "UPDATE jobs SET next_run = %s WHERE id IN {ids}", job_ids, (next_run,)
                )
            inserted = await tx.executemany(_CLAIM_INSERT, batch.rows)
            if inserted == len(batch.rows):
                kept = {row[0] for row in batch.rows}
            else:
                kept = await _existing_ids(tx, [row[0] for row in batch.rows])
            await self._append(tx, _skip_events(batch.skipped, kept, node_id), now)
        return [c for c in batch.claimed if c.run.id in kept]

    # -- runs -------------------------------------------------------------------------

    async def create_run(self, run: Run, audit: Sequence[AuditRecord] = ()) -> Run:
        async with self._write() as tx:
            await tx.execute(_RUN_INSERT, _sql.run_to_row(run))
            if not await _existing_ids(tx, [run.id]):
                raise ConflictError(
                    f"job {run.job_name!r} already has attempt {run.attempt} of the occurrence "
                    f"at {run.scheduled_for.isoformat()}"
                )
            await self._append(tx, audit, run.created_at, job_id=run.job_id, run_id=run.id)
        return run

    async def acquire_queued(
        self, node_id: str, now: datetime, lease: timedelta, limit: int = 100
    ) -> list[ClaimedRun]:
        now_us = to_us(now)
        async with self._write() as tx:
            rows = await tx.fetchall(
                f"SELECT {RUN_SELECT} FROM runs WHERE status = 'queued' AND node_id IS NULL"  # noqa: S608 - constant column list
                f" AND scheduled_for <= %s ORDER BY scheduled_for LIMIT %s{self._skip_locked}",
                (now_us, limit),
            )
            runs = [_sql.row_to_run(r) for r in rows]
            until = to_us(now + lease)
            await tx.executemany(
                "UPDATE runs SET node_id = %s, lease_expires_at = %s WHERE id = %s",
                [(node_id, until, r.id) for r in runs],
            )
            jobs = await self._schedules_by_id(tx, {r.job_id for r in runs})
        return [
            ClaimedRun(
                run=_sql.replace_run(r, node_id=node_id, lease_expires_at=now + lease),
                job=jobs[r.job_id],
            )
            for r in runs
            if r.job_id in jobs
        ]

    async def start_run(
        self,
        run_id: str,
        node_id: str,
        now: datetime,
        lease: timedelta,
        *,
        max_concurrent: int | None = None,
    ) -> StartResult:
        async with self._write() as tx:
            run = await self._run(tx, run_id, lock=True)
            if run.status is not RunStatus.queued or run.node_id not in (None, node_id):
                return StartResult(run=None)
            if max_concurrent is not None:
                # Lock the job row so concurrent starts of one job are counted one at a time.
                await tx.fetchone(
                    f"SELECT id FROM jobs WHERE id = %s{self._for_update}",  # noqa: S608 - constant suffix
                    (run.job_id,),
                )
                running = await tx.fetchone(
                    "SELECT COUNT(*) FROM runs WHERE job_id = %s AND status = 'running'",
                    (run.job_id,),
                )
                count = int(running[0]) if running else 0
                if count >= max_concurrent:
                    reason = _full_message(count, max_concurrent)
                    await self._skip(tx, run, now, reason, node_id)
                    return StartResult(run=None, skipped_reason=reason)
            await tx.execute(
                "UPDATE runs SET status = 'running', node_id = %s, started_at = %s,"
                " lease_expires_at = %s WHERE id = %s",
                (node_id, to_us(now), to_us(now + lease), run_id),
            )
            return StartResult(run=await self._run(tx, run_id))

    async def start_runs(
        self, runs: Sequence[Run], node_id: str, now: datetime, lease: timedelta
    ) -> list[StartResult]:
        now_us, until = to_us(now), now + lease
        started: list[Run] = []
        skipped: list[tuple[Run, str]] = []
        async with self._write() as tx:
            if self._for_update:  # other nodes' starts of these jobs wait (id order: no deadlock)
                await _select_in(
                    tx,
                    "SELECT id FROM jobs WHERE id IN {ids} ORDER BY id" + self._for_update,  # noqa: S608 - constant suffix
                    sorted({run.job_id for run in runs}),
                )
            # Only a job with a run already going, or with several runs here, can be full:
            # the running runs are few next to a burst, so they are counted, not the burst.
            counts: dict[str, int] = {
                job_id: int(n)
                for job_id, n in await tx.fetchall(
                    "SELECT job_id, COUNT(*) FROM runs WHERE status = 'running' GROUP BY job_id"
                )
            }
            here = Counter(run.job_id for run in runs)
            watched = {job_id for job_id, n in here.items() if n > 1 or job_id in counts}
            limits = dict(
                await _select_in(
                    tx, "SELECT id, max_concurrent FROM jobs WHERE id IN {ids}", watched
                )
            )
            # The watched jobs' runs are read first, so that only runs able to start count.
            # By id alone: with ``status`` in the WHERE clause SQLite walks the open-runs index.
            state = {
                run_id: (status, node)
                for run_id, status, node in await _select_in(
                    tx,
                    "SELECT id, status, node_id FROM runs WHERE id IN {ids}",
                    [run.id for run in runs if run.job_id in watched],
                )
            }
            for run in runs:
                if run.job_id in watched:
                    status, node = state.get(run.id, (None, None))
                    limit = limits.get(run.job_id)
                    if status != "queued" or node not in (None, node_id) or limit is None:
                        continue
                    count = counts.get(run.job_id, 0)
                    if count >= limit:
                        skipped.append((run, _full_message(count, limit)))
                        continue
                    counts[run.job_id] = count + 1
                started.append(run)
            # The others start if still queued and not another node's: one UPDATE per 500,
            # found by id (SQLite would rather walk the open-runs index on ``status``).
            changed = await _execute_in(
                tx,
                "UPDATE runs SET status = 'running', node_id = %s, started_at = %s,"  # noqa: S608 - constant prefix
                f" lease_expires_at = %s WHERE id IN {{ids}} AND {self._unindexed}status"
                " = 'queued' AND (node_id = %s OR node_id IS NULL)",
                [run.id for run in started],
                (node_id, now_us, to_us(until)),
                (node_id,),
            )
            if changed != len(started):  # some were taken, cancelled or deleted meanwhile
                rows = await _select_in(
                    tx,
                    "SELECT id, status, node_id, started_at FROM runs WHERE id IN {ids}",
                    [run.id for run in started],
                )
                went = {r[0] for r in rows if r[1:] == ("running", node_id, now_us)}
                started = [run for run in started if run.id in went]
            for run, reason in skipped:
                await self._skip(tx, run, now, reason, node_id)
        results = {
            run.id: StartResult(
                run=_sql.replace_run(
                    run,
                    status=RunStatus.running,
                    node_id=node_id,
                    started_at=now,
                    lease_expires_at=until,
                )
            )
            for run in started
        }
        results.update((run.id, StartResult(run=None, skipped_reason=why)) for run, why in skipped)
        not_started = StartResult(run=None)
        return [results.get(run.id, not_started) for run in runs]

    async def _skip(self, tx: Tx, run: Run, now: datetime, reason: str, node_id: str) -> None:
        await tx.execute(
            "UPDATE runs SET status = 'skipped', error_message = %s, finished_at = %s,"
            " node_id = NULL, lease_expires_at = NULL WHERE id = %s",
            (reason, to_us(now), run.id),
        )
        record = AuditRecord(
            type=SecurityEventType.CronJobSkipped,
            actor=f"scheduler@{node_id}",
            details={"reason": reason, "scheduled_for": run.scheduled_for.isoformat()},
        )
        await self._append(tx, [record], now, job_id=run.job_id, run_id=run.id)

    async def release(self, node_id: str, run_ids: Sequence[str]) -> int:
        if not run_ids:
            return 0
        async with self._write() as tx:
            return await _execute_in(
                tx,
                "UPDATE runs SET node_id = NULL, lease_expires_at = NULL"  # noqa: S608 - constant prefix
                f" WHERE node_id = %s AND {self._unindexed}status = 'queued' AND id IN {{ids}}",
                run_ids,
                (node_id,),
            )

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
        final = status.value not in OPEN_RUN_STATUSES
        async with self._write() as tx:
            run = await self._run(tx, run_id, lock=True)
            if run.status not in expect:
                raise InvalidTransition(
                    f"run {run_id}", run.status.value, f"move it to {status.value}"
                )
            merged = _sql.dumps({**run.details, **(details or {})})
            await tx.execute(
                "UPDATE runs SET status = %s, details = %s, node_id = NULL,"
                " lease_expires_at = %s, error_message = COALESCE(%s, error_message),"
                " finished_at = %s WHERE id = %s",
                (
                    status.value,
                    merged,
                    to_us(deadline),
                    error_message,
                    to_us(now) if final else None,
                    run_id,
                ),
            )
            updated = await self._run(tx, run_id)
            await self._append(tx, audit, now, job_id=run.job_id, run_id=run_id)
        return updated

    async def finish_run(
        self,
        run_id: str,
        outcome: RunOutcome,
        now: datetime,
        *,
        default_max_retries: int,
        actor: str,
    ) -> FinishedRun:
        async with self._write() as tx:
            run = (await self._runs_for_update(tx, [run_id])).get(run_id)
            if run is None:
                raise RunNotFound(run_id)
            if run.status.value not in OPEN_RUN_STATUSES:
                raise InvalidTransition(f"run {run_id}", run.status.value, "finish")
            (result,) = await self._finish(tx, [(run, outcome)], now, default_max_retries, actor)
        return result

    async def finish_runs(
        self,
        outcomes: Sequence[tuple[Run, RunOutcome]],
        now: datetime,
        *,
        default_max_retries: int,
        actor: str,
    ) -> list[FinishedRun | None]:
        async with self._write() as tx:
            # The caller holds the runs as it started them: only their status is read back
            # (a run reaped or cancelled meanwhile is no longer open and is left alone).
            status = dict(
                await _select_in(
                    tx,
                    f"SELECT id, status FROM runs WHERE id IN {{ids}}{self._for_update}",  # noqa: S608 - constant suffix
                    [run.id for run, _ in outcomes],
                )
            )
            todo: list[tuple[Run, RunOutcome]] = []
            for run, outcome in outcomes:
                # popped: a second outcome for the same run finds nothing
                if status.pop(run.id, None) in OPEN_RUN_STATUSES:
                    todo.append((run, outcome))
            done = await self._finish(tx, todo, now, default_max_retries, actor, every_job=False)
        by_id = {result.run.id: result for result in done}
        return [by_id.pop(run.id, None) for run, _ in outcomes]

    async def _finish(
        self,
        tx: Tx,
        items: Sequence[tuple[Run, RunOutcome]],
        now: datetime,
        default_max_retries: int,
        actor: str,
        *,
        every_job: bool = True,
    ) -> list[FinishedRun]:
        """Write the outcomes of open runs, count them on their jobs, audit: a few statements.

        Counters change in SQL, in the order given, so a batch counts exactly as the same
        finishes one by one would; dead-letter is decided on each job's final count.
        Jobs are read back for every run, or with *every_job* false only for the runs
        that counted as failures (the ones their jobs' retry and dead-letter depend on).
        """
        if not items:
            return []
        now_us = to_us(now)
        finished = [_finished_run(run, outcome, now) for run, outcome in items]
        await tx.executemany(_FINISH_SQL, [_finish_row(run, now_us) for run in finished])
        for run, outcome in items:
            if outcome.session is not None:
                await _put_session(tx, run.job_id, outcome.session, now)
        await tx.executemany(
            _COUNT_SQL,
            [
                (
                    run.status in _COUNTED_FAILURES,
                    now_us,
                    run.status is RunStatus.succeeded,
                    run.job_id,
                )
                for run in finished
                if run.status in _COUNTED_FAILURES or run.status is RunStatus.succeeded
            ],
        )
        jobs = await self._jobs_by_id(
            tx,
            {run.job_id for run in finished if every_job or run.status in _COUNTED_FAILURES},
        )
        dead = await self._dead_letter(tx, jobs, finished, default_max_retries)
        results: list[FinishedRun] = []
        events: list[AuditRecord] = []
        for run, (_, outcome) in zip(finished, items, strict=True):
            job = jobs.get(run.job_id)
            is_dead = dead.get(run.job_id) == run.id
            events += [
                dataclasses.replace(r, job_id=run.job_id, run_id=run.id) for r in outcome.audit
            ]
            events += _finish_events(run, job, is_dead, actor)
            results.append(FinishedRun(run=run, job=job, dead_lettered=is_dead))
        await self._append(tx, events, now)
        return results

    async def _dead_letter(
        self, tx: Tx, jobs: dict[str, Job], finished: Sequence[Run], default_max_retries: int
    ) -> dict[str, str]:
        """Dead-letter the active jobs whose failures reached their limit; {job: last run}."""
        last_failure = {r.job_id: r for r in finished if r.status in _COUNTED_FAILURES}
        dead: dict[str, str] = {}
        for job_id, run in last_failure.items():
            job = jobs.get(job_id)
            if job is None or job.status is not JobStatus.active:
                continue
            limit = default_max_retries if job.max_retries is None else job.max_retries
            if not 0 < limit <= job.failure_count:
                continue
            reason = (
                f"{job.failure_count} consecutive failures reached max_retries={limit}; "
                f"last error: {(run.error_message or run.status.value)[:200]}"
            )
            await tx.execute(
                "UPDATE jobs SET status = 'dead_letter', status_reason = %s WHERE id = %s",
                (reason, job_id),
            )
            jobs[job_id] = dataclasses.replace(
                job, status=JobStatus.dead_letter, status_reason=reason
            )
            dead[job_id] = run.id
        return dead

    async def get_run(self, run_id: str) -> Run:
        async with self._read() as tx:
            return await self._run(tx, run_id)

    async def list_runs(self, query: RunFilter) -> list[Run]:
        where, params = _run_where(query)
        sql = f"SELECT {RUN_SELECT} FROM runs{where}"  # noqa: S608 - constant column list
        sql += " ORDER BY scheduled_for DESC, attempt DESC LIMIT %s OFFSET %s"
        async with self._read() as tx:
            rows = await tx.fetchall(sql, (*params, query.limit, query.offset))
        return [_sql.row_to_run(r) for r in rows]

    async def iter_runs(self, query: RunFilter, batch: int = 500) -> AsyncIterator[Run]:
        offset = 0
        while True:
            page = await self.list_runs(dataclasses.replace(query, limit=batch, offset=offset))
            for run in page:
                yield run
            if len(page) < batch:
                return
            offset += batch

    async def count_running(self, job_id: str) -> int:
        async with self._read() as tx:
            row = await tx.fetchone(
                "SELECT COUNT(*) FROM runs WHERE status = 'running' AND job_id = %s", (job_id,)
            )
        return int(row[0]) if row else 0

    async def extend_leases(
        self, node_id: str, run_ids: Sequence[str], until: datetime
    ) -> list[str]:
        if not run_ids:
            return []
        async with self._write() as tx:
            # Rows another transaction holds (a finish, a start, a reap) are skipped, not
            # waited for: waiting locked them in another order than a finish batch does,
            # and the two deadlocked. A skipped run is being closed or renewed anyway.
            await _execute_in(
                tx,
                "UPDATE runs SET lease_expires_at = %s WHERE id IN ("  # noqa: S608 - constant parts
                "SELECT id FROM runs WHERE node_id = %s AND status IN ('queued', 'running')"
                f" AND id IN {{ids}}{self._skip_locked})",
                run_ids,
                (to_us(until), node_id),
            )
            rows = await _select_in(
                tx,
                "SELECT id FROM runs WHERE id IN {ids} AND node_id = %s"
                " AND status IN ('queued', 'running')",
                run_ids,
                node_id,
            )
        return [r[0] for r in rows]

    async def reap_expired(self, now: datetime, actor: str) -> list[Run]:
        now_us = to_us(now)
        async with self._write() as tx:
            # A queued run whose node died was never started: hand it back to the pool.
            await tx.execute(
                "UPDATE runs SET node_id = NULL, lease_expires_at = NULL"
                " WHERE status = 'queued' AND lease_expires_at < %s",
                (now_us,),
            )
            rows = await tx.fetchall(
                f"SELECT {RUN_SELECT} FROM runs WHERE status = 'running'"  # noqa: S608 - constant column list
                f" AND lease_expires_at < %s{self._skip_locked}",
                (now_us,),
            )
            lost = [_sql.row_to_run(r) for r in rows]
            recoveries = [recovery_of(run, now) for run in lost]
            await tx.executemany(
                "UPDATE runs SET status = 'interrupted', finished_at = %s, error_message = %s,"
                " lease_expires_at = NULL WHERE id = %s",
                [(now_us, _lost_message(run), run.id) for run in lost],
            )
            kept = await self._insert_runs(tx, recoveries)
            events = [
                AuditRecord(
                    type=SecurityEventType.CronJobFailed,
                    actor=actor,
                    job_id=run.job_id,
                    run_id=run.id,
                    details={"status": "interrupted", "reason": _lost_message(run)},
                )
                for run in lost
            ]
            await self._append(tx, events, now)
        return [r for r in recoveries if r.id in kept]

    # -- sessions ---------------------------------------------------------------------

    async def get_session(self, job_id: str) -> SessionState:
        async with self._read() as tx:
            row = await tx.fetchone(
                "SELECT summary, messages, updated_at FROM sessions WHERE job_id = %s", (job_id,)
            )
        if row is None:
            return SessionState()
        return SessionState(
            summary=row[0], messages=tuple(json.loads(row[1])), updated_at=_sql.from_us(row[2])
        )

    async def expire_approvals(self, now: datetime, actor: str) -> list[Run]:
        now_us = to_us(now)
        async with self._write() as tx:
            rows = await tx.fetchall(
                f"SELECT {RUN_SELECT} FROM runs WHERE status = 'pending_approval'"  # noqa: S608 - constant column list
                f" AND lease_expires_at < %s{self._skip_locked}",
                (now_us,),
            )
            expired = [_sql.row_to_run(r) for r in rows]
            reason = "approval was not given before the deadline; the run was cancelled"
            await tx.executemany(
                "UPDATE runs SET status = 'cancelled', finished_at = %s, lease_expires_at = NULL,"
                " error_message = %s WHERE id = %s",
                [(now_us, reason, run.id) for run in expired],
            )
            events = [
                AuditRecord(
                    type=SecurityEventType.CronJobExpired,
                    actor=actor,
                    job_id=run.job_id,
                    run_id=run.id,
                    details={"reason": reason, "deadline": _iso(run.lease_expires_at)},
                )
                for run in expired
            ]
            await self._append(tx, events, now)
        return [
            dataclasses.replace(
                r, status=RunStatus.cancelled, error_message=reason, finished_at=now
            )
            for r in expired
        ]

    async def get_sessions(self, job_ids: Sequence[str]) -> dict[str, SessionState]:
        async with self._read() as tx:
            rows = await _select_in(
                tx,
                "SELECT job_id, summary, messages, updated_at FROM sessions WHERE job_id IN {ids}",
                job_ids,
            )
        return {
            job_id: SessionState(
                summary=summary,
                messages=tuple(json.loads(messages)),
                updated_at=_sql.from_us(updated),
            )
            for job_id, summary, messages, updated in rows
        }

    async def put_session(
        self, job_id: str, summary: str | None, messages: Sequence[Mapping[str, Any]], now: datetime
    ) -> None:
        async with self._write() as tx:
            await _put_session(
                tx, job_id, SessionState(summary=summary, messages=tuple(messages)), now
            )

    async def prune_history(
        self, now: datetime, max_age: timedelta | None, max_per_job: int | None
    ) -> int:
        deleted = 0
        async with self._write() as tx:
            if max_age is not None:
                deleted += await tx.execute(
                    f"DELETE FROM runs WHERE status NOT IN {_OPEN} AND scheduled_for < %s",  # noqa: S608 - constant
                    (to_us(now - max_age),),
                )
            if max_per_job is not None:
                deleted += await tx.execute(
                    "DELETE FROM runs WHERE id IN (SELECT id FROM (SELECT id, ROW_NUMBER() OVER"  # noqa: S608 - constant
                    " (PARTITION BY job_id ORDER BY scheduled_for DESC, attempt DESC) AS n"
                    f" FROM runs WHERE status NOT IN {_OPEN}) AS ranked WHERE n > %s)",
                    (max_per_job,),
                )
        return deleted

    # -- audit ------------------------------------------------------------------------

    async def append_audit(self, records: Sequence[AuditRecord], now: datetime) -> None:
        async with self._write() as tx:
            await self._append(tx, records, now)

    async def list_audit(self, query: AuditFilter = AuditFilter()) -> list[AuditEvent]:  # noqa: B008 - frozen default
        where: list[str] = ["id > %s"]
        params: list[Any] = [query.after_id]
        if query.type is not None:
            where.append("type = %s")
            params.append(query.type.value)
        if query.job_id is not None:
            where.append("job_id = %s")
            params.append(query.job_id)
        if query.since is not None:
            where.append("ts >= %s")
            params.append(to_us(query.since))
        if query.until is not None:
            where.append("ts < %s")
            params.append(to_us(query.until))
        sql = f"SELECT {AUDIT_SELECT} FROM audit WHERE {' AND '.join(where)} ORDER BY id LIMIT %s"  # noqa: S608 - constant column list
        async with self._read() as tx:
            rows = await tx.fetchall(sql, (*params, query.limit))
        return [_sql.row_to_audit(r) for r in rows]

    async def verify_audit_chain(self) -> AuditVerification:
        prev, expected_id, checked = GENESIS_HASH, 1, 0
        async with self._read() as tx:
            head = await tx.fetchone("SELECT value FROM symbi_meta WHERE key = 'audit_head'")
            while True:
                rows = await tx.fetchall(
                    f"SELECT {AUDIT_SELECT} FROM audit WHERE id >= %s ORDER BY id LIMIT %s",  # noqa: S608 - constant column list
                    (expected_id, _PAGE),
                )
                for row in rows:
                    problem = _check_link(row, expected_id, prev)
                    if problem is not None:
                        return AuditVerification(
                            ok=False, events=checked, first_bad_id=expected_id, problem=problem
                        )
                    prev, expected_id, checked = row[8], expected_id + 1, checked + 1
                if len(rows) < _PAGE:
                    break
        if (head[0] if head else f"0:{GENESIS_HASH}") != f"{checked}:{prev}":
            return AuditVerification(
                ok=False,
                events=checked,
                first_bad_id=checked + 1,
                problem="events are missing at the end of the log (the recorded head differs)",
            )
        return AuditVerification(ok=True, events=checked)

    # -- helpers ----------------------------------------------------------------------

    async def _append(
        self,
        tx: Tx,
        records: Sequence[AuditRecord],
        now: datetime,
        *,
        job_id: str | None = None,
        run_id: str | None = None,
    ) -> None:
        if not records:
            return
        await self._lock_audit(tx)
        last = await tx.fetchone("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1")
        last_id, prev = (int(last[0]), str(last[1])) if last else (0, GENESIS_HASH)
        rows = []
        for record in records:
            last_id += 1
            row = (
                last_id,
                to_us(now),
                record.type.value,
                record.job_id or job_id,
                record.run_id or run_id,
                record.actor,
                _sql.dumps(dict(record.details)),
                prev,
            )
            prev = _sql.audit_hash(row)
            rows.append((*row, prev))
        await tx.executemany(
            f"INSERT INTO audit ({AUDIT_SELECT}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",  # noqa: S608 - constant column list
            rows,
        )
        await tx.execute(
            "UPDATE symbi_meta SET value = %s WHERE key = 'audit_head'", (f"{last_id}:{prev}",)
        )

    async def _insert_runs(self, tx: Tx, runs: Sequence[Run]) -> set[str]:
        """Insert runs, skipping occurrences that already exist; return the ids inserted."""
        inserted = await tx.executemany(_RUN_INSERT, [_sql.run_to_row(r) for r in runs])
        if inserted == len(runs):
            return {r.id for r in runs}
        return await _existing_ids(tx, [r.id for r in runs])

    async def _job_for_update(self, tx: Tx, job_id: str) -> Job:
        row = await tx.fetchone(
            f"SELECT {JOB_SELECT} FROM jobs WHERE id = %s{self._for_update}",  # noqa: S608 - constant column list
            (job_id,),
        )
        if row is None:
            raise JobNotFound(job_id)
        return _sql.row_to_job(row)

    async def _schedules_by_id(self, tx: Tx, ids: set[str]) -> dict[str, JobSchedule]:
        rows = await _select_in(
            tx,
            f"SELECT {_sql.SCHEDULE_SELECT} FROM jobs WHERE id IN {{ids}}",  # noqa: S608 - constant columns
            ids,
        )
        return {job.id: job for job in _sql.rows_to_schedules(rows)}

    async def _runs_for_update(self, tx: Tx, run_ids: Sequence[str]) -> dict[str, Run]:
        sql = f"SELECT {RUN_SELECT} FROM runs WHERE id IN {{ids}}{self._for_update}"  # noqa: S608 - constant parts
        return {run.id: run for run in map(_sql.row_to_run, await _select_in(tx, sql, run_ids))}

    async def _jobs_by_id(self, tx: Tx, job_ids: Collection[str]) -> dict[str, Job]:
        sql = f"SELECT {JOB_SELECT} FROM jobs WHERE id IN {{ids}}"  # noqa: S608 - constant columns
        return {job.id: job for job in map(_sql.row_to_job, await _select_in(tx, sql, job_ids))}

    async def _run(self, tx: Tx, run_id: str, *, lock: bool = False) -> Run:
        suffix = self._for_update if lock else ""
        row = await tx.fetchone(f"SELECT {RUN_SELECT} FROM runs WHERE id = %s{suffix}", (run_id,))  # noqa: S608 - constant column list
        if row is None:
            raise RunNotFound(run_id)
        return _sql.row_to_run(row)


def _verb(changes: Mapping[str, Any]) -> str:
    status = changes.get("status")
    return {"paused": "pause", "active": "resume"}.get(str(status), "update")


def _like_prefix(prefix: str) -> str:
    escaped = prefix.replace("!", "!!").replace("%", "!%").replace("_", "!_")
    return escaped + "%"


def _run_where(query: RunFilter) -> tuple[str, list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    if query.job_id is not None:
        where.append("job_id = %s")
        params.append(query.job_id)
    if query.status is not None:
        where.append("status = %s")
        params.append(query.status.value)
    if query.since is not None:
        where.append("scheduled_for >= %s")
        params.append(to_us(query.since))
    if query.until is not None:
        where.append("scheduled_for < %s")
        params.append(to_us(query.until))
    return (" WHERE " + " AND ".join(where) if where else ""), params


class _ClaimBatch:
    """The runs one claim creates, built in one pass as `Run`s and as rows to insert.

    Planning, the cluster-wide ``max_concurrent`` check and starting runs inside the claim
    (*start* of them, when *running* counts are given) happen together, so no run is built
    twice: this is the hot path of a burst of due jobs.
    """

    def __init__(
        self,
        now: datetime,
        node_id: str,
        until: datetime,
        running: dict[str, int] | None,
        start: int,
        *,
        hold_queued: bool = True,
    ) -> None:
        self.claimed: list[ClaimedRun] = []
        self.skipped: list[Run] = []
        self.rows: list[tuple[Any, ...]] = []
        self.moves: dict[int | None, list[str]] = {}
        """Job ids by their new ``next_run`` (µs): one UPDATE per distinct time."""
        self._now, self._node_id, self._until = now, node_id, until
        self._now_us, self._until_us = to_us(now), to_us(until)
        self._running, self._start, self._hold_queued = running, start, hold_queued

    def plan(self, jobs: Sequence[JobSchedule], planner: Planner) -> None:
        """Plan every due job and build its runs."""
        plans = [planner(job, self._now) for job in jobs]
        ids = iter(new_ids(sum(len(plan.runs) for plan in plans)))
        for job, plan in zip(jobs, plans, strict=True):
            self.moves.setdefault(to_us(plan.next_run), []).append(job.id)
            for planned in plan.runs:
                self._add(job, planned, next(ids))

    def _add(self, job: JobSchedule, planned: PlannedRun, run_id: str) -> None:
        status, error, started = planned.status, planned.error_message, None
        if status is RunStatus.queued and self._running is not None:
            count = self._running.get(job.id, 0)
            if count >= job.max_concurrent:
                status, error = RunStatus.skipped, _full_message(count, job.max_concurrent)
            elif self._start > 0 and job.jitter_seconds == 0:
                status, started = RunStatus.running, self._now
                self._running[job.id] = count + 1
                self._start -= 1
        # Running runs are this node's; queued ones too unless they go to the shared queue
        # (a jittered run stays: its node waits out the delay). Skipped ones belong to no one.
        held = status is RunStatus.running or (
            status is RunStatus.queued and (self._hold_queued or job.jitter_seconds > 0)
        )
        node_id = self._node_id if held else None
        run = _sql.build_run(
            (
                run_id,
                job.id,
                job.name,
                planned.trigger,
                planned.scheduled_for,
                status,
                1,
                job.input,
                None,
                None,
                error,
                0,
                started,
                None if status is not RunStatus.skipped else self._now,
                None,
                (),
                node_id,
                self._until if held else None,
                {},
                self._now,
            )
        )
        self.rows.append(
            (
                run_id,
                job.id,
                job.name,
                planned.trigger.value,
                to_us(planned.scheduled_for),
                status.value,
                1,
                job.input,
                error,
                None if started is None else self._now_us,
                None if status is not RunStatus.skipped else self._now_us,
                node_id,
                self._until_us if held else None,
                self._now_us,
            )
        )
        if status is RunStatus.skipped:
            self.skipped.append(run)
        else:
            self.claimed.append(ClaimedRun(run=run, job=job))


def _skip_events(skipped: Sequence[Run], kept: set[str], node_id: str) -> list[AuditRecord]:
    return [
        AuditRecord(
            type=SecurityEventType.CronJobSkipped,
            actor=f"scheduler@{node_id}",
            job_id=run.job_id,
            run_id=run.id,
            details={"reason": run.error_message, "scheduled_for": run.scheduled_for.isoformat()},
        )
        for run in skipped
        if run.id in kept
    ]


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _chunks(items: Sequence[str], size: int = 500) -> list[Sequence[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


async def _put_session(tx: Tx, job_id: str, session: SessionState, now: datetime) -> None:
    await tx.execute(
        "INSERT INTO sessions (job_id, summary, messages, updated_at)"
        " VALUES (%s, %s, %s, %s) ON CONFLICT (job_id) DO UPDATE SET"
        " summary = excluded.summary, messages = excluded.messages,"
        " updated_at = excluded.updated_at",
        (
            job_id,
            session.summary,
            _sql.dumps([dict(m) for m in session.messages]) if session.messages else "[]",
            to_us(now),
        ),
    )


async def _select_in(tx: Tx, sql: str, ids: Iterable[str], *after: Any) -> list[tuple[Any, ...]]:
    """Run *sql* for *ids* (duplicates dropped), 500 at a time; return every row.

    *sql* holds ``{ids}`` where the parenthesised placeholder list goes (``id IN {ids}``),
    followed by the parameters *after*: one statement per chunk keeps every query within
    the drivers' parameter limits (SQLite's is 32,766).
    """
    rows: list[tuple[Any, ...]] = []
    for chunk in _chunks(list(dict.fromkeys(ids))):
        rows += await tx.fetchall(_in_list(sql, len(chunk)), (*chunk, *after))
    return rows


async def _execute_in(
    tx: Tx, sql: str, ids: Iterable[str], before: Sequence[Any] = (), after: Sequence[Any] = ()
) -> int:
    """`_select_in` for a write: parameters *before*, the chunk's ids, *after*; rows changed."""
    changed = 0
    for chunk in _chunks(list(dict.fromkeys(ids))):
        changed += await tx.execute(_in_list(sql, len(chunk)), (*before, *chunk, *after))
    return changed


def _in_list(sql: str, count: int) -> str:
    return sql.replace("{ids}", "(" + ", ".join(["%s"] * count) + ")")


async def _running_counts(tx: Tx, job_ids: Sequence[str]) -> dict[str, int]:
    rows = await _select_in(
        tx,
        "SELECT job_id, COUNT(*) FROM runs WHERE status = 'running' AND job_id IN {ids}"
        " GROUP BY job_id",
        job_ids,
    )
    return {job_id: int(n) for job_id, n in rows}


def _full_message(count: int, limit: int) -> str:
    return (
        f"{count} run(s) of this job already running (max_concurrent={limit});"
        " this occurrence was skipped"
    )


async def _existing_ids(tx: Tx, ids: Sequence[str]) -> set[str]:
    return {row[0] for row in await _select_in(tx, "SELECT id FROM runs WHERE id IN {ids}", ids)}


def _finish_events(run: Run, job: Job | None, dead: bool, actor: str) -> list[AuditRecord]:
    details: dict[str, Any] = {"status": run.status.value, "attempt": run.attempt}
    if run.error_message:
        details["error"] = run.error_message[:500]
    if run.execution_time_ms is not None:
        details["execution_time_ms"] = run.execution_time_ms
    events = [
        AuditRecord(
            type=_FINISH_EVENT[run.status],
            actor=actor,
            job_id=run.job_id,
            run_id=run.id,
            details=details,
        )
    ]
    if dead and job is not None:
        events.append(
            AuditRecord(
                type=SecurityEventType.CronJobDeadLettered,
                actor=actor,
                job_id=run.job_id,
                run_id=run.id,
                details={"failure_count": job.failure_count, "reason": job.status_reason},
            )
        )
    return events


def _finished_run(run: Run, outcome: RunOutcome, now: datetime) -> Run:
    return _sql.replace_run(
        run,
        started_at=outcome.started_at or run.started_at,
        status=outcome.status,
        output=outcome.output,
        summary=outcome.summary,
        error_message=outcome.error_message,
        iterations=outcome.iterations,
        execution_time_ms=outcome.execution_time_ms,
        deliveries=outcome.deliveries,
        finished_at=now,
        lease_expires_at=None,
        details={**run.details, **outcome.details},
    )


def _finish_row(run: Run, now_us: int | None) -> tuple[Any, ...]:
    return (
        run.status.value,
        run.output,
        run.summary,
        run.error_message,
        run.iterations,
        run.execution_time_ms,
        _sql.deliveries_to_json(run.deliveries) if run.deliveries else "[]",
        now_us,
        _sql.dumps(dict(run.details)) if run.details else "{}",
        to_us(run.started_at),
        run.id,
    )


def _lost_message(run: Run) -> str:
    lease = run.lease_expires_at.isoformat() if run.lease_expires_at else "unknown"
    return f"node {run.node_id} stopped renewing its lease (expired {lease}); recovered"


def _check_link(row: Sequence[Any], expected_id: int, prev: str) -> str | None:
    if int(row[0]) != expected_id:
        return f"event {expected_id} is missing (next found is {row[0]})"
    if row[7] != prev:
        return f"event {expected_id} does not link to the hash of event {expected_id - 1}"
    if _sql.audit_hash(row) != row[8]:
        return f"event {expected_id} was modified (its content does not match its hash)"
    return None
