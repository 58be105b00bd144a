"""Helpers of the crash tests: run rows, occurrence checks, a private PostgreSQL server.

Run rows are read straight from SQLite or PostgreSQL (as a crash left them); the private
PostgreSQL server is one a test may stop and restart without touching the shared one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import pytest

from symbiont.store import open_store
from symbiont.store._sql import JOB_COLUMNS, OPEN_RUN_STATUSES
from tests.integration.daemon_util import DaemonProcess

SCHEDULING_STATE = frozenset({"next_run", "last_run", "run_count", "failure_count"})
"""Job columns the scheduler moves on its own; every other column is the definition."""
DEFINITION_COLUMNS = tuple(c for c in JOB_COLUMNS if c not in SCHEDULING_STATE)
_RUN_SELECT = (
    "SELECT id, job_id, job_name, trigger_kind, scheduled_for, status, attempt, node_id,"
    " error_message, details, lease_expires_at FROM runs"
)
_US = 1_000_000
_MISSED = re.compile(r"missed from (\S+) to (\S+?)(?:,| \()")


@dataclass(frozen=True, slots=True)
class RunRow:
    """The columns of one run row the crash checks read."""

    id: str
    job_id: str
    job_name: str
    trigger: str
    scheduled_for: int
    """Microseconds since the epoch, as stored."""
    status: str
    attempt: int
    node_id: str | None
    error_message: str | None
    details: dict[str, Any]
    lease_expires_at: int | None

    @property
    def open(self) -> bool:
        """Whether the run has not ended yet (queued, running, waiting for approval)."""
        return self.status in OPEN_RUN_STATUSES


def _run_rows(rows: Iterable[Sequence[Any]]) -> list[RunRow]:
    return [
        RunRow(
            id=str(r[0]),
            job_id=str(r[1]),
            job_name=str(r[2]),
            trigger=str(r[3]),
            scheduled_for=int(r[4]),
            status=str(r[5]),
            attempt=int(r[6]),
            node_id=None if r[7] is None else str(r[7]),
            error_message=None if r[8] is None else str(r[8]),
            details=json.loads(r[9]),
            lease_expires_at=None if r[10] is None else int(r[10]),
        )
        for r in rows
    ]


# -- SQLite -------------------------------------------------------------------------------


def sqlite_query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    """Run a read-only query on the SQLite file (WAL included, as a crash left it)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def sqlite_runs(db: Path) -> list[RunRow]:
    """Every run row of the SQLite file."""
    return _run_rows(sqlite_query(db, _RUN_SELECT))


def sqlite_definitions(db: Path) -> dict[str, tuple[Any, ...]]:
    """Each job's definition columns by job id (scheduling state left out)."""
    rows = sqlite_query(db, f"SELECT {', '.join(DEFINITION_COLUMNS)} FROM jobs")
    return {str(row[0]): tuple(row) for row in rows}


def sqlite_integrity(db: Path) -> str:
    """``PRAGMA integrity_check``'s verdict: ``ok`` or the problems it lists."""
    return "; ".join(str(r[0]) for r in sqlite_query(db, "PRAGMA integrity_check"))


def verify_audit(store_url: str) -> str | None:
    """Verify the audit hash chain through the store; return the problem, or None if intact."""

    async def main() -> str | None:
        async with open_store(store_url) as store:
            result = await store.verify_audit_chain()
        if result.ok:
            return None
        return f"audit chain broken at event {result.first_bad_id}: {result.problem}"

    return anyio.run(main)


# -- PostgreSQL ---------------------------------------------------------------------------


def pg_query(url: str, sql: str) -> list[tuple[Any, ...]]:
    """Run a query on PostgreSQL in its own short connection."""
    import psycopg  # noqa: PLC0415 - optional extra

    with psycopg.connect(url, connect_timeout=5) as conn:
        return conn.execute(sql.encode()).fetchall()


def pg_runs(url: str, where: str = "") -> list[RunRow]:
    """The run rows of the store at *url* (optionally filtered by a WHERE clause)."""
    return _run_rows(pg_query(url, f"{_RUN_SELECT} {where}"))


# -- checks -------------------------------------------------------------------------------


def duplicate_attempts(runs: Iterable[RunRow]) -> list[tuple[str, int, int]]:
    """(job, occurrence, attempt) keys held by more than one run row."""
    counts = Counter((r.job_name, r.scheduled_for, r.attempt) for r in runs)
    return sorted(key for key, n in counts.items() if n > 1)


def ran_twice(runs: Iterable[RunRow]) -> list[tuple[str, int]]:
    """Occurrences (job, scheduled_for) with more than one succeeded run."""
    counts = Counter((r.job_name, r.scheduled_for) for r in runs if r.status == "succeeded")
    return sorted(key for key, n in counts.items() if n > 1)


