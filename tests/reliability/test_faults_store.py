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

import shutil
import signal
import time
from pathlib import Path

import pytest

from tests.integration.daemon_util import DaemonProcess
from tests.reliability._faults_util import (
    events,
    file_events,
    fill,
    health_is,
    poll,
    rows,
    tmpfs,
    write_agents,
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
