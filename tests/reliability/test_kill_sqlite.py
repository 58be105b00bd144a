"""kill -9 of a SQLite daemon under load, 20 times: nothing written is lost or damaged."""

from __future__ import annotations

import json
import os
import random
import textwrap
import time
from collections import deque
from pathlib import Path

import pytest

from tests.reliability._crash_util import (
    RunRow,
    SpareDaemon,
    duplicate_attempts,
    held_by_dead_nodes,
    node_of,
    poll,
    ran_twice,
    sqlite_definitions,
    sqlite_integrity,
    sqlite_runs,
    unrecovered,
    verify_audit,
)

pytestmark = pytest.mark.slow

CYCLES = 20
ECHO_JOBS = 20
LIFE_S = (0.2, 1.4)
"""How long each daemon lives after it is ready, drawn at random in this range."""
RECOVERY_DEADLINE_S = 20


def _agents(folder: Path) -> None:
    command = "echo 42"  # a real process per run, but a light one
    blocks = [
        'agent echo { handler: "symbiont.testing.agents:echo" }',
        'agent slow { handler: "symbiont.testing.agents:slow" }',
        f"agent say {{ command: {json.dumps(command)} }}",
        'schedule { name: "say" agent: "say" cron: "* * * * * *" }',
    ]
    # slow runs take 3 s: with up to 3 at once per job, a kill always finds some mid-run
    blocks += [
        f'schedule {{ name: "slow-{i}" agent: "slow" cron: "* * * * * *" max_concurrent: 3 }}'
        for i in range(2)
    ]
    blocks += [
        f'schedule {{ name: "echo-{i}" agent: "echo" cron: "* * * * * *" }}'
        for i in range(ECHO_JOBS)
    ]
    folder.mkdir()
    (folder / "load.symbi").write_text("\n".join(blocks) + "\n")


def _check_runs(runs: list[RunRow], finished: dict[str, str], where: str) -> None:
    """Every run finished before is still there, same status; no occurrence ran twice."""
    now = {r.id: r.status for r in runs}
    lost = [run_id for run_id in finished if run_id not in now]
    assert not lost, f"{where}: {len(lost)} finished runs are gone, e.g. {lost[:3]}"
    changed = [(i, s, now[i]) for i, s in finished.items() if now[i] != s]
    assert not changed, f"{where}: finished runs changed status: {changed[:3]}"
    assert not duplicate_attempts(runs), f"{where}: one attempt recorded twice"
    assert not ran_twice(runs), f"{where}: an occurrence succeeded twice: {ran_twice(runs)[:3]}"


def _start(daemon: SpareDaemon) -> SpareDaemon:
    daemon.go()
    daemon.wait_ready()
    return daemon


def _wait_recovered(
    db: Path, orphans: set[str], node: str, finished: dict[str, str], where: str
) -> None:
    """Wait until the killed daemon's runs are recovered; then check every run."""

    def recovered() -> bool:
        """The killed daemon's running runs are recovered, no run is held by a dead node."""
        runs = sqlite_runs(db)
        return not unrecovered(runs, orphans) and not held_by_dead_nodes(runs, {node})

    try:
        poll(recovered, RECOVERY_DEADLINE_S)
    except AssertionError:
        runs = sqlite_runs(db)
        held = held_by_dead_nodes(runs, {node})
        raise AssertionError(
            f"{where}: {unrecovered(runs, orphans)[:3]}, held: {held[:3]}"
        ) from None
    _check_runs(sqlite_runs(db), finished, f"{where}, after the restart")


def test_kill_9_under_load_loses_nothing(tmp_path: Path) -> None:
    """20 kill -9 at random moments: definitions, finished runs and the file stay intact.

    After each kill the file is read as the crash left it: integrity_check ok, the audit
    chain verifies, every definition and every finished run is unchanged. After each
    restart the runs the killed daemon left running are recorded interrupted and run again
    as attempt + 1, and no occurrence has two succeeded runs.
    """
    seed = int(os.environ.get("SYMBI_CRASH_SEED", random.randrange(2**32)))  # noqa: S311 - test data
    print(f"kill moments: SYMBI_CRASH_SEED={seed}")  # noqa: T201 - shown on failure, to reproduce
    rng = random.Random(seed)  # noqa: S311 - reproducible kill moments, not secrets
    _agents(tmp_path / "agents")
    (tmp_path / "symbi.toml").write_text(
        textwrap.dedent(
            """
            [scheduler]
            lease_seconds = 1
            """
        )
    )
    db = tmp_path / "symbi.db"
    args = ("--db", str(db), "--agents-dir", str(tmp_path / "agents"))
    daemon = _start(SpareDaemon(tmp_path, *args))
    # two spares import ahead, so each restart costs only the daemon's own start
    spares = deque(SpareDaemon(tmp_path, *args) for _ in range(2))
    definitions = sqlite_definitions(db)
    assert len(definitions) == ECHO_JOBS + 3
    finished: dict[str, str] = {}
    orphans: set[str] = set()
    interrupted = 0
    try:
        for cycle in range(CYCLES):
            where = f"cycle {cycle} (SYMBI_CRASH_SEED={seed})"
            kill_at = time.monotonic() + rng.uniform(*LIFE_S)
            _wait_recovered(db, orphans, node_of(daemon), finished, where)
            assert sqlite_definitions(db) == definitions, f"{where}: definitions changed"
            time.sleep(max(0.0, kill_at - time.monotonic()))  # the random kill moment

            daemon.kill()
            assert sqlite_integrity(db) == "ok", where
            assert verify_audit(str(db)) is None, where
            assert sqlite_definitions(db) == definitions, f"{where}: definitions changed"
            runs = sqlite_runs(db)
            _check_runs(runs, finished, f"{where}, after the kill")
            finished.update((r.id, r.status) for r in runs if not r.open)
            orphans = {r.id for r in runs if r.status == "running"}
            interrupted += len(orphans)
            daemon = _start(spares.popleft())
            spares.append(SpareDaemon(tmp_path, *args))
        _wait_recovered(db, orphans, node_of(daemon), finished, "after the last restart")
        assert daemon.proc.poll() is None, "the last daemon died"
    finally:
        for spare in spares:
            spare.discard()
        if daemon.proc.poll() is None:
            daemon.kill()
    assert sqlite_integrity(db) == "ok"
    assert verify_audit(str(db)) is None
    _check_runs(sqlite_runs(db), finished, "at the end")
    succeeded = sum(status == "succeeded" for status in finished.values())
    print(f"{CYCLES} kills, {interrupted} runs caught mid-run, {succeeded} runs succeeded")  # noqa: T201 - figures
    assert interrupted >= CYCLES, "the kills should catch slow runs mid-run"
