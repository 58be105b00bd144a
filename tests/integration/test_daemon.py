"""`symbi up` end to end: a real daemon process, real agents, the real SQLite file."""

from __future__ import annotations

import json
import signal
import sqlite3
import sys
import textwrap
import time
from pathlib import Path

import httpx
from typer.testing import CliRunner

from symbiont.cli.main import app
from tests.integration.daemon_util import DaemonProcess

HELLO = f'{sys.executable} -c \'import os; print("hello from", os.environ["SYMBI_JOB_NAME"])\''
AGENTS = textwrap.dedent(
    f"""
    agent hello {{
      command: {json.dumps(HELLO)}
    }}

    agent pulse {{
      handler: "symbiont.testing.agents:echo"
    }}

    schedule {{
      name: "every-second"
      agent: "hello"
      cron: "* * * * * *"
    }}

    schedule {{
      name: "heartbeat"
      agent: "pulse"
      cron: "* * * * * *"
      heartbeat {{
        enabled: true
        max_iterations: 5
      }}
    }}
    """
)


def _rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def _wait_rows(db: Path, sql: str, count: int, deadline_s: float = 30) -> list[tuple[object, ...]]:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if db.exists():
            try:
                rows = _rows(db, sql)
            except sqlite3.OperationalError:  # tables not created yet
                rows = []
            if len(rows) >= count:
                return rows
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} rows for {sql!r} after {deadline_s}s")


def test_up_runs_agents_on_time_and_stops_gracefully(tmp_path: Path) -> None:
    """The daemon runs both agents every second, serves health, and stops on SIGTERM."""
    agents = tmp_path / "agents"
    agents.mkdir()
    (agents / "demo.symbi").write_text(AGENTS)
    db = tmp_path / "symbi.db"
    daemon = DaemonProcess(tmp_path, "--db", str(db), "--agents-dir", str(agents))
    try:
        url = daemon.wait_ready()
        rows = _wait_rows(
            db,
            "SELECT job_name, output, started_at - scheduled_for FROM runs"
            " WHERE status = 'succeeded' AND job_name = 'every-second'",
            3,
        )
        assert all(output == "hello from every-second\n" for _, output, _ in rows)
        assert all(int(str(late)) < 2_000_000 for *_, late in rows)  # started within 2 s
        beats = _wait_rows(
            db,
            "SELECT iterations FROM runs WHERE status = 'succeeded' AND job_name = 'heartbeat'",
            1,
        )
        assert beats[0][0] == 1  # the echo agent answers `sleep` at once
        health = httpx.get(f"{url}/api/v1/health/scheduler", timeout=5).json()
        assert (health["status"], health["active_jobs"], health["paused_jobs"]) == ("healthy", 2, 0)
        assert health["metrics"]["runs_succeeded"] >= 1
        metrics = httpx.get(f"{url}/metrics", timeout=5).text
        assert 'symbiont_cron_runs_total{job_name="every-second",status="succeeded"}' in metrics
        for family in (
            "symbiont_cron_execution_duration_seconds_bucket",
            "symbiont_cron_in_flight_jobs",
            "symbiont_cron_lateness_seconds_count",
        ):
            assert family in metrics
    finally:
        code = daemon.stop(signal.SIGTERM)
    assert code == 0, daemon.log_path.read_text()
    events = [e["event"] for e in daemon.events()]
    assert "daemon.stopping" in events
    assert "scheduler.stopped" in events
    _check_logs_command(db)


def _check_logs_command(db: Path) -> None:
    """`symbi logs` reads the daemon's log file: filter by text, by level, as JSON."""
    runner = CliRunner()
    finished = runner.invoke(
        app, ["logs", "--db", str(db), "--filter", "run.finished", "--format", "json"]
    )
    assert finished.exit_code == 0, finished.output
    lines = [json.loads(line) for line in finished.output.splitlines()]
    assert lines
    assert {line["event"] for line in lines} == {"run.finished"}
    warnings = runner.invoke(app, ["logs", "--db", str(db), "--level", "error"])
    assert "run.finished" not in warnings.output
    missing = runner.invoke(app, ["logs", "--db", str(db.parent / "elsewhere" / "x.db")])
    assert missing.exit_code == 3


def test_restart_is_idempotent_and_reports_changes(tmp_path: Path) -> None:
    """Restarting never duplicates jobs; an edited block updates, a removed one is reported."""
    agents = tmp_path / "agents"
    agents.mkdir()
    (agents / "demo.symbi").write_text(AGENTS)
    db = tmp_path / "symbi.db"
    for _ in range(2):
        daemon = DaemonProcess(tmp_path, "--db", str(db), "--agents-dir", str(agents))
        daemon.wait_ready()
        assert daemon.stop() == 0
    assert _rows(db, "SELECT COUNT(*) FROM jobs") == [(2,)]
    edited = AGENTS.replace("max_iterations: 5", "max_iterations: 7")
    edited = edited.replace('name: "every-second"', 'name: "renamed"')
    (agents / "demo.symbi").write_text(edited)
    daemon = DaemonProcess(tmp_path, "--db", str(db), "--agents-dir", str(agents))
    daemon.wait_ready()
    assert daemon.stop() == 0
    loaded = next(e for e in daemon.events() if e["event"] == "loader.loaded")
    assert (loaded["created"], loaded["updated"]) == (["renamed"], ["heartbeat"])
    orphans = [e["job"] for e in daemon.events() if e["event"] == "loader.orphaned"]
    assert orphans == ["every-second"]
    assert _rows(db, "SELECT COUNT(*) FROM jobs") == [(3,)]


def test_bad_port_and_exposure_fail_with_one_line(tmp_path: Path) -> None:
    """Listening beyond loopback without an API key is refused with a readable error."""
    daemon = DaemonProcess(tmp_path, "--db", str(tmp_path / "x.db"), "--host", "0.0.0.0")  # noqa: S104 - the point of the test
    daemon.proc.wait(timeout=30)
    code = daemon.stop()
    output = daemon.log_path.read_text()
    assert code == 2
    assert "refusing to listen on 0.0.0.0 without an API key" in output
    assert "Traceback" not in output
