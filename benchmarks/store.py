"""Store benchmark: symbiont's SQLite/PostgreSQL stores beside APScheduler 3's SQLAlchemyJobStore.

Measures, on each backend, in one process run:
  * creating N jobs through the service in one batch;
  * reading the D due jobs out of N (symbiont ``due_jobs`` vs APScheduler ``get_due_jobs``);
  * ``claim_due`` of D jobs (read + advance next_run + insert D run rows, one transaction);
  * one job's history page (20 runs) out of R runs.
Prints a Markdown table of medians and the ratios against APScheduler.

    python benchmarks/store.py            # N=100,000, D=1,000, R=1,000,000
    python benchmarks/store.py --quick    # small sizes, a few seconds (used by a test)
"""

from __future__ import annotations

import argparse
import os
import pickle
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio

from symbiont.core.ids import new_id
from symbiont.scheduler.planner import OccurrencePlanner
from symbiont.service import JobService
from symbiont.store import open_store
from symbiont.store._sql import RUN_COLUMNS, to_us
from symbiont.store.base import JobStore, RunFilter
from symbiont.testing import FakeClock

T0 = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
PG_URL = os.environ.get("SYMBI_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


async def timed(fn: Callable[[], Awaitable[Any]], reps: int) -> float:
    samples = []
    for _ in range(reps):
        start = time.perf_counter()
        await fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def definitions(n: int, due: int) -> list[dict[str, Any]]:
    """N jobs of which the first `due` fire every second; the rest once a year."""
    return [
        {
            "name": f"job-{i:06d}",
            "agent_id": f"agent-{i % 50}",
            "cron_expr": "* * * * * *" if i < due else "0 0 0 1 1 *",
            "delivery": ["log_file"],
        }
        for i in range(n)
    ]


async def fill_runs(store: JobStore, job_ids: list[str], total: int) -> None:
    """Insert `total` finished runs spread over `job_ids`, straight through the store's tx."""
    per_job = total // len(job_ids)
    cols = ", ".join(RUN_COLUMNS)
    sql = f"INSERT INTO runs ({cols}) VALUES ({', '.join(['%s'] * len(RUN_COLUMNS))})"
    batch: list[tuple[Any, ...]] = []
    for k in range(per_job):
        when = to_us(T0 - timedelta(minutes=k + 1))
        for job_id in job_ids:
            batch.append(
                (
                    new_id(),
                    job_id,
                    "bench",
                    "schedule",
                    when,
                    "succeeded" if k % 7 else "failed",
                    1,
                    None,
                    "ok",
                    None,
                    None,
                    0,
                    when,
                    when,
                    5,
                    "[]",
                    None,
                    None,
                    "{}",
                    when,
                )
            )
            if len(batch) >= 50_000:
                async with store._write() as tx:
                    await tx.executemany(sql, batch)
                batch.clear()
    if batch:
        async with store._write() as tx:
            await tx.executemany(sql, batch)


async def bench_symbiont(url: str, n: int, due: int, runs: int) -> dict[str, float]:
    results: dict[str, float] = {}
    async with open_store(url) as store:
        clock = FakeClock(T0)
        service = JobService(store, clock)
        defs = definitions(n, due)
        start = time.perf_counter()
        jobs = await service.create_jobs(defs, actor="bench")
        results["create"] = time.perf_counter() - start
        clock.advance(seconds=1)
        results["due"] = await timed(lambda: store.due_jobs(clock.now(), limit=due), 7)
        planner = OccurrencePlanner()
        samples = []
        for _ in range(5):
            start = time.perf_counter()
            claimed = await store.claim_due(clock.now(), "bench", planner, limit=due)
            samples.append(time.perf_counter() - start)
            assert len(claimed) == due, len(claimed)
            clock.advance(seconds=1)
        results["claim"] = statistics.median(samples)
        history_jobs = [j.id for j in jobs[due : due + 1000]] or [jobs[0].id]
        await fill_runs(store, history_jobs, runs)
        target = history_jobs[len(history_jobs) // 2]
        results["history"] = await timed(
            lambda: store.list_runs(RunFilter(job_id=target, limit=20)), 51
        )
        results["history_failed"] = await timed(
            lambda: store.list_runs(RunFilter(job_id=target, status=_failed(), limit=20)), 51
        )
    return results


def _failed() -> Any:
    from symbiont.core.enums import RunStatus

    return RunStatus.failed


def bench_apscheduler(url: str, n: int, due: int, sample_adds: int) -> dict[str, float]:
    from apscheduler.job import Job as APJob
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.cron import CronTrigger

    scheduler = BackgroundScheduler(timezone=UTC)
    store = SQLAlchemyJobStore(url=url)
    store.start(scheduler, "default")
    every_second = CronTrigger(second="*", timezone=UTC)
    yearly = CronTrigger(month=1, day=1, hour=0, minute=0, second=0, timezone=UTC)

    def make(i: int) -> APJob:
        return APJob(
            scheduler,
            id=f"job-{i:06d}",
            func="os:getpid",
            trigger=every_second if i < due else yearly,
            executor="default",
            args=(),
            kwargs={},
            name=f"job-{i}",
            misfire_grace_time=1,
            coalesce=True,
            max_instances=1,
            next_run_time=T0 + timedelta(seconds=1)
            if i < due
            else datetime(2027, 1, 1, tzinfo=UTC),
        )

    results: dict[str, float] = {}
    start = time.perf_counter()
    for i in range(sample_adds):
        store.add_job(make(i))
    per_add = (time.perf_counter() - start) / sample_adds
    results["create"] = per_add * n  # projected: APScheduler adds one job per transaction
    rows = [
        {
            "id": j.id,
            "next_run_time": j.next_run_time.timestamp(),
            "job_state": pickle.dumps(j.__getstate__(), pickle.HIGHEST_PROTOCOL),
        }
        for j in (make(i) for i in range(sample_adds, n))
    ]
    with store.engine.begin() as conn:
        conn.execute(store.jobs_t.insert(), rows)
    now = T0 + timedelta(seconds=1)
    samples = []
    for _ in range(7):
        t = time.perf_counter()
        got = store.get_due_jobs(now)
        samples.append(time.perf_counter() - t)
    assert len(got) == due, len(got)
    results["due"] = statistics.median(samples)
    store.shutdown()
    return results


def pg_schema_url(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


def run_backend(backend: str, n: int, due: int, runs: int, adds: int) -> tuple[dict, dict]:
    if backend == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="symbi-bench-"))
        ours = anyio.run(bench_symbiont, str(folder / "symbi.db"), n, due, runs)
        theirs = bench_apscheduler(f"sqlite:///{folder / 'aps.db'}", n, due, adds)
        return ours, theirs
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}".encode())
    try:
        ours = anyio.run(bench_symbiont, pg_schema_url(PG_URL, schema), n, due, runs)
        sa_url = PG_URL.replace("postgresql://", "postgresql+psycopg://", 1)
        theirs = bench_apscheduler(pg_schema_url(sa_url, schema), n, due, adds)
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE".encode())
    return ours, theirs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--aps-adds", type=int, default=2_000, help="APScheduler adds timed")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    args = parser.parse_args()
    if args.quick:
        args.jobs, args.due, args.runs, args.aps_adds = 3_000, 100, 20_000, 200
    print(f"# store benchmark: {args.jobs:,} jobs, {args.due:,} due, {args.runs:,} runs")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus\n")
    print("| backend | operation | symbiont | APScheduler 3 | ratio |")
    print("|---|---|---|---|---|")
    for backend in args.backends.split(","):
        ours, theirs = run_backend(backend, args.jobs, args.due, args.runs, args.aps_adds)
        rows = [
            (f"create {args.jobs:,} jobs (one batch)", "create", "projected"),
            (f"read {args.due:,} due of {args.jobs:,}", "due", ""),
            (f"claim_due {args.due:,} (with writes)", "claim", None),
            (f"history page of 20, {args.runs:,} runs", "history", None),
            ("history page, status=failed", "history_failed", None),
        ]
        for label, key, note in rows:
            peer = theirs.get(key)
            cell = "n/a" if peer is None else ms(peer) + (f" ({note})" if note else "")
            ratio = "" if peer is None else f"{peer / ours[key]:.1f}x"
            print(f"| {backend} | {label} | {ms(ours[key])} | {cell} | {ratio} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
