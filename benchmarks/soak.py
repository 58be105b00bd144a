"""Soak benchmark: 1,000 jobs firing every second against a real `symbi up`, for minutes.

Per backend (SQLite file, PostgreSQL schema), the script:
  * creates ``--jobs`` jobs (cron ``* * * * * *``, agent ``noop`` = the handler
    ``symbiont.testing.agents:echo``) in one batch through ``JobService.create_jobs``;
  * starts ``python -m symbiont up`` as a subprocess (its defaults, a free port, a
    ``symbi.toml`` of its own), waits until its API answers, then a warm-up;
  * for the window (``--minutes``, or ``--seconds``) samples the daemon every
    ``--sample-seconds``: RSS (``VmRSS`` of /proc/<pid>/status) and CPU time (utime + stime
    of /proc/<pid>/stat, every thread);
  * after each minute (``--bucket-seconds``) reads that minute's occurrences from the store:
    runs, missing occurrences (``jobs`` x seconds expected), lateness (``started_at -
    scheduled_for``) p50/p99/max, skipped / failed / still open; and the database size;
  * re-reads every minute once the window is over (late runs have landed by then), stops the
    daemon with SIGTERM and prints a per-minute table and a verdict: memory slope (least
    squares over minutes 2..N), lateness drift (p99 last minute vs minute 2), run history
    growth under the retention settings in effect, database size.

    python benchmarks/soak.py                              # 10 minutes, SQLite then PostgreSQL
    python benchmarks/soak.py --backend sqlite --seconds 90 --bucket-seconds 15
    python benchmarks/soak.py --backend postgres --store-url postgresql://...  --json soak.json
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio

PG_URL = os.environ.get("SYMBI_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
AGENT = 'agent noop { handler: "symbiont.testing.agents:echo" }\n'
FINISHED_OK = ("succeeded",)
OPEN = ("queued", "running", "pending_approval")
FAILED = ("failed", "timed_out", "interrupted", "denied", "cancelled")
US = 1_000_000
MIB = 1024 * 1024
_TICK_HZ = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True, slots=True, kw_only=True)
class SoakConfig:
    """One soak run on one backend."""

    backend: str = "sqlite"
    """``sqlite`` (a file in ``workdir``) or ``postgres`` (a fresh schema of ``store_url``)."""
    workdir: Path
    store_url: str = PG_URL
    jobs: int = 1000
    seconds: int = 600
    bucket_seconds: int = 60
    sample_seconds: float = 5.0
    warmup_seconds: float = 5.0
    settle_seconds: float = 3.0
    """How long after a minute ends its occurrences are read the first time (live)."""
    drain_timeout_seconds: float = 60.0
    """After the window, how long to wait for its last occurrences to finish."""
    session_mode: str | None = None
    """The jobs' ``session_mode``; None keeps the job default (``ephemeral_with_summary``)."""
    log_level: str = "info"
    history_max_age_days: float | None = None
    history_max_per_job: int | None = None
    py_spy: Path | None = None
    """Record a py-spy profile (speedscope JSON) of the daemon over the window into this file."""
    max_rss_mib: float = 3072
    """Stop the soak early when the daemon's RSS passes this (a shared machine's safety)."""
    stop_timeout_seconds: float = 90
    """How long ``symbi up`` may take to exit after SIGTERM before it is killed."""
    progress: bool = True


@dataclass(frozen=True, slots=True)
class Sample:
    """One look at the daemon process, ``t`` seconds after the window started."""

    t: float
    rss_mib: float
    cpu_s: float


@dataclass(slots=True, kw_only=True)
class Bucket:
    """The occurrences scheduled in one minute of the window (``start`` .. ``end`` seconds)."""

    index: int
    start: int
    end: int
    expected: int
    runs: int = 0
    """Occurrences that ran to an end (succeeded or failed)."""
    missing: int = 0
    """Expected occurrences with no run record at all: dropped, or (in an overloaded daemon)
    not claimed yet when the soak ended."""
    missing_by_second: dict[int, int] = field(default_factory=dict)
    """Second of the window -> occurrences without a record, for the seconds missing any."""
    succeeded: int = 0
    skipped: int = 0
    """Occurrences recorded as ``skipped``: overlap with a running one, or missed by a late
    claim and written down, with the others it missed, in one misfire record."""
    failed: int = 0
    """Runs that ended ``failed``, ``timed_out``, ``interrupted``, ``denied``, ``cancelled``."""
    open: int = 0
    """Runs still ``queued``, ``running`` or ``pending_approval`` when read."""
    p50_ms: float = math.nan
    p99_ms: float = math.nan
    max_ms: float = math.nan
    cpu_pct: float = math.nan
    rss_mib: float = math.nan
    db_mib: float = math.nan
    rows: int = -1
    """Rows in the ``runs`` table when the minute was read live (-1: not read live)."""


