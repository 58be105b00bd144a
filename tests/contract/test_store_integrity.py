"""Store integrity: tamper-evident audit, schema versions, index use, concurrent processes."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import anyio
import pytest

from symbiont.core.enums import SecurityEventType
from symbiont.core.errors import SchemaVersionError
from symbiont.store import SQLiteJobStore, open_store
from symbiont.store._migrate import pending_statements
from symbiont.store._sql import SCHEMA_VERSION
from symbiont.store.base import AuditRecord, JobStore
from symbiont.testing import wait_until
from tests.contract.helpers import T0, make_job

pytestmark = pytest.mark.anyio


def raw_execute(store_url: str, sql: str) -> None:
    """Run *sql* straight on the backend, behind the store's back."""
    if store_url.startswith("postgresql://"):
        import psycopg  # noqa: PLC0415 - optional extra

        with psycopg.connect(store_url, autocommit=True) as conn:
            conn.execute(sql.encode())
        return
    with sqlite3.connect(store_url) as conn:
        conn.execute(sql)


async def _fill_audit(store: JobStore, count: int = 5) -> None:
    for i in range(count):
        await store.append_audit(
            [AuditRecord(type=SecurityEventType.CronJobCreated, actor="t", details={"i": i})],
            T0 + timedelta(seconds=i),
        )


@pytest.mark.parametrize(
    ("damage", "bad_id", "problem"),
    [
        ("UPDATE audit SET details = '{\"i\":99}' WHERE id = 3", 3, "was modified"),
        ("UPDATE audit SET actor = 'mallory' WHERE id = 2", 2, "was modified"),
        ("DELETE FROM audit WHERE id = 3", 3, "event 3 is missing"),
        ("DELETE FROM audit WHERE id = 5", 5, "missing at the end"),
    ],
)
async def test_audit_chain_detects_tampering(
    store: JobStore, store_url: str, damage: str, bad_id: int, problem: str
) -> None:
    """Editing or deleting any audit event, even the last, makes verification fail there."""
    await _fill_audit(store)
    raw_execute(store_url, damage)
    result = await store.verify_audit_chain()
    assert not result.ok
    assert result.first_bad_id == bad_id
    assert problem in (result.problem or "")


async def test_newer_schema_is_refused(store_url: str) -> None:
    """A store written by a newer symbiont is refused with a message saying what to do."""
    async with open_store(store_url):
        pass
    raw_execute(store_url, "UPDATE symbi_meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(SchemaVersionError, match=r"schema version 99.*upgrade symbiont"):
        async with open_store(store_url):
            pass


async def test_reopening_keeps_data(store_url: str) -> None:
    """Closing and reopening a store keeps its jobs and does not re-run migrations."""
    async with open_store(store_url) as store:
        await store.create_job(make_job("kept"))
    async with open_store(store_url) as store:
        assert [j.name for j in await store.list_jobs()] == ["kept"]


_TICK_QUERIES = [
    # what every scheduler tick and lease pass asks about open runs: never a history scan
    ("SELECT MIN(scheduled_for) FROM runs WHERE status = 'queued' AND node_id IS NULL", False),
    (
        (
            "SELECT id FROM runs WHERE status = 'queued' AND node_id IS NULL"
            " AND scheduled_for <= 5 ORDER BY scheduled_for LIMIT 100"
        ),
        True,  # sorts the few queued runs, not the history
    ),
    ("SELECT id FROM runs WHERE status = 'queued' AND lease_expires_at < 5", False),
    ("SELECT id FROM runs WHERE status = 'running' AND lease_expires_at < 5", False),
    ("SELECT id FROM runs WHERE status = 'pending_approval' AND lease_expires_at < 5", False),
]


@pytest.mark.parametrize(
    ("sql", "index", "sorts"),
    [
        (
            "SELECT id FROM jobs WHERE status = 'active' AND next_run <= 5 ORDER BY next_run",
            "jobs_due",
            False,
        ),
        (
            "SELECT id FROM runs WHERE job_id = 'x' ORDER BY scheduled_for DESC, attempt DESC",
            "runs_occurrence",
            False,
        ),
        ("SELECT id FROM audit WHERE type = 'CronJobFailed' AND ts >= 5", "audit_type_ts", False),
        *[(sql, "runs_open", sorts) for sql, sorts in _TICK_QUERIES],
        (  # start_runs: a burst's runs by id, not every queued run by status
            (
                "UPDATE runs SET status = 'running' WHERE id IN ('a', 'b')"
                " AND +status = 'queued' AND (node_id = 'n' OR node_id IS NULL)"
            ),
            "sqlite_autoindex_runs_1",
            False,
        ),
    ],
)
async def test_sqlite_queries_use_indexes(
    sqlite_path: Path, sql: str, index: str, *, sorts: bool
) -> None:
    """Due jobs, job history, audit by type and the open-run queries are index lookups."""
    async with SQLiteJobStore(sqlite_path):
        pass
    with sqlite3.connect(sqlite_path) as conn:
        plan = " ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}"))
    assert f"USING INDEX {index}" in plan or f"USING COVERING INDEX {index}" in plan, plan
    assert sorts or "USE TEMP B-TREE" not in plan, plan


