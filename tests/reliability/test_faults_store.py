"""The store's environment misbehaves: a full disk, a read-only file system, a locked file.

Each test does the damage for real, to a real `symbi up` daemon (or the real CLI), and checks
what an operator would see: one readable line instead of a traceback, the error in
``/api/v1/health/scheduler`` and the log, nothing already committed lost, and the daemon
carrying on once the damage is undone.

How the damage is done (root in a container): the full disk is a small tmpfs mounted in
``tmp_path`` and filled; the read-only file system at start is that tmpfs remounted ``ro``.
Linux refuses to remount a file system read-only while a process holds a file on it open for
writing (``EBUSY``), so "turned read-only while the daemon runs" makes the database and its
WAL immutable (``chattr +i``), which refuses writes through already-open descriptors, even
for root. The ``-shm`` file is left alone: SQLite maps it into memory, and a write fault on
an immutable mapping is a SIGBUS, which no program survives.
"""

from __future__ import annotations

import json
import shutil
import signal
import time
from pathlib import Path

import pytest

from tests.integration.daemon_util import DaemonProcess
from tests.reliability._faults_util import (
    PYTHON,
    events,
    exclusive_lock,
    file_events,
    fill,
    health,
    health_is,
    immutable,
    one_line,
    poll,
    remount,
    rows,
    symbi,
    tmpfs,
    write_agents,
    write_config,
)

pytestmark = pytest.mark.slow

ECHO = shutil.which("echo") or "/bin/echo"
EVERY_SECOND = f"""
    agent ticker {{
      command: "{ECHO} tick"
    }}

    schedule {{
      name: "tick"
      agent: "ticker"
      cron: "* * * * * *"
    }}
    """
SLOW = f"{PYTHON} -c 'import time; time.sleep(0.7); print(\"slow tick\")'"
SLOW_EVERY_SECOND = f"""
    agent slow {{
      command: {json.dumps(SLOW)}
    }}

    schedule {{
      name: "tick"
      agent: "slow"
      cron: "* * * * * *"
      misfire_policy: "run_all"
      max_concurrent: 10
    }}
    """
NIGHTLY_JOB = '{"name": "nightly", "agent_id": "ticker", "cron_expr": "0 0 3 * * *"}'


def _succeeded(db: Path) -> list[tuple[str, int]]:
    return rows(db, "SELECT id, scheduled_for FROM runs WHERE status = 'succeeded'")


def test_full_disk_is_reported_and_the_daemon_carries_on(tmp_path: Path) -> None:
    """A full disk under the store and the log: reported, nothing lost, back once freed."""
    agents = write_agents(tmp_path / "agents", EVERY_SECOND)
    with tmpfs(tmp_path / "disk", "4m") as disk:
        db, log = disk / "symbi.db", disk / "logs" / "symbi.log"
        daemon = DaemonProcess(tmp_path, "--db", str(db), "--agents-dir", str(agents))
        try:
            daemon.wait_ready()
            poll(lambda: len(_succeeded(db)) >= 2, "two runs before the disk fills")
            filler = fill(disk, top_up=log)
            full_at = time.monotonic()
            committed = set(_succeeded(db))

            seen = poll(lambda: health_is(daemon, "degraded"), "health says degraded")
            assert "database or disk is full" in seen["last_store_error"]
            assert seen["store_errors"] >= 1
            poll(lambda: time.monotonic() - full_at > 2, "two more ticks while full")
            assert daemon.proc.poll() is None, "the daemon died on a full disk"
            store_errors = events(daemon, "scheduler.store_error")
            assert any("database or disk is full" in e["error"] for e in store_errors)
            dropped = [e for e in daemon.events() if "log_file_error" in e]
            assert dropped, "stderr should say the log file is not written"
            assert "No space left on device" in dropped[-1]["log_file_error"]
            assert committed <= set(_succeeded(db))  # nothing committed was lost

            filler.unlink()
            freed_at = time.time()
            poll(lambda: health_is(daemon, "healthy"), "healthy once space is freed")
            poll(
                lambda: any(at / 1e6 > freed_at for _, at in _succeeded(db)),
                "a run scheduled after the disk was freed",
            )
        finally:
            code = daemon.stop(signal.SIGTERM)
        assert code == 0, daemon.log_path.read_text()
        assert committed <= set(_succeeded(db))
        assert rows(db, "PRAGMA integrity_check") == [("ok",)]
        in_file = file_events(log)  # every line parses: no torn line
        note = next(e for e in in_file if e["event"] == "log.lines_dropped")
        assert note["dropped"] >= 1
        assert "No space left on device" in note["error"]
        assert in_file[-1]["event"] == "scheduler.stopped"