class StoreReader:
    """Read-only SQL on the store's tables through a connection of its own (not the daemon's).

    Args:
        conn: a DB-API connection (sqlite3, or psycopg in autocommit mode).
        mark: the driver's placeholder (``?`` or ``%s``).
        size: returns the database's size on disk in bytes (tables, indexes, WAL).
    """

    def __init__(self, conn: Any, mark: str, size: Callable[[], int]) -> None:
        self.conn, self.mark, self.size_bytes = conn, mark, size

    def occurrences(self, t0_us: int, t1_us: int) -> list[tuple[str, int, str, int | None]]:
        """(job_id, scheduled_for, status, started_at) of every run scheduled in [t0, t1)."""
        sql = "SELECT job_id, scheduled_for, status, started_at FROM runs"
        sql += f" WHERE scheduled_for >= {self.mark} AND scheduled_for < {self.mark}"
        return list(self.conn.execute(sql, (t0_us, t1_us)).fetchall())

    def folded(self, t0_us: int) -> list[tuple[str, str | None]]:
        """(job_id, error_message) of the misfire records scheduled at or after *t0_us*."""
        sql = "SELECT job_id, error_message FROM runs WHERE status = 'skipped'"
        sql += f" AND trigger_kind = 'catchup' AND scheduled_for >= {self.mark}"
        return list(self.conn.execute(sql, (t0_us,)).fetchall())

    def job_ids(self) -> list[str]:
        """Every job's id."""
        return [row[0] for row in self.conn.execute("SELECT id FROM jobs").fetchall()]

    def count(self, table: str) -> int:
        """Rows in *table*."""
        row = self.conn.execute(f"SELECT count(*) FROM {table}").fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()


def sqlite_reader(path: Path) -> StoreReader:
    """A reader of the SQLite file (read-only connection; WAL: never blocks the writer)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)

    def size() -> int:
        files = (path, Path(f"{path}-wal"), Path(f"{path}-shm"))
        return sum(f.stat().st_size for f in files if f.exists())

    return StoreReader(conn, "?", size)


def postgres_reader(url: str, schema: str) -> StoreReader:
    """A reader of the benchmark's PostgreSQL schema (autocommit connection)."""
    import psycopg

    conn = psycopg.connect(schema_url(url, schema), autocommit=True)

    def size() -> int:
        sql = "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c"
        sql += " JOIN pg_namespace n ON n.oid = c.relnamespace"
        sql += " WHERE n.nspname = %s AND c.relkind = 'r'"
        row = conn.execute(sql, (schema,)).fetchone()
        return int(row[0]) if row else 0

    return StoreReader(conn, "%s", size)


def schema_url(base: str, schema: str) -> str:
    """*base* with its search_path set to *schema* (as tests/conftest.py does)."""
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


# -- the daemon process ------------------------------------------------------------------


def free_port() -> int:
    """A TCP port free on 127.0.0.1 just now (the daemon binds it a moment later)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def proc_rss_mib(pid: int) -> float:
    """Resident set size of *pid* (``VmRSS``), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return math.nan


