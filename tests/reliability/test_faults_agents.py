"""Agents misbehave: one ignores SIGTERM (and leaves a child), one prints 1 GB to stdout.

Real command agents under a real `symbi up` daemon. A stubborn agent is killed, with its whole
process group, at ``max_runtime`` (the run is ``timed_out``) and at the daemon's shutdown (the
daemon exits in bounded time, the run is ``interrupted`` and queued again); a flooding agent's
output is capped, the cap is written on the run, and the daemon's memory stays bounded.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.integration.daemon_util import DaemonProcess
from tests.reliability._faults_util import (
    PYTHON,
    health,
    memory_kb,
    pid_alive,
    poll,
    rows,
    write_agents,
    write_config,
)

pytestmark = pytest.mark.slow

# Ignores SIGTERM, forks a child that inherits that (same process group), writes both pids
# to $PIDS/<run id>, and sleeps: only SIGKILL of the whole group ends it.
STUBBORN_CODE = (
    "import os, signal, time; "
    "signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "child = os.fork(); "
    "path = os.path.join(os.environ['PIDS'], os.environ['SYMBI_RUN_ID']); "
    "child and open(path + '.tmp', 'w').write(f'{os.getpid()} {child}'); "
    "child and os.rename(path + '.tmp', path); "
    "time.sleep(600)"
)
FLOOD_BYTES = 1 << 30
FLOOD_CODE = f"import os; b = b'x' * 65536; [os.write(1, b) for _ in range({FLOOD_BYTES >> 16})]"
OUTPUT_CAP = 1024 * 1024
"""`RuntimeSettings.max_output_bytes`, the daemon's default."""
MEMORY_BOUND_KB = 400 * 1024
YEARLY = "0 0 3 1 1 *"


def _agent(name: str, code: str, pids: Path) -> str:
    command = json.dumps(f'{PYTHON} -c "{code}"')
    return f'agent {name} {{\n  command: {command}\n  env {{ PIDS: "{pids}" }}\n}}\n'


def _on_demand(name: str, *fields: str) -> str:
    """A schedule that never comes during a test (started with `_run_now`)."""
    lines = "".join(f"  {field}\n" for field in fields)
    return f'schedule {{\n  name: "{name}"\n  agent: "{name}"\n  cron: "{YEARLY}"\n{lines}}}\n'


def _run_now(daemon: DaemonProcess, job: str) -> None:
    """Start a run of *job* now, through the API (``symbi cron run``)."""
    answer = httpx.post(f"{daemon.url}/api/v1/schedule/{job}/run", timeout=10)
    assert answer.status_code == 202, answer.text


def _pids(folder: Path) -> dict[str, tuple[int, int]]:
    """The pids the stubborn agents wrote, by run id."""
    found = {}
    for path in folder.iterdir():
        if not path.name.endswith(".tmp"):
            parent, child = path.read_text().split()
            found[path.name] = (int(parent), int(child))
    return found


def _run(db: Path, job: str) -> tuple[str, str, str | None, str | None, dict[str, object]] | None:
    found = rows(
        db,
        "SELECT id, status, output, error_message, details FROM runs"
        " WHERE job_name = ? AND finished_at IS NOT NULL",
        (job,),
    )
    if not found:
        return None
    run_id, status, output, error, details = found[0]
    return run_id, status, output, error, json.loads(details)


@dataclass(frozen=True, slots=True)
class Runaway:
    """A daemon running a stubborn agent (``max_runtime: 1s``) and a flooding one at once."""

    daemon: DaemonProcess
    db: Path
    pids: Path


