"""symbi cron approvals / approve / reject on the local store."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
from typer.testing import CliRunner

from symbiont.cli.main import app as cli
from symbiont.core.clock import SystemClock
from symbiont.service import JobService
from symbiont.store import SQLiteJobStore
from tests.integration.test_approvals_api_cli import _pending


def _two_pending(db: Path) -> tuple[str, str]:
    async def main() -> tuple[str, str]:
        async with SQLiteJobStore(db) as store:
            service = JobService(store, SystemClock())
            return await _pending(service, "deploy"), await _pending(service, "migrate")

    return anyio.run(main)


def test_cli_lists_and_answers_approvals(tmp_path: Path) -> None:
    """The CLI lists pending runs and answers them as SYMBI_ACTOR; only approvers may approve."""
    db = tmp_path / "c.db"
    first, second = _two_pending(db)
    runner = CliRunner()
    listed = runner.invoke(cli, ["cron", "approvals", "--db", str(db), "--format", "json"])
    assert listed.exit_code == 0, listed.output
    assert {r["id"] for r in json.loads(listed.output)} == {first, second}
    as_bob = runner.invoke(
        cli, ["cron", "approve", first, "--db", str(db)], env={"SYMBI_ACTOR": "bob"}
    )
    assert as_bob.exit_code == 1
    assert "'bob' may not approve" in as_bob.output
    as_alice = runner.invoke(
        cli, ["cron", "approve", first, "--db", str(db)], env={"SYMBI_ACTOR": "alice"}
    )
    assert as_alice.exit_code == 0, as_alice.output
    rejected = runner.invoke(
        cli,
        ["cron", "reject", second, "--reason", "not now", "--db", str(db)],
        env={"SYMBI_ACTOR": "alice"},
    )
    assert rejected.exit_code == 0, rejected.output
    missing = runner.invoke(cli, ["cron", "approve", "nope", "--db", str(db)])
    assert missing.exit_code == 3
    assert missing.output.count("\n") == 1