def proc_peak_rss_mib(pid: int) -> float:
    """Peak resident set size of *pid* (``VmHWM``), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return math.nan


def proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of *pid*, all threads (fields 14 and 15 of /proc/<pid>/stat)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # the command name may hold spaces
    return (int(fields[11]) + int(fields[12])) / _TICK_HZ


class Daemon:
    """``python -m symbiont up`` in *workdir*, its stderr (JSON log lines) in a file."""

    def __init__(self, workdir: Path, store_args: list[str]) -> None:
        self.log_dir = workdir / "logs"
        self.stderr_path = workdir / "daemon.stderr"
        env = {k: v for k, v in os.environ.items() if not k.startswith("SYMBI_")}
        env["SYMBI_LOG_DIR"] = str(self.log_dir)
        self.port = free_port()
        argv = [sys.executable, "-m", "symbiont", "up", "--port", str(self.port)]
        argv += ["--config", str(workdir / "symbi.toml"), "--agents-dir", str(workdir / "agents")]
        with self.stderr_path.open("wb") as sink:
            self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                [*argv, *store_args],
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=workdir,
            )
        self.pid = self.proc.pid

    def wait_ready(self, timeout_s: float = 60) -> None:
        """Wait until the API answers its liveness route (at any log level, unlike a log line)."""
        end = time.monotonic() + timeout_s
        url = f"http://127.0.0.1:{self.port}/api/v1/health"
        while time.monotonic() < end:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"symbi up exited early:\n{self.tail()}")
            time.sleep(0.1)
        raise RuntimeError(f"symbi up not ready after {timeout_s:g} s:\n{self.tail()}")

    def tail(self, lines: int = 20) -> str:
        """The last lines of the daemon's output."""
        text = self.stderr_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def errors(self) -> list[str]:
        """The daemon's error-level log lines (at most 20)."""
        found: list[str] = []
        with self.stderr_path.open(encoding="utf-8", errors="replace") as log:
            for line in log:
                if '"level": "error"' in line or "Traceback" in line:
                    found.append(line.strip()[:300])
                    if len(found) >= 20:
                        break
        return found

    def stop(self, timeout_s: float = 90) -> int:
        """SIGTERM, then wait; SIGKILL if it has not exited after *timeout_s*."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            return -9

    def log_bytes(self) -> int:
        """Size of the daemon's own log file (``<log dir>/symbi.log``)."""
        return sum(f.stat().st_size for f in self.log_dir.glob("symbi.log*"))


# -- setup -------------------------------------------------------------------------------


def job_definitions(jobs: int, session_mode: str | None) -> list[dict[str, Any]]:
    """*jobs* jobs of agent ``noop`` firing every second; nothing else set but the mode."""
    extra = {} if session_mode is None else {"session_mode": session_mode}
    return [
        {"name": f"soak-{i:05d}", "agent_id": "noop", "cron_expr": "* * * * * *", **extra}
        for i in range(jobs)
    ]


async def create_jobs(url: str, definitions: list[dict[str, Any]]) -> float:
    """Create the jobs in one batch through the service; return the seconds it took."""
    from symbiont.core.clock import SystemClock
    from symbiont.service import JobService
    from symbiont.store import open_store

    async with open_store(url) as store:
        start = time.perf_counter()
        await JobService(store, SystemClock()).create_jobs(definitions, actor="soak")
        return time.perf_counter() - start


def write_config(config: SoakConfig) -> None:
    """The daemon's ``symbi.toml`` and agents folder: defaults, plus what *config* sets."""
    store = []
    if config.history_max_age_days is not None:
        store.append(f"history_max_age_days = {config.history_max_age_days}")
    if config.history_max_per_job is not None:
        store.append(f"history_max_per_job = {config.history_max_per_job}")
    text = f'[logging]\nlevel = "{config.log_level}"\n'
    if store:
        text += "\n[store]\n" + "\n".join(store) + "\n"
    (config.workdir / "symbi.toml").write_text(text)
    agents = config.workdir / "agents"
    agents.mkdir(exist_ok=True)
    (agents / "noop.symbi").write_text(AGENT)