def test_read_only_file_system_refuses_start_and_writes_with_one_line(tmp_path: Path) -> None:
    """`symbi up` and CLI writes on a read-only mount: one readable line, non-zero, no traceback."""
    agents = write_agents(tmp_path / "agents", EVERY_SECOND)
    with tmpfs(tmp_path / "disk", "4m") as disk:
        db = disk / "symbi.db"
        created = symbi("cron", "add", "--db", str(db), "--json", NIGHTLY_JOB)
        assert created.exit_code == 0, created.stderr
        remount(disk, "ro")
        # both at once: each one pays the interpreter's start-up
        default_logs = DaemonProcess(tmp_path, "--db", str(db), "--agents-dir", str(agents))
        other_logs = DaemonProcess(
            tmp_path,
            "--db",
            str(db),
            "--agents-dir",
            str(agents),
            env={"SYMBI_LOG_DIR": str(tmp_path / "logs")},
        )
        paused = symbi("cron", "pause", "nightly", "--db", str(db))
        codes = [d.proc.wait(timeout=60) for d in (default_logs, other_logs)]
        for daemon in (default_logs, other_logs):
            daemon.stop()
        assert codes == [1, 1]
        log_line = one_line(default_logs.log_path.read_text())
        assert f"cannot write the daemon's log {disk}/logs/symbi.log" in log_line
        assert "Read-only file system" in log_line
        store_line = one_line(other_logs.log_path.read_text())
        assert f"the store at {db} is unavailable" in store_line
        assert "is read-only" in store_line
        assert paused.exit_code == 1
        assert f"the store at {db} is unavailable" in one_line(paused.stderr)
        remount(disk, "rw")
        assert rows(db, "SELECT name, status FROM jobs") == [("nightly", "active")]


def test_database_turned_read_only_while_running_is_reported_and_survived(
    tmp_path: Path,
) -> None:
    """The database stops taking writes under a running daemon: degraded, then back."""
    agents = write_agents(tmp_path / "agents", EVERY_SECOND)
    data = tmp_path / "data"
    data.mkdir()
    db = data / "symbi.db"
    daemon = DaemonProcess(
        tmp_path,
        "--db",
        str(db),
        "--agents-dir",
        str(agents),
        env={"SYMBI_LOG_DIR": str(tmp_path / "logs")},
    )
    try:
        daemon.wait_ready()
        poll(lambda: len(_succeeded(db)) >= 2, "two runs before the file turns read-only")
        with immutable(db, data / "symbi.db-wal", data):
            refused_at = time.monotonic()
            committed = set(_succeeded(db))
            seen = poll(lambda: health_is(daemon, "degraded"), "health says degraded")
            assert "disk I/O error" in seen["last_store_error"]
            poll(lambda: time.monotonic() - refused_at > 2, "two more ticks while read-only")
            assert daemon.proc.poll() is None, "the daemon died on a read-only database"
            assert committed <= set(_succeeded(db))
        writable_at = time.time()
        poll(lambda: health_is(daemon, "healthy"), "healthy once writable again")
        poll(
            lambda: any(at / 1e6 > writable_at for _, at in _succeeded(db)),
            "a run scheduled after the file is writable again",
        )
    finally:
        code = daemon.stop(signal.SIGTERM)
    assert code == 0, daemon.log_path.read_text()
    assert committed <= set(_succeeded(db))
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]


def test_locked_database_fails_cli_writes_and_the_daemon_catches_up(tmp_path: Path) -> None:
    """Another process holds the write lock past the busy timeout: CLI fails, daemon waits."""
    agents = write_agents(tmp_path / "agents", SLOW_EVERY_SECOND)
    config = write_config(tmp_path / "symbi.toml", "[store]\nbusy_timeout_seconds = 1\n")
    db = tmp_path / "symbi.db"
    daemon = DaemonProcess(
        tmp_path, "--db", str(db), "--agents-dir", str(agents), "--config", str(config)
    )
    try:
        daemon.wait_ready()
        # lock while a run is in flight: its result must wait, not be lost
        in_flight = poll(
            lambda: rows(db, "SELECT id FROM runs WHERE status = 'running'"), "a run in flight"
        )
        with exclusive_lock(db) as lock:
            paused = symbi("cron", "pause", "tick", "--db", str(db), "--config", str(config))
            seen = poll(lambda: health_is(daemon, "degraded"), "health says degraded")
            assert "database is locked" in seen["last_store_error"]
            ticks = {seen["last_tick"]}
            poll(lambda: ticks | {health(daemon)["last_tick"]} != ticks, "the loop keeps ticking")
            # The claim that follows may have taken its time up to a busy timeout (1 s) before
            # the release, and the first blocked occurrence is up to 1 s after the lock: held
            # 7.5 s, it is more than the 5 s grace late, so missed (not just late) occurrences.
            poll(lambda: time.monotonic() - lock.locked_at > 7.5, "the lock held past the grace")
            assert daemon.proc.poll() is None
            lock.release()
            released_at = time.time()
        assert paused.exit_code == 1
        assert "database is locked" in one_line(paused.stderr)
        poll(lambda: health_is(daemon, "healthy"), "healthy once the lock is gone")
        poll(
            lambda: any(at / 1e6 > released_at + 1 for _, at in _succeeded(db)),
            "on-time runs after the lock",
        )
    finally:
        code = daemon.stop(signal.SIGTERM)
    assert code == 0, daemon.log_path.read_text()
    assert rows(db, "SELECT status FROM jobs WHERE name = 'tick'") == [("active",)]
    assert rows(db, "SELECT type FROM audit WHERE type = 'CronJobPaused'") == []
    [(status, output)] = rows(db, "SELECT status, output FROM runs WHERE id = ?", in_flight[0])
    assert (status, output) == ("succeeded", "slow tick\n")
    finished = rows(
        db, "SELECT scheduled_for, status, trigger_kind FROM runs ORDER BY scheduled_for"
    )
    assert {status for _, status, _ in finished} == {"succeeded"}, finished
    seconds = [at // 1_000_000 for at, _, _ in finished]
    assert seconds == list(range(seconds[0], seconds[-1] + 1)), "an occurrence went missing"
    assert "catchup" in {trigger for *_, trigger in finished}