def unrecovered(runs: Sequence[RunRow], orphans: Iterable[str]) -> list[str]:
    """The orphaned runs (running when their node died) not yet recovered.

    Recovered means: the run is recorded ``interrupted`` with a reason, and a run of the same
    occurrence with attempt + 1 and trigger ``recovery`` names it in ``details.recovers``.
    """
    by_id = {r.id: r for r in runs}
    recoveries = {r.details.get("recovers"): r for r in runs if r.trigger == "recovery"}
    problems = []
    for run_id in orphans:
        run = by_id.get(run_id)
        if run is None:
            problems.append(f"{run_id}: row gone")
            continue
        again = recoveries.get(run_id)
        if run.status != "interrupted" or not run.error_message:
            problems.append(f"{run.job_name} {run_id}: {run.status}, {run.error_message!r}")
        elif again is None:
            problems.append(f"{run.job_name} {run_id}: interrupted but not queued again")
        elif (again.job_id, again.scheduled_for, again.attempt) != (
            run.job_id,
            run.scheduled_for,
            run.attempt + 1,
        ):
            problems.append(f"{run.job_name} {run_id}: recovery {again.id} is another occurrence")
    return problems


def held_by_dead_nodes(runs: Iterable[RunRow], live: set[str]) -> list[RunRow]:
    """Open runs still held (``node_id``) by a node that is not running any more."""
    return [r for r in runs if r.open and r.node_id is not None and r.node_id not in live]


def missed_ranges(runs: Iterable[RunRow]) -> list[tuple[str, int, int]]:
    """(job, first, last) of each skipped record for missed occurrences (daemon down)."""
    found = []
    for run in runs:
        match = _MISSED.search(run.error_message or "") if run.status == "skipped" else None
        if match:
            first, last = (datetime.fromisoformat(g) for g in match.groups())
            found.append((run.job_name, _us(first), _us(last)))
    return found


def occurrence_outcomes(
    runs: Iterable[RunRow], lo_us: int, hi_us: int
) -> dict[tuple[str, int], list[RunRow]]:
    """The run rows of each (job, occurrence) scheduled in [lo_us, hi_us]."""
    found: dict[tuple[str, int], list[RunRow]] = defaultdict(list)
    for run in runs:
        if lo_us <= run.scheduled_for <= hi_us:
            found[run.job_name, run.scheduled_for].append(run)
    return found


def verdict(rows: Sequence[RunRow]) -> str:
    """How one occurrence ended: ``ran``, ``recovered``, ``skipped``/... or a ``PROBLEM``."""
    succeeded = [r for r in rows if r.status == "succeeded"]
    if len(succeeded) > 1:
        return "PROBLEM: ran twice"
    last = max(rows, key=lambda r: r.attempt)
    if last.open:
        return f"PROBLEM: still {last.status}"
    if succeeded:
        return "ran" if last.attempt == 1 else "recovered"
    if last.status == "interrupted":
        return "PROBLEM: interrupted and never run again"
    if not last.error_message:
        return f"PROBLEM: {last.status} without a reason"
    return last.status