@contextmanager
def backend_store(config: SoakConfig) -> Iterator[tuple[str, list[str]]]:
    """(store URL, ``symbi up`` store flags) of a fresh store; a PostgreSQL schema is dropped."""
    if config.backend == "sqlite":
        path = config.workdir / "symbi.db"
        yield str(path), ["--db", str(path)]
        return
    import psycopg

    schema = f"soak_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(config.store_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}".encode())
    url = schema_url(config.store_url, schema)
    try:
        yield url, ["--store-url", url]
    finally:
        with psycopg.connect(config.store_url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE".encode())


def open_reader(config: SoakConfig, url: str) -> StoreReader:
    """The reader of the store at *url* (made by `backend_store`)."""
    if config.backend == "sqlite":
        return sqlite_reader(Path(url))
    return postgres_reader(config.store_url, url.rsplit("%3D", 1)[1])


# -- measurement -------------------------------------------------------------------------


def quantile(values: list[float], q: float) -> float:
    """Nearest-rank quantile (NaN for no values)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)] if ordered else math.nan


_FOLDED = re.compile(
    r"missed from (?P<first>\S+) to (?P<last>[^,\s]+)(?:, before (?P<before>\S+))?"
)


def folded_spans(messages: list[tuple[str, str | None]]) -> dict[str, list[tuple[int, int]]]:
    """Job id -> [first, end) in µs of the occurrences its misfire records stand for.

    The planner writes the occurrences a late claim missed as **one** ``skipped`` record
    (at the last one) whose message gives the range: "N occurrences missed from A to B,
    before C". Those occurrences have a record with their reason: they are not missing.
    """
    spans: dict[str, list[tuple[int, int]]] = {}
    for job_id, message in messages:
        found = _FOLDED.search(message or "")
        if found is None:
            continue
        first = _us(found["first"])
        end = _us(found["before"]) if found["before"] else _us(found["last"]) + 1
        spans.setdefault(job_id, []).append((first, end))
    return spans


def _us(iso: str) -> int:
    return round(datetime.fromisoformat(iso).timestamp() * US)


def read_bucket(reader: StoreReader, bucket: Bucket, w0: int, jobs: int) -> Bucket:
    """Fill *bucket*'s run figures from the store (``w0``: the window's first second)."""
    t0, t1 = (w0 + bucket.start) * US, (w0 + bucket.end) * US
    rows = reader.occurrences(t0, t1)
    seen: set[tuple[str, int]] = set()
    late_ms: list[float] = []
    status = Counter(row[2] for row in rows)
    for job_id, scheduled, state, started in rows:
        seen.add((job_id, scheduled))
        if state in FINISHED_OK and started is not None:
            late_ms.append((started - scheduled) / 1000)
    folded = 0
    per_second = Counter((scheduled // US - w0) for _, scheduled in seen)
    if len(seen) < bucket.expected:  # look for the occurrences a misfire record stands for
        spans = folded_spans(reader.folded(t0))
        for job_id in reader.job_ids():
            for second in range(bucket.start, bucket.end):
                at = (w0 + second) * US
                if (job_id, at) not in seen and any(a <= at < b for a, b in spans.get(job_id, ())):
                    folded += 1
                    per_second[second] += 1
    bucket.missing = bucket.expected - len(seen) - folded
    bucket.missing_by_second = {
        s: jobs - per_second[s] for s in range(bucket.start, bucket.end) if per_second[s] < jobs
    }
    bucket.succeeded = status["succeeded"]
    bucket.skipped = status["skipped"] + folded
    bucket.failed = sum(status[s] for s in FAILED)
    bucket.runs = bucket.succeeded + bucket.failed
    bucket.open = sum(status[s] for s in OPEN)
    bucket.p50_ms = quantile(late_ms, 0.5)
    bucket.p99_ms = quantile(late_ms, 0.99)
    bucket.max_ms = max(late_ms, default=math.nan)
    return bucket


def fill_process(bucket: Bucket, samples: list[Sample]) -> None:
    """CPU % over the bucket (of one core) and RSS at its end, from the samples."""
    inside = [s for s in samples if bucket.start - 1e-6 <= s.t <= bucket.end + 1e-6]
    if len(inside) >= 2:
        first, last = inside[0], inside[-1]
        bucket.cpu_pct = 100 * (last.cpu_s - first.cpu_s) / max(last.t - first.t, 1e-9)
        bucket.rss_mib = last.rss_mib


def slope_per_minute(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, value) points, per minute (NaN below two points)."""
    if len(points) < 2:
        return math.nan
    xs = [t / 60 for t, _ in points]
    ys = [v for _, v in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else math.nan


def run_soak(config: SoakConfig) -> dict[str, Any]:
    """Run one soak on one backend; return its figures (see `verdict` for the summary)."""
    if config.bucket_seconds % config.sample_seconds:
        raise ValueError("bucket_seconds must be a multiple of sample_seconds")
    config.workdir.mkdir(parents=True, exist_ok=True)
    write_config(config)
    with backend_store(config) as (url, store_args):
        setup_s = anyio.run(create_jobs, url, job_definitions(config.jobs, config.session_mode))
        reader = open_reader(config, url)
        try:
            db_start = reader.size_bytes()
            daemon = Daemon(config.workdir, store_args)
            try:
                daemon.wait_ready()
                result = _Window(config, daemon, reader).measure()
            finally:
                stopping = time.monotonic()
                exit_code = daemon.stop(config.stop_timeout_seconds)
                stop_s = time.monotonic() - stopping
            result["daemon"].update(
                exit_code=exit_code,
                stop_s=stop_s,
                errors=daemon.errors(),
                log_mib=daemon.log_bytes() / MIB,
            )
            result["history"]["db_mib_before_start"] = db_start / MIB
            result["setup_s"] = setup_s
            return result
        finally:
            reader.close()


class _Window:
    """The measured window of one soak: samples the daemon, reads each minute from the store."""

    def __init__(self, config: SoakConfig, daemon: Daemon, reader: StoreReader) -> None:
        self.config, self.daemon, self.reader = config, daemon, reader
        self.w0 = math.ceil(time.time() + config.warmup_seconds)
        edges = [*range(0, config.seconds, config.bucket_seconds), config.seconds]
        self.buckets = [
            Bucket(index=k + 1, start=a, end=b, expected=config.jobs * (b - a))
            for k, (a, b) in enumerate(itertools.pairwise(edges))
        ]
        self.samples: list[Sample] = []
        self.live = 0  # buckets read live so far
        self.aborted: str | None = None

    def measure(self) -> dict[str, Any]:
        """Sample until the window ends, read every minute, wait for the last runs; report."""
        config, pid, step = self.config, self.daemon.pid, self.config.sample_seconds
        profiler = self._profile()
        for k in range(int(config.seconds / step) + 1):
            time.sleep(max(0.0, self.w0 + k * step - time.time()))
            if self.daemon.proc.poll() is not None:
                raise RuntimeError(f"symbi up died during the soak:\n{self.daemon.tail()}")
            sample = Sample(time.time() - self.w0, proc_rss_mib(pid), proc_cpu_s(pid))
            self.samples.append(sample)
            if sample.rss_mib > config.max_rss_mib:
                self._abort(sample)
                break
            self._read_live()
        if not self.aborted:
            while self.live < len(self.buckets):
                time.sleep(max(0.0, self._read_time(self.buckets[self.live]) - time.time()))
                self._read_live()
            self._drain()
        if profiler is not None:
            profiler.wait(timeout=config.seconds + 60)
        live_missing = sum(b.missing for b in self.buckets)
        for k, bucket in enumerate(self.buckets):
            # Read again what was incomplete (late runs have landed by now); a complete minute
            # keeps its first reading, which a retention setting may have pruned since.
            if k >= self.live or bucket.open or bucket.missing:
                read_bucket(self.reader, bucket, self.w0, config.jobs)
            if math.isnan(bucket.db_mib):  # never read live (a stopped window)
                bucket.db_mib = self.reader.size_bytes() / MIB
            fill_process(bucket, self.samples)
        return {
            "config": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(config).items()},
            "window_start": datetime.fromtimestamp(self.w0, UTC).isoformat(),
            "aborted": self.aborted,
            "buckets": [asdict(b) for b in self.buckets],
            "samples": [asdict(s) for s in self.samples],
            "live_missing": live_missing,
            "daemon": {"peak_rss_mib": proc_peak_rss_mib(pid), "pid": pid},
            "history": {
                "runs_rows": self.reader.count("runs"),
                "audit_rows": self.reader.count("audit"),
                "db_mib": self.reader.size_bytes() / MIB,
                "retention": {
                    "history_max_age_days": config.history_max_age_days,
                    "history_max_per_job": config.history_max_per_job,
                },
            },
        }

    def _profile(self) -> subprocess.Popen[bytes] | None:
        """Start ``py-spy record`` on the daemon for the window, if asked for."""
        if self.config.py_spy is None:
            return None
        time.sleep(max(0.0, self.w0 - time.time()))
        beside = Path(sys.executable).parent / "py-spy"  # installed in the same venv
        exe = str(beside) if beside.exists() else shutil.which("py-spy") or "py-spy"
        argv = [exe, "record", "--pid", str(self.daemon.pid), "--nonblocking"]
        argv += ["--duration", str(self.config.seconds), "--rate", "50"]
        argv += ["--format", "speedscope", "-o", str(self.config.py_spy)]
        return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603

    def _read_time(self, bucket: Bucket) -> float:
        return self.w0 + bucket.end + self.config.settle_seconds

    def _read_live(self) -> None:
        """Read the minutes that ended ``settle_seconds`` ago; print each as a progress line."""
        while self.live < len(self.buckets) and time.time() >= self._read_time(
            bucket := self.buckets[self.live]
        ):
            read_bucket(self.reader, bucket, self.w0, self.config.jobs)
            bucket.db_mib = self.reader.size_bytes() / MIB
            bucket.rows = self.reader.count("runs")
            fill_process(bucket, self.samples)
            if self.config.progress:
                print(f"[{self.config.backend}] {row(bucket)}", file=sys.stderr, flush=True)
            self.live += 1

    def _abort(self, sample: Sample) -> None:
        """Stop at *sample*: keep the minutes begun so far, the last one shortened."""
        self.aborted = f"RSS {sample.rss_mib:.0f} MiB > {self.config.max_rss_mib:g} MiB"
        self.aborted += f" at {sample.t:.0f} s"
        t = max(1, int(sample.t))
        self.buckets = [b for b in self.buckets if b.start < t]
        last = self.buckets[-1]
        if last.end > t:
            last.end, last.expected = t, self.config.jobs * (t - last.start)

    def _drain(self) -> None:
        """Wait until the last minute has no open run and no missing occurrence (or time out)."""
        last = self.buckets[-1]
        end = time.monotonic() + self.config.drain_timeout_seconds
        while time.monotonic() < end:
            read_bucket(self.reader, last, self.w0, self.config.jobs)
            if not last.open and not last.missing:
                return
            time.sleep(1)