@pytest.fixture(scope="module")
def runaway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runaway]:
    """Start the daemon and both agents at once."""
    home = tmp_path_factory.mktemp("runaway")
    pids = home / "pids"
    pids.mkdir()
    agents = write_agents(
        home / "agents",
        _agent("stubborn", STUBBORN_CODE, pids)
        + _agent("flood", FLOOD_CODE, pids)
        + _on_demand("stubborn", "policy { max_runtime: 1s }")
        + _on_demand("flood"),
    )
    config = write_config(home / "symbi.toml", "[scheduler]\nkill_grace_seconds = 0.5\n")
    db = home / "symbi.db"
    daemon = DaemonProcess(
        home, "--db", str(db), "--agents-dir", str(agents), "--config", str(config)
    )
    try:
        daemon.wait_ready()
        _run_now(daemon, "stubborn")
        _run_now(daemon, "flood")
        yield Runaway(daemon, db, pids)
    finally:
        code = daemon.stop(signal.SIGTERM)
    assert code == 0, daemon.log_path.read_text()


def test_agent_ignoring_sigterm_is_killed_with_its_group_at_max_runtime(runaway: Runaway) -> None:
    """SIGTERM ignored by the agent and its child: SIGKILL after the grace, run timed_out."""
    (parent, child), *_ = poll(lambda: list(_pids(runaway.pids).values()), "the agent started")
    run = poll(lambda: _run(runaway.db, "stubborn"), "the stubborn run ends", deadline_s=30)
    _, status, _, error, _ = run
    assert status == "timed_out"
    assert error is not None
    assert "max_runtime of 1s" in error
    assert not pid_alive(parent), "the agent survived its max_runtime"
    assert not pid_alive(child), "the agent's child survived: the group was not killed"
    assert health(runaway.daemon)["status"] == "healthy"


def test_agent_flooding_stdout_is_capped_and_memory_stays_bounded(runaway: Runaway) -> None:
    """1 GB on stdout: read to the end, 1 MiB kept, the cap on the run, memory bounded."""
    run = poll(lambda: _run(runaway.db, "flood"), "the flood run ends", deadline_s=60)
    memory = memory_kb(runaway.daemon.proc.pid)
    _, status, output, error, details = run
    assert (status, error) == ("succeeded", None)
    assert output == "x" * OUTPUT_CAP
    assert details["output_truncated"] is True
    assert details["output_limit_bytes"] == OUTPUT_CAP
    assert memory["VmHWM"] < MEMORY_BOUND_KB, memory  # peak resident size of the daemon
    assert health(runaway.daemon)["status"] == "healthy"


def test_shutdown_kills_a_stubborn_agent_and_exits_in_bounded_time(tmp_path: Path) -> None:
    """SIGTERM to the daemon with an agent that ignores it: bounded exit, group gone, recorded."""
    pids = tmp_path / "pids"
    pids.mkdir()
    agents = write_agents(
        tmp_path / "agents",
        _agent("stubborn", STUBBORN_CODE, pids) + _on_demand("stubborn"),
    )
    config = write_config(
        tmp_path / "symbi.toml",
        "[scheduler]\nshutdown_timeout_seconds = 0.5\nkill_grace_seconds = 0.5\n",
    )
    db = tmp_path / "symbi.db"
    daemon = DaemonProcess(
        tmp_path, "--db", str(db), "--agents-dir", str(agents), "--config", str(config)
    )
    try:
        daemon.wait_ready()
        _run_now(daemon, "stubborn")
        (run_id, (parent, child)), *_ = poll(lambda: list(_pids(pids).items()), "agent started")
    finally:
        asked = time.monotonic()
        code = daemon.stop(signal.SIGTERM)
        took = time.monotonic() - asked
    assert code == 0, daemon.log_path.read_text()
    assert took < 15, took  # shutdown 0.5 s + grace 0.5 s + SIGKILL, with a wide margin
    assert not pid_alive(parent), "the agent outlived the daemon"
    assert not pid_alive(child), "the agent's child outlived the daemon"
    recorded = rows(
        db, "SELECT id, status, trigger_kind, attempt, error_message FROM runs ORDER BY attempt"
    )
    assert [(s, t, a) for _, s, t, a, _ in recorded] == [
        ("interrupted", "manual", 1),
        ("queued", "recovery", 2),  # queued again, to run at the next start
    ]
    assert recorded[0][0] == run_id
    assert "shut down before the run finished" in recorded[0][4]
