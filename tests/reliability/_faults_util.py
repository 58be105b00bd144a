"""Helpers of the fault tests: real damage (tmpfs mounts, locks, immutable files) and polling.

Every helper that damages something undoes it in a ``finally``, so a failing test never leaves
a mount, a lock or an immutable file behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from tests.integration.daemon_util import DaemonProcess

T = TypeVar("T")

PYTHON = sys.executable


def poll(check: Callable[[], T], what: str, deadline_s: float = 20) -> T:
    """The first truthy value of *check*, polled until *deadline_s*; else fail naming *what*."""
    end = time.monotonic() + deadline_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"not within {deadline_s}s: {what} (last value {value!r})")
        time.sleep(0.05)


def write_agents(folder: Path, text: str) -> Path:
    """Write one ``.symbi`` file into *folder* (created) and return the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "faults.symbi").write_text(textwrap.dedent(text))
    return folder


def write_config(path: Path, text: str) -> Path:
    """Write a TOML configuration file."""
    path.write_text(textwrap.dedent(text))
    return path


def rows(db: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Read *sql* from the SQLite file (read-only connection; [] while tables are missing)."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as c:
            return c.execute(sql, params).fetchall()
    except sqlite3.OperationalError:
        return []


def health(daemon: DaemonProcess) -> dict[str, Any]:
    """``GET /api/v1/health/scheduler`` of *daemon*."""
    answer = httpx.get(f"{daemon.url}/api/v1/health/scheduler", timeout=10)
    answer.raise_for_status()
    data: dict[str, Any] = answer.json()
    return data


def health_is(daemon: DaemonProcess, status: str) -> dict[str, Any] | None:
    """The scheduler health of *daemon* when its status is *status*, else None."""
    seen = health(daemon)
    return seen if seen["status"] == status else None


def events(daemon: DaemonProcess, name: str) -> list[dict[str, Any]]:
    """The daemon's stderr log events called *name*."""
    return [e for e in daemon.events() if e.get("event") == name]


def file_events(path: Path) -> list[dict[str, Any]]:
    """The JSON lines of a log file (every line must parse: a torn line fails the test)."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def pid_alive(pid: int) -> bool:
    """Whether process *pid* still runs (a zombie counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] not in "ZX"


def memory_kb(pid: int) -> dict[str, int]:
    """``VmHWM`` (peak) and ``VmRSS`` of *pid*, in kB, from ``/proc/<pid>/status``."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in {"VmHWM", "VmRSS"}:
            found[key] = int(value.split()[0])
    return found


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=False, timeout=30)


@contextlib.contextmanager
def tmpfs(where: Path, size: str) -> Iterator[Path]:
    """Mount a tmpfs of *size* on *where*; skip when mounting is not permitted here.

    The mount is undone on the way out, lazily if something still holds it.
    """
    where.mkdir(parents=True, exist_ok=True)
    mounted = _run("mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(where))
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        if _run("umount", str(where)).returncode != 0:
            _run("umount", "-l", str(where))


def remount(where: Path, mode: str) -> None:
    """Remount the tmpfs at *where* ``ro`` or ``rw``."""
    done = _run("mount", "-o", f"remount,{mode}", str(where))
    assert done.returncode == 0, done.stderr


def fill(folder: Path, top_up: Path | None = None) -> Path:
    """Fill the file system of *folder* to the last byte; return the filler file.

    tmpfs gives whole pages, so a file that ends inside a page could still grow: *top_up*
    (the daemon's log) is padded with blank lines until the disk refuses them too.
    """
    filler = folder / "filler"
    with filler.open("wb", buffering=0) as out:
        for chunk in (1 << 20, 1 << 16, 1 << 12, 1):
            with contextlib.suppress(OSError):
                while out.write(b"\0" * chunk):
                    pass
    if top_up is not None:
        with top_up.open("ab", buffering=0) as log, contextlib.suppress(OSError):
            while log.write(b"\n"):
                pass
    return filler


@contextlib.contextmanager
def immutable(*paths: Path) -> Iterator[None]:
    """Make *paths* immutable (``chattr +i``): writes fail even for root and through open files.

    Skips when the file system does not support the attribute.
    """
    done: list[Path] = []
    try:
        for path in paths:
            result = _run("chattr", "+i", str(path))
            if result.returncode != 0:
                pytest.skip(f"chattr +i is not supported here: {result.stderr.strip()}")
            done.append(path)
        yield
    finally:
        for path in done:
            _run("chattr", "-i", str(path))


@contextlib.contextmanager
def exclusive_lock(db: Path, hold_s: float) -> Iterator[subprocess.Popen[str]]:
    """Another process holds ``BEGIN EXCLUSIVE`` on *db* for *hold_s* seconds (or until exit)."""
    script = (
        "import sqlite3, sys, time\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "c.execute('BEGIN EXCLUSIVE')\n"
        "print('locked', flush=True)\n"
        "time.sleep(float(sys.argv[2]))\n"
        "c.execute('ROLLBACK')\n"
        "print('released', flush=True)\n"
    )
    locker = subprocess.Popen(
        [PYTHON, "-c", script, str(db), str(hold_s)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert locker.stdout is not None
        assert locker.stdout.readline().strip() == "locked"
        yield locker
    finally:
        if locker.poll() is None:
            locker.kill()
        locker.wait(timeout=10)
        if locker.stdout is not None:
            locker.stdout.close()


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m symbiont ARGS`` and return its exit code and output."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [PYTHON, "-m", "symbiont", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env=full_env,
    )


def one_line(text: str) -> str:
    """Assert *text* is one readable ``symbi:`` line, not a traceback; return it."""
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    assert "Traceback" not in text
    assert lines[0].startswith("symbi: "), text
    return lines[0]