# -- the verdict -------------------------------------------------------------------------


def verdict(result: dict[str, Any]) -> dict[str, Any]:
    """The summary: totals, medians over minutes, memory slope, lateness drift, history."""
    buckets = [Bucket(**b) for b in result["buckets"]]
    samples = [Sample(**s) for s in result["samples"]]
    conf = result["config"]
    length, bucket_s = buckets[-1].end, conf["bucket_seconds"]  # shorter if aborted
    # minutes 2..N; in a window of fewer than three buckets, its second half
    from_t = bucket_s if len(buckets) >= 3 else length / 2
    later = [(s.t, s.rss_mib) for s in samples if s.t >= from_t - 1e-6]
    half = [(s.t, s.rss_mib) for s in samples if s.t >= length / 2 - 1e-6]
    second = buckets[1] if len(buckets) > 1 else buckets[0]
    expected = sum(b.expected for b in buckets)
    history = result["history"]
    minutes = sum(b.end - b.start for b in buckets) / 60
    retention = history["retention"]
    configured = {k: v for k, v in retention.items() if v is not None}
    rows = history["runs_rows"]
    written = sum(b.runs + b.skipped + b.open for b in buckets)
    db_points = [(b.end, b.db_mib) for b in buckets if not math.isnan(b.db_mib)]
    return {
        "occurrences_expected": expected,
        "occurrences_missing": sum(b.missing for b in buckets),
        "missing_seconds": sorted({s for b in buckets for s in b.missing_by_second}),
        "runs": sum(b.runs for b in buckets),
        "runs_failed": sum(b.failed for b in buckets),
        "runs_skipped": sum(b.skipped for b in buckets),
        "runs_open": sum(b.open for b in buckets),
        "median_runs_per_bucket": _median([b.runs for b in buckets]),
        "median_p50_ms": _median([b.p50_ms for b in buckets]),
        "median_p99_ms": _median([b.p99_ms for b in buckets]),
        "worst_max_ms": max((b.max_ms for b in buckets if not math.isnan(b.max_ms)), default=None),
        "median_cpu_pct": _median([b.cpu_pct for b in buckets]),
        "rss_first_mib": samples[0].rss_mib if samples else None,
        "rss_last_mib": samples[-1].rss_mib if samples else None,
        "memory_slope_mib_per_min": slope_per_minute(later),
        "memory_slope_from_s": from_t,
        # the least-squares line's rise over the second half (one sample's noise counts less)
        "memory_growth_second_half_mib": slope_per_minute(half) * (length / 2) / 60,
        "p99_drift_ms": buckets[-1].p99_ms - second.p99_ms,
        "p99_drift_ratio": buckets[-1].p99_ms / second.p99_ms if second.p99_ms else None,
        "p99_drift_buckets": [second.index, buckets[-1].index],
        "retention": configured or "defaults (history_max_age_days, history_max_per_job unset)",
        "runs_rows_at_end": rows,
        "runs_rows_per_min": written / minutes if minutes else None,
        "db_mib_at_end": history["db_mib"],
        "db_mib_per_min": slope_per_minute(db_points),
        "history_bounded": _bounded(configured, buckets),
        "aborted": result.get("aborted"),
    }


