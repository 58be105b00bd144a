"""`symbi cron` job commands, each test run twice: on the local store and through a daemon."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from symbiont.cli.main import app
from tests.integration.daemon_util import DaemonProcess

KEY = "cli-test-key"


class Cli:
    """Invokes `symbi cron ...` against one target (local --db, or --url of a daemon)."""

    def __init__(self, target: list[str]) -> None:
        self.target = target
        self.runner = CliRunner()

    def __call__(self, *args: str) -> Result:
        """Run `symbi cron ARGS` with the target's flags."""
        return self.runner.invoke(app, ["cron", *args, *self.target])


@pytest.fixture(params=["local", "remote"])
def cli(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cli]:
    """The CLI aimed at a fresh store, directly or through a live daemon on it."""
    db = tmp_path / "cli.db"
    if request.param == "local":
        yield Cli(["--db", str(db)])
        return
    (tmp_path / "agents").mkdir()
    (tmp_path / "agents" / "a.symbi").write_text(
        'agent agent-123 { handler: "symbiont.testing.agents:echo" }\n'
    )
    daemon = DaemonProcess(
        tmp_path,
        "--db",
        str(db),
        "--agents-dir",
        str(tmp_path / "agents"),
        env={"SYMBI_API_KEY": KEY},
    )
    try:
        url = daemon.wait_ready()
        yield Cli(["--url", url, "--api-key", KEY])
    finally:
        daemon.stop()


def test_job_lifecycle(cli: Cli) -> None:
    """Add, list, status, pause, resume, run, history (csv) and remove a job."""
    added = cli(
        "add",
        "--json",
        '{"name": "quick-task", "agent_id": "agent-123", "cron_expr": "0 0 * * * *"}',
    )
    assert added.exit_code == 0, added.output
    assert "created job quick-task" in added.output
    listed = cli("list", "--format", "json")
    assert [j["name"] for j in json.loads(listed.output)] == ["quick-task"]
    assert "quick-task" in cli("list", "--status", "active").output
    assert json.loads(cli("list", "--agent", "other", "--format", "json").output) == []
    status = json.loads(cli("status", "quick-task", "--format", "json").output)
    assert status["job"]["next_run"] is not None
    assert "paused" in cli("pause", "quick-task").output
    assert json.loads(cli("list", "--status", "paused", "--format", "json").output)[0]["name"] == (
        "quick-task"
    )
    assert "active" in cli("resume", "quick-task").output
    queued = cli("run", "quick-task", "--input", "Check production database")
    assert queued.exit_code == 0, queued.output
    rows = list(csv.DictReader(io.StringIO(cli("history", "quick-task", "--format", "csv").output)))
    assert [r["trigger"] for r in rows] == ["manual"]
    # locally nothing runs it; through the daemon it may already have run (and succeeded)
    assert rows[0]["status"] in {"queued", "running", "succeeded"}
    removed = cli("remove", "--name", "quick-task", "--force")
    assert removed.exit_code == 0, removed.output
    assert json.loads(cli("list", "--format", "json").output) == []


def test_add_from_a_dsl_file(cli: Cli, tmp_path: Path) -> None:
    """A schedule block of a .symbi file becomes a job with its policy and heartbeat."""
    source = tmp_path / "agent.symbi"
    source.write_text(
        'schedule {\n  name: "daily-report"\n  agent: "reporter-agent"\n  cron: "0 0 9 * * *"\n'
        '  session_mode: "ephemeral_with_summary"\n  delivery: ["stdout", "log_file"]\n'
        '  policy {\n    require_approval: false\n    max_runtime: "5m"\n  }\n}\n'
    )
    added = cli("add", "--file", str(source), "--schedule", "daily-report")
    assert added.exit_code == 0, added.output
    job = json.loads(cli("status", "daily-report", "--format", "json").output)["job"]
    assert (job["delivery"], job["policy"]["max_runtime_s"]) == (["stdout", "log_file"], 300.0)


def test_errors_are_one_line_with_exit_codes(cli: Cli) -> None:
    """Not found exits 3, invalid input 2, and removal without --force off a terminal is refused."""
    missing = cli("status", "nope")
    assert missing.exit_code == 3
    assert missing.output.strip().count("\n") == 0
    invalid = cli("add", "--json", '{"name": "x", "agent_id": "a", "cron_expr": "0 61 * * * *"}')
    assert invalid.exit_code == 2
    assert "minute field" in invalid.output
    cli("add", "--json", '{"name": "keep", "agent_id": "a", "cron_expr": "@daily"}')
    refused = cli("remove", "keep")
    assert refused.exit_code == 2
    assert "--force" in refused.output


def test_backfill_dry_run_and_run(tmp_path: Path) -> None:
    """Backfill lists the occurrences of a range, then queues runs for them."""
    local = Cli(["--db", str(tmp_path / "b.db")])
    local("add", "--json", '{"name": "h", "agent_id": "a", "cron_expr": "0 0 * * * *"}')
    dry = local(
        "backfill", "h", "--from", "2026-01-01T00:00:00", "--to", "2026-01-01T03:00:00", "--dry-run"
    )
    assert dry.exit_code == 0, dry.output
    assert dry.output.splitlines()[-1] == "would queue 3 run(s)"
    done = local("backfill", "h", "--from", "2026-01-01T00:00:00", "--to", "2026-01-01T03:00:00")
    assert done.output.splitlines()[-1] == "queued 3 run(s)"
    again = local("backfill", "h", "--from", "2026-01-01T00:00:00", "--to", "2026-01-01T03:00:00")
    assert again.output.splitlines()[-1] == "queued 0 run(s)"


def test_audit_query_and_verify(cli: Cli) -> None:
    """The audit log lists changes with their actor, and its chain verifies."""
    cli("add", "--json", '{"name": "a", "agent_id": "a", "cron_expr": "@daily"}')
    cli("pause", "a")
    events = json.loads(cli_audit(cli, "query", "--type", "CronJobPaused", "--format", "json"))
    assert [e["type"] for e in events] == ["CronJobPaused"]
    verified = cli.runner.invoke(app, ["audit", "verify", *cli.target])
    assert verified.exit_code == 0, verified.output
    assert "audit chain ok" in verified.output


def cli_audit(cli: Cli, *args: str) -> str:
    """Run `symbi audit ARGS` against the same target."""
    result = cli.runner.invoke(app, ["audit", *args, *cli.target])
    assert result.exit_code == 0, result.output
    return result.output
