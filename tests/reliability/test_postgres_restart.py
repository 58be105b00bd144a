"""PostgreSQL restarted under load, for real: the daemons ride out the outage and carry on.

The server is a private one (initdb'd for this test from the machine's own binaries), never
the shared server other tests use.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.reliability._crash_util import (
    PrivatePostgres,
    SpareDaemon,
    duplicate_attempts,
    judge_occurrences,
    node_of,
    pg_query,
    pg_runs,
    poll,
    postgres_bin,
    ran_twice,
    reasons,
    skip_or_fail,
    verify_audit,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

JOBS = 10
NODES = 2
OUTAGE_S = 8
"""How long the server stays down: longer than the pool's wait for a connection (5 s)."""
HEALTH_ANSWER_S = 4.5
"""Health must answer within this during the outage (it answers 503 in about 2 s)."""


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    """A running private PostgreSQL server, stopped and deleted after the test."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        skip_or_fail("no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb, pg_ctl)")
        raise AssertionError  # unreachable: skip_or_fail raises
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        skip_or_fail("running as root without runuser to start PostgreSQL as 'postgres'")
    try:
        import psycopg  # noqa: F401, PLC0415 - optional extra
    except ImportError:
        skip_or_fail("psycopg is not installed (pip install 'symbiont[postgres]')")
    server = PrivatePostgres(bin_dir)
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.destroy()


def _agents(folder: Path) -> None:
    blocks = [
        'agent echo { handler: "symbiont.testing.agents:echo" }',
        'agent slow { handler: "symbiont.testing.agents:slow" }',
        'schedule { name: "slow" agent: "slow" cron: "* * * * * *" max_concurrent: 4 }',
    ]
    blocks += [
        f'schedule {{ name: "job-{i:02}" agent: "echo" cron: "* * * * * *" }}' for i in range(JOBS)
    ]
    folder.mkdir()
    (folder / "load.symbi").write_text("\n".join(blocks) + "\n")


def _us(when: datetime) -> int:
    return int(when.timestamp() * 1_000_000)


def _health(node: SpareDaemon) -> tuple[int, dict[str, object]]:
    reply = httpx.get(f"{node.url}/api/v1/health/scheduler", timeout=10)
    return reply.status_code, reply.json()


def _count(url: str, where: str) -> int:
    return int(pg_query(url, f"SELECT count(*) FROM runs WHERE {where}")[0][0])


def _store_errors_logged(node: SpareDaemon) -> list[str]:
    return [str(e["error"]) for e in node.events() if e.get("event") == "scheduler.store_error"]


def _stop(nodes: list[SpareDaemon]) -> list[int | None]:
    """SIGTERM every node; return the exit codes (None: had to be killed after 30 s)."""
    for node in nodes:
        if node.proc.poll() is None:
            node.proc.terminate()
    codes: list[int | None] = []
    for node in nodes:
        try:
            codes.append(node.wait_exit())
        except subprocess.TimeoutExpired:
            node.kill()
            codes.append(None)
    return codes


def _outage(server: PrivatePostgres, nodes: list[SpareDaemon]) -> tuple[datetime, datetime]:
    """Stop the server for OUTAGE_S; meanwhile the outage must show in health and the log."""
    server.stop()
    down, end = datetime.now(UTC), time.monotonic() + OUTAGE_S
    answers = 0
    while time.monotonic() < end:  # a monitor polling health all through the outage
        asked = time.monotonic()
        status, body = _health(nodes[answers % len(nodes)])
        waited = time.monotonic() - asked
        assert (status, body.get("code")) == (503, "UNAVAILABLE"), body
        assert waited < HEALTH_ANSWER_S, f"health took {waited:.1f} s to answer in the outage"
        answers += 1
        time.sleep(0.2)
    for node in nodes:
        assert _store_errors_logged(node), f"no scheduler.store_error line in {node.log_path}"
    server.start()
    return down, datetime.now(UTC)


def _check_log(node: SpareDaemon) -> None:
    """The outage has a clear start and end in the log, and every line is JSON."""
    lines = node.log_path.read_text().splitlines()
    bare = [line for line in lines if not line.startswith("{")]
    assert not bare, f"lines that are not JSON in {node.log_path}: {bare[:3]}"
    events = [e["event"] for e in node.events()]
    assert "scheduler.store_error" in events
    assert "scheduler.store_recovered" in events[events.index("scheduler.store_error") :]


def test_daemons_ride_out_a_postgres_restart(
    tmp_path: Path, private_postgres: PrivatePostgres
) -> None:
    """Stop PostgreSQL under load, start it again: the nodes live, say so, and lose no run.

    Runs in flight when the server stops finish during the outage: their outcomes are kept
    and written once it is back (recorded succeeded, not failed nor run again). Occurrences
    due during the outage run late or are recorded with their reason.
    """
    url = private_postgres.url
    _agents(tmp_path / "agents")
    (tmp_path / "symbi.toml").write_text(
        textwrap.dedent(
            """
            [scheduler]
            lease_seconds = 20
            shutdown_timeout_seconds = 5
            """
        )
    )
    args = ("--store-url", url, "--agents-dir", str(tmp_path / "agents"))
    nodes = [SpareDaemon(tmp_path, *args) for _ in range(NODES)]
    try:
        for node in nodes:
            node.go()
        for node in nodes:
            node.wait_ready()
        begin = datetime.now(UTC)
        poll(lambda: _count(url, "status = 'running' AND job_name = 'slow'") >= 2, 20)
        in_flight = {
            str(r[0]) for r in pg_query(url, "SELECT id FROM runs WHERE status = 'running'")
        }

        down, up = _outage(private_postgres, nodes)

        for node in nodes:
            assert node.proc.poll() is None, f"a daemon died in the outage: {node.log_path}"
            since = f"node_id = '{node_of(node)}' AND started_at > {_us(up)}"
            poll(lambda since=since: _count(url, f"status = 'succeeded' AND {since}"), 30)
            status, body = _health(node)
            assert status == 200, body
            assert isinstance(body["store_errors"], int)
            assert body["store_errors"] > 0
            assert body["last_store_error"]
        settle = f"status IN ('queued', 'running') AND scheduled_for < {_us(up) + 2_000_000}"
        poll(lambda: not _count(url, settle), 30)
    finally:
        codes = _stop(nodes)
    assert codes == [0] * NODES
    for node in nodes:
        _check_log(node)

    runs = pg_runs(url)
    assert not duplicate_attempts(runs)
    assert not ran_twice(runs)
    outcomes = {r.id: (r.status, r.error_message) for r in runs if r.id in in_flight}
    assert set(outcomes.values()) == {("succeeded", None)}, outcomes
    assert not [r for r in runs if r.status == "failed"], "a store outage is no agent failure"
    jobs = [f"job-{i:02}" for i in range(JOBS)]
    verdicts, problems = judge_occurrences(runs, jobs, _us(begin) + 1_000_000, _us(up) + 2_000_000)
    print(f"outage {(up - down).total_seconds():.1f} s; {dict(verdicts)}")  # noqa: T201 - figures
    print(reasons(runs, _us(begin), _us(up) + 2_000_000).most_common(5))  # noqa: T201 - figures
    assert not problems, problems[:5]
    assert verdicts["missed (recorded)"] + verdicts["skipped"] + verdicts["ran"] > 0
    assert verify_audit(url) is None