def _median(values: list[float]) -> float | None:
    good = [v for v in values if not math.isnan(v)]
    return statistics.median(good) if good else None


def _bounded(retention: dict[str, Any], buckets: list[Bucket]) -> bool:
    """Whether the runs table stopped growing under the retention settings in effect.

    With no retention setting it cannot stop (a row per occurrence). With one, the table
    must have grown by less than a tenth of the occurrences of the last minute read live.
    """
    if not retention:
        return False
    live = [b for b in buckets if b.rows >= 0]
    if len(live) < 2:  # growth needs two readings
        return False
    return live[-1].rows - live[-2].rows < live[-1].expected / 10


# -- report ------------------------------------------------------------------------------


def fmt_ms(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "n/a"
    return f"{value:,.0f}" if value >= 10 else f"{value:.1f}"


def header() -> list[str]:
    columns = ["minute", "runs", "missing", "skipped", "failed", "open"]
    columns += ["lateness p50 / p99 / max ms"]
    columns += ["CPU %", "RSS MiB", "DB MiB"]
    return ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]


def row(b: Bucket) -> str:
    late = f"{fmt_ms(b.p50_ms)} / {fmt_ms(b.p99_ms)} / {fmt_ms(b.max_ms)}"
    span = f"{b.index} ({b.start}-{b.end} s)"
    counts = (b.runs, b.missing, b.skipped, b.failed, b.open)
    cells = [span, *(f"{n:,}" for n in counts), late]
    cells += [f"{b.cpu_pct:.1f}", f"{b.rss_mib:.1f}", f"{b.db_mib:.1f}"]
    return "| " + " | ".join(cells) + " |"