async def test_version_1_store_is_upgraded_in_place(sqlite_path: Path) -> None:
    """A store written by schema version 1 opens: its data kept, its open-run index rebuilt."""
    with sqlite3.connect(sqlite_path) as conn:
        conn.execute("CREATE TABLE symbi_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        for statement in pending_statements(0):
            if "schema_version', '" in statement or "runs_open" not in statement:
                conn.execute(statement)
        conn.execute(
            "CREATE INDEX runs_open ON runs (status, lease_expires_at)"
            " WHERE status IN ('queued', 'running', 'pending_approval')"
        )
        conn.execute("UPDATE symbi_meta SET value = '1' WHERE key = 'schema_version'")
    async with SQLiteJobStore(sqlite_path) as store:
        await store.create_job(make_job("kept"))
    with sqlite3.connect(sqlite_path) as conn:
        version = conn.execute("SELECT value FROM symbi_meta WHERE key = 'schema_version'")
        assert version.fetchone()[0] == str(SCHEMA_VERSION)
        index_sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'runs_open'")
        assert " OR status = 'running'" in index_sql.fetchone()[0]
    async with SQLiteJobStore(sqlite_path) as store:
        assert [job.name for job in await store.list_jobs()] == ["kept"]


async def test_sqlite_pragmas(sqlite_path: Path) -> None:
    """The SQLite store runs in WAL mode with foreign keys enforced."""
    async with SQLiteJobStore(sqlite_path):
        pass
    with sqlite3.connect(sqlite_path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


WRITER = textwrap.dedent(
    """
    import sys, anyio
    from datetime import datetime, UTC, timedelta
    from symbiont.core.enums import RunStatus, RunTrigger
    from symbiont.core.ids import new_id
    from symbiont.core.models import Run
    from symbiont.store import open_store
    from symbiont.store.base import RunOutcome

    url, role, job_id, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

    async def main():
        async with open_store(url) as store:
            job = await store.get_job(job_id)
            for i in range(count):
                if role == "cli":
                    await store.update_job(job_id, {"description": f"edit {i}"})
                else:
                    when = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=i, days=len(role))
                    run = Run(id=new_id(), job_id=job_id, job_name=job.name,
                              trigger=RunTrigger.schedule, scheduled_for=when,
                              status=RunStatus.queued, created_at=when)
                    await store.create_run(run)
                    await store.finish_run(run.id, RunOutcome(status=RunStatus.succeeded),
                                           when, default_max_retries=3, actor="d")
    anyio.run(main)
    """
)


async def test_concurrent_processes_lose_no_update(store: JobStore, store_url: str) -> None:
    """A 'CLI' editing a job while two 'daemons' finish its runs: every change survives."""
    job = await store.create_job(make_job("busy"))
    count = 60
    results: list[subprocess.CompletedProcess[bytes]] = []

    async def writer(role: str) -> None:
        argv = [sys.executable, "-c", WRITER, store_url, role, job.id, str(count)]
        results.append(await anyio.run_process(argv, check=False))

    with anyio.fail_after(120):
        async with anyio.create_task_group() as tg:
            for role in ("cli", "daemon", "daemon2"):
                tg.start_soon(writer, role)
    for result in results:
        assert result.returncode == 0, result.stderr.decode()
    final = await store.get_job(job.id)
    assert final.run_count == 2 * count
    assert final.description == f"edit {count - 1}"
    assert (await store.verify_audit_chain()).ok


async def test_sqlite_wal_is_checkpointed_off_the_writers_path(sqlite_path: Path) -> None:
    """A background thread, not a commit, copies the WAL into the database file.

    A commit that did it cost 30-40 ms every few seconds under load; the data still
    reaches the file while the store stays open.
    """
    async with SQLiteJobStore(sqlite_path) as store:
        writer = store._writer
        assert writer is not None
        assert writer.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
        empty = await _size(sqlite_path)
        await store.create_jobs([make_job(f"job-{i}", description="x" * 500) for i in range(4000)])

        async def copied() -> bool:
            return await _size(sqlite_path) > empty + 2_000_000

        await wait_until(copied)
    with sqlite3.connect(sqlite_path) as conn:  # every job is in the file, none lost
        assert conn.execute("SELECT COUNT(*) FROM jobs").fetchone() == (4000,)


async def _size(path: Path) -> int:
    return (await anyio.Path(path).stat()).st_size
