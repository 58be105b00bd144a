"""The store's environment misbehaves: a full disk, a read-only file system, a locked file.

Each test does the damage for real, to a real `symbi up` daemon (or the real CLI), and checks
what an operator would see: one readable line instead of a traceback, the error in
``/api/v1/health/scheduler`` and the log, nothing already committed lost, and the daemon
carrying on once the damage is undone.

How the damage is done (root in a container; the tests skip, saying why, where it is not
permitted): the full disk is a small tmpfs mounted in ``tmp_path`` and filled; the read-only
file system at start is that tmpfs remounted ``ro``. Linux refuses to remount a file system
read-only while a process holds a file on it open for writing (``EBUSY``), so "turned
read-only while the daemon runs" makes the database, its WAL and their folder immutable
(``chattr +i``), which on ext4 (``tmp_path`` here) refuses writes even for root and even
through descriptors opened before (tmpfs does not, hence not on the tmpfs). The ``-shm`` file
is left alone: SQLite maps it into memory, and a write fault on an immutable mapping is a
SIGBUS, which no program survives.
"""

from __future__ import annotations

import json
import shutil
import signal
import time
from pathlib import Path
from typing import Any

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


def _keeps_ticking(daemon: DaemonProcess, seen: dict[str, Any]) -> None:
    """The scheduler loop goes on (its last look at the store moves) and the process lives."""
    poll(lambda: health(daemon)["last_tick"] != seen["last_tick"], "the loop keeps ticking")
    assert daemon.proc.poll() is None, "the daemon died"


def _back_to_work(daemon: DaemonProcess, db: Path, since: float) -> None:
    """Health is back to healthy and an occurrence after *since* (epoch seconds) ran."""
    poll(lambda: health_is(daemon, "healthy"), "healthy again")
    poll(
        lambda: any(at / 1e6 > since for _, at in _succeeded(db)),
        "a run scheduled after the store took writes again",
    )


def test_full_disk_is_reported_and_the_daemon_carries_on(tmp_path: Path) -> None:
    """A full disk under the store and the log: reported, nothing lost, back once freed."""
    agents = write_agents(tmp_path / "agents", EVERY_SECOND)
    with tmpfs(tmp_path / "disk", "4m") as disk:
        db, log = disk / "symbi.db", disk / "logs" / "symbi.log"
        daemon = DaemonProcess(tmp_path, "--db", str(db), "--agents-dir", str(agents))
        try:
            daemon.wait_ready()
            poll(lambda: _succeeded(db), "a run before the disk fills")

            filler = fill(disk, top_up=log)
            committed = set(_succeeded(db))
            seen = poll(lambda: health_is(daemon, "degraded"), "health says degraded")
            assert "database or disk is full" in seen["last_store_error"]
            _keeps_ticking(daemon, seen)
            store_errors = events(daemon, "scheduler.store_error")
            assert any("database or disk is full" in e["error"] for e in store_errors)
            dropped = [e for e in daemon.events() if "log_file_error" in e]
            assert dropped, "stderr should say the log file is not written"
            assert "No space left on device" in dropped[-1]["log_file_error"]
            assert committed <= set(_succeeded(db))  # nothing committed was lost
            filler.unlink()
            _back_to_work(daemon, db, since=time.time())
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
        try:
            paused = symbi("cron", "pause", "nightly", "--db", str(db))
            codes = [d.proc.wait(timeout=60) for d in (default_logs, other_logs)]
        finally:
            for daemon in (default_logs, other_logs):
                daemon.kill()
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


def test_locked_then_read_only_database_fails_cli_writes_and_the_daemon_catches_up(
    tmp_path: Path,
) -> None:
    """A lock held past the busy timeout, then a read-only database: CLI fails, daemon waits."""
    agents = write_agents(tmp_path / "agents", SLOW_EVERY_SECOND)
    config = write_config(tmp_path / "symbi.toml", "[store]\nbusy_timeout_seconds = 0.5\n")
    data = tmp_path / "data"
    data.mkdir()
    db = data / "symbi.db"
    daemon = DaemonProcess(
        tmp_path, "--db", str(db), "--agents-dir", str(agents), "--config", str(config)
    )
    pause = ("cron", "pause", "tick", "--db", str(db), "--config", str(config))
    try:
        daemon.wait_ready()
        # lock while a run is in flight: its result must wait, not be lost
        in_flight = poll(
            lambda: rows(db, "SELECT id FROM runs WHERE status = 'running'"), "a run in flight"
        )
        with exclusive_lock(db) as lock:
            locked_out = symbi(*pause)
            seen = poll(lambda: health_is(daemon, "degraded"), "health says degraded")
            assert "database is locked" in seen["last_store_error"]
            _keeps_ticking(daemon, seen)
            # The claim that follows may take its time up to a busy timeout (0.5 s) before the
            # release, and the first blocked occurrence is up to 1 s after the lock: held 7 s,
            # it is more than the 5 s grace late, so missed (not just late) occurrences.
            poll(lambda: time.monotonic() - lock.locked_at > 7, "the lock held past the grace")
            lock.release()
        _back_to_work(daemon, db, since=time.time())

        with immutable(db, data / "symbi.db-wal", data):
            read_only = symbi(*pause)
            seen = poll(lambda: health_is(daemon, "degraded"), "degraded when read-only")
            assert "disk I/O error" in seen["last_store_error"]
            _keeps_ticking(daemon, seen)
        _back_to_work(daemon, db, since=time.time())
    finally:
        code = daemon.stop(signal.SIGTERM)
    assert code == 0, daemon.log_path.read_text()
    assert locked_out.exit_code == 1
    assert "database is locked" in one_line(locked_out.stderr)
    assert read_only.exit_code == 1
    assert "attempt to write a readonly database" in one_line(read_only.stderr)
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
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]