def report(backend: str, result: dict[str, Any], summary: dict[str, Any]) -> list[str]:
    """The Markdown section of one backend: the per-minute table, then the verdict."""
    conf, s, daemon = result["config"], summary, result["daemon"]
    title = f"## {backend}: {conf['jobs']:,} jobs every second for {conf['seconds']:,} s"
    title += f" (minute = {conf['bucket_seconds']} s), from {result['window_start']}"
    lines = [title, "", *header(), *(row(Bucket(**b)) for b in result["buckets"]), ""]
    if s["aborted"]:
        lines.append(f"- **aborted**: {s['aborted']} (the daemon could not keep up)")
    missing = f"{s['occurrences_missing']:,} of {s['occurrences_expected']:,}"
    if s["missing_seconds"]:
        missing += f" (seconds {_spans(s['missing_seconds'])} of the window)"
    ran = f"ran {s['runs']:,}, failed {s['runs_failed']:,}, skipped {s['runs_skipped']:,}"
    lines.append(f"- occurrences missing: {missing}; {ran}, still open {s['runs_open']:,}")
    medians = f"{_num(s['median_runs_per_bucket'])} runs, lateness p50"
    medians += f" {fmt_ms(s['median_p50_ms'])} ms, p99 {fmt_ms(s['median_p99_ms'])} ms,"
    medians += f" CPU {_num(s['median_cpu_pct'], 1)} % of one core"
    lines.append(f"- medians over minutes: {medians}; worst {fmt_ms(s['worst_max_ms'])} ms")
    memory = f"RSS {_num(s['rss_first_mib'], 1)} -> {_num(s['rss_last_mib'], 1)} MiB, slope"
    memory += f" {_num(s['memory_slope_mib_per_min'], 2)} MiB/min (least squares from"
    memory += f" {s['memory_slope_from_s']:g} s), second half"
    memory += f" {_num(s['memory_growth_second_half_mib'], 1)} MiB,"
    memory += f" peak {_num(daemon['peak_rss_mib'], 1)} MiB"
    lines.append(f"- memory: {memory}")
    d0, d1 = s["p99_drift_buckets"]
    drift = f"{fmt_ms(s['p99_drift_ms'])} ms"
    if s["p99_drift_ratio"] is not None and not math.isnan(s["p99_drift_ratio"]):
        drift += f" ({s['p99_drift_ratio']:.2f}x)"
    lines.append(f"- lateness drift: p99 of minute {d1} - p99 of minute {d0} = {drift}")
    history = f"{s['runs_rows_at_end']:,} run rows ({_num(s['runs_rows_per_min'])}/min),"
    history += f" {result['history']['audit_rows']:,} audit rows, DB {s['db_mib_at_end']:.1f}"
    history += f" MiB (+{_num(s['db_mib_per_min'], 1)} MiB/min), daemon log"
    history += f" {daemon['log_mib']:.1f} MiB"
    bounded = "bounded" if s["history_bounded"] else "**unbounded**"
    lines.append(f"- run history ({_retention(s['retention'])}): {history}; {bounded}")
    errors = f"{len(daemon['errors'])} error line(s) in its log"
    stop = f"exit code {daemon['exit_code']} {daemon['stop_s']:.1f} s after SIGTERM"
    if daemon["exit_code"] == -9:
        stop = f"still running {daemon['stop_s']:.0f} s after SIGTERM: killed"
    lines += [f"- daemon: {stop}, {errors}", ""]
    return lines