def judge_occurrences(
    runs: Sequence[RunRow], jobs: Sequence[str], lo_us: int, hi_us: int
) -> tuple[Counter[str], list[tuple[str, str, str]]]:
    """The verdict of every per-second occurrence of *jobs* in [lo_us, hi_us], and the bad ones.

    An occurrence with no run row is fine only inside a recorded missed range.
    """
    outcomes = occurrence_outcomes(runs, lo_us, hi_us)
    first_s, last_s = -(-lo_us // _US), hi_us // _US
    missed = missed_ranges(runs)
    verdicts: Counter[str] = Counter()
    problems = []
    for job in jobs:
        for second in range(first_s, last_s + 1):
            when = second * _US
            rows = outcomes.get((job, when))
            if rows is None:
                covered = any(name == job and a <= when <= b for name, a, b in missed)
                found = "missed (recorded)" if covered else "PROBLEM: no run record"
            else:
                found = verdict(rows)
            verdicts[found] += 1
            if found.startswith("PROBLEM"):
                problems.append((job, datetime.fromtimestamp(second, UTC).isoformat(), found))
    return verdicts, problems


def reasons(runs: Iterable[RunRow], lo_us: int, hi_us: int) -> Counter[tuple[str, str]]:
    """(status, reason with numbers and times blanked) of runs in [lo_us, hi_us] not run."""
    return Counter(
        (r.status, re.sub(r"\d[\d:.T+-]*", "N", r.error_message or ""))
        for r in runs
        if r.status not in {"succeeded", "interrupted"} and lo_us <= r.scheduled_for <= hi_us
    )


def _us(when: datetime) -> int:
    return int(when.timestamp()) * _US + when.microsecond


_WARM_UP = """
import sys
from symbiont.cli.main import main
import symbiont.config.build  # `symbi up` imports it when it starts
if sys.stdin.readline().strip() == "go":
    main()
"""


class SpareDaemon(DaemonProcess):
    """A `symbi up` child that does its imports first, then waits for `go` to start.

    Python's imports alone take 1.5-2.5 s on a busy 2-core machine. A test that restarts
    a daemon twenty times prepares the next one (imports only: no store, no port) while
    the current one runs, so a restart costs only the daemon's own start: the same
    ``symbi up`` code from its entry point on. Closing the spare unused just ends it.
    """

    def __init__(self, workdir: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.log_path = workdir / f"daemon-{time.monotonic_ns()}.log"
        self._log = self.log_path.open("w")
        full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _WARM_UP, "up", "--port", "0", *args],
            stdin=subprocess.PIPE,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=full_env,
            cwd=workdir,
        )
        self.url = ""

    def go(self) -> None:
        """Start the daemon (from here on it is `symbi up`)."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"go\n")
        self.proc.stdin.close()

    def wait_exit(self, deadline_s: float = 30) -> int:
        """Wait for the exit code (after a signal sent by the caller)."""
        try:
            return self.proc.wait(timeout=deadline_s)
        finally:
            self._log.close()

    def discard(self) -> None:
        """End a spare that was never started."""
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            self.proc.stdin.close()
        self.proc.wait(timeout=30)
        self._log.close()


def node_of(daemon: DaemonProcess) -> str:
    """The node id a ready daemon logged in ``daemon.started``."""
    started = next(e for e in daemon.events() if e.get("event") == "daemon.started")
    return str(started["node"])


def poll(check: Callable[[], Any], deadline_s: float, poll_s: float = 0.1) -> Any:
    """Return ``check()``'s first truthy value; raise AssertionError after *deadline_s*."""
    end = time.monotonic() + deadline_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"condition not met within {deadline_s}s: {check.__doc__}")
        time.sleep(poll_s)


# -- a private PostgreSQL server ----------------------------------------------------------


def postgres_bin() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` holding initdb and pg_ctl."""
    found = [
        folder
        for folder in Path("/usr/lib/postgresql").glob("*/bin")
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists()
    ]
    return max(found, key=lambda f: int(f.parent.name), default=None) if found else None


def free_port() -> int:
    """A TCP port on 127.0.0.1 free at the moment of asking."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def skip_or_fail(reason: str) -> None:
    """Skip the test for *reason*; under CI=true fail instead (CI must run it)."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI needs this test to run: {reason}")
    pytest.skip(reason)


class PrivatePostgres:
    """A PostgreSQL server of the test's own: initdb'd in a temp folder, trust auth.

    The machine's shared server is never touched; this one can be stopped and restarted
    at will. As root the server runs as user ``postgres`` (``runuser``).

    Its folder is made under the system temp folder, not pytest's ``tmp_path``: pytest's
    folders are private to root, where the ``postgres`` user cannot reach them.

    Args:
        bin_dir: the folder of ``initdb`` and ``pg_ctl``.
    """

    def __init__(self, bin_dir: Path) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="symbi-pg-"))
        self.bin_dir = bin_dir
        self.data = self.folder / "data"
        self.sockets = self.folder / "sockets"
        self.log = self.folder / "postgres.log"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, *argv: str, timeout: float = 60) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        done = subprocess.run(
            [*prefix, *argv], capture_output=True, text=True, timeout=timeout, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed:\n{done.stdout}{done.stderr}")

    def init(self) -> None:
        """Create the cluster (the folder becomes the postgres user's when we are root)."""
        self.sockets.mkdir(parents=True)
        self.log.touch()
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
            for path in (self.sockets, self.log):
                shutil.chown(path, "postgres")
        self._as_postgres(
            str(self.bin_dir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
        )

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = (
            f"-c port={self.port} -c listen_addresses=127.0.0.1"
            f" -c unix_socket_directories={self.sockets} -c fsync=off"
            " -c max_connections=50 -c shared_buffers=16MB"
        )
        self._as_postgres(
            str(self.bin_dir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            "30",
            "start",
        )

    def stop(self) -> None:
        """Stop the server (fast: open connections are closed)."""
        self._as_postgres(
            str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"
        )

    def running(self) -> bool:
        """Whether the server's postmaster is up."""
        return (self.data / "postmaster.pid").exists()

    def destroy(self) -> None:
        """Stop the server if it runs and delete its folder."""
        try:
            if self.running():
                self.stop()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