def _num(value: float | None, digits: int = 0) -> str:
    if value is None or math.isnan(value):
        return "n/a"
    return f"{value:,.{digits}f}"


def _retention(value: Any) -> str:
    if isinstance(value, str):
        return value
    return ", ".join(f"{k} = {v}" for k, v in value.items())


def _spans(seconds: list[int]) -> str:
    spans: list[list[int]] = []
    for s in seconds:
        if spans and s == spans[-1][1] + 1:
            spans[-1][1] = s
        else:
            spans.append([s, s])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans[:10]) + (
        ", ..." if len(spans) > 10 else ""
    )


# -- main --------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--store-url", default=PG_URL, help="PostgreSQL server (a fresh schema)")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seconds", type=int, help="window length in seconds (wins)")
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--bucket-seconds", type=int, default=60, help="the table's 'minute'")
    parser.add_argument("--sample-seconds", type=float, default=5.0)
    parser.add_argument("--warmup-seconds", type=float, default=5.0)
    parser.add_argument("--session-mode", help="the jobs' session_mode (default: the job default)")
    parser.add_argument("--log-level", default="info", help="the daemon's [logging] level")
    parser.add_argument("--history-max-age-days", type=float)
    parser.add_argument("--history-max-per-job", type=int)
    parser.add_argument("--py-spy", type=Path, help="profile the daemon: PATH.<backend>.json")
    parser.add_argument("--max-rss-mib", type=float, default=3072, help="stop early above")
    parser.add_argument("--workdir", type=Path, help="keep the files here (default: a temp dir)")
    parser.add_argument("--json", type=Path, help="write the figures and verdicts here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    seconds = args.seconds if args.seconds is not None else round(args.minutes * 60)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    import symbiont

    print(f"# soak benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"symbiont {getattr(symbiont, '__version__', '?')}, python {platform.python_version()},"
        f" {os.cpu_count()} cpus, load average {os.getloadavg()[0]:.2f},"
        f" SQLite {sqlite3.sqlite_version}, {platform.platform()}\n"
    )
    out: dict[str, Any] = {}
    for backend in backends:
        with tempfile.TemporaryDirectory(prefix=f"symbi-soak-{backend}-") as tmp:
            workdir = args.workdir / backend if args.workdir else Path(tmp)
            config = SoakConfig(
                backend=backend,
                workdir=workdir,
                store_url=args.store_url,
                jobs=args.jobs,
                seconds=seconds,
                bucket_seconds=args.bucket_seconds,
                sample_seconds=args.sample_seconds,
                warmup_seconds=args.warmup_seconds,
                session_mode=args.session_mode,
                log_level=args.log_level,
                history_max_age_days=args.history_max_age_days,
                history_max_per_job=args.history_max_per_job,
                max_rss_mib=args.max_rss_mib,
                py_spy=Path(f"{args.py_spy}.{backend}.json") if args.py_spy else None,
            )
            result = run_soak(config)
            summary = verdict(result)
            print("\n".join(report(backend, result, summary)), flush=True)
            out[backend] = {**result, "verdict": summary}
    if args.json:
        args.json.write_text(json.dumps(_plain(out), indent=2))
    return 0


def _plain(value: Any) -> Any:
    """*value* as strict JSON: NaN becomes null, paths become strings."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value if isinstance(value, int | float | str | bool | None) else str(value)


if __name__ == "__main__":
    raise SystemExit(main())
