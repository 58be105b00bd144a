"""Helpers of the fault tests: real damage (tmpfs mounts, locks, immutable files) and polling.

Every helper that damages something undoes it in a ``finally``, so a failing test never leaves
a mount, a lock or an immutable file behind.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Self, TypeVar

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from click.testing import Result
from typer.testing import CliRunner

from symbiont.cli.main import app
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
    """Make *paths* immutable (``chattr +i``): writes fail even for root.

    Writes through descriptors opened before are refused too on ext4, xfs and btrfs, not on
    tmpfs: a probe beside the first path checks that, and the test skips where it fails.
    """
    _probe_immutable(paths[0].parent / ".immutable-probe")
    done: list[Path] = []
    try:
        for path in paths:
            result = _run("chattr", "+i", str(path))
            assert result.returncode == 0, result.stderr
            done.append(path)
        yield
    finally:
        for path in done:
            _run("chattr", "-i", str(path))


def _probe_immutable(probe: Path) -> None:
    with probe.open("ab", buffering=0) as handle:
        result = _run("chattr", "+i", str(probe))
        if result.returncode != 0:
            probe.unlink()
            pytest.skip(f"chattr +i is not permitted here: {result.stderr.strip()}")
        try:
            handle.write(b"x")
            refused = False
        except OSError:
            refused = True
        finally:
            _run("chattr", "-i", str(probe))
    probe.unlink()
    if not refused:
        pytest.skip(f"{probe.parent}: this file system writes through open immutable files")


class Locker:
    """Another process that holds ``BEGIN EXCLUSIVE`` on a SQLite file until released."""

    def __init__(self, db: Path) -> None:
        script = (
            "import sqlite3, sys\n"
            "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "c.execute('BEGIN EXCLUSIVE')\n"
            "print('locked', flush=True)\n"
            "sys.stdin.readline()\n"
            "c.execute('ROLLBACK')\n"
        )
        self.proc = subprocess.Popen(
            [PYTHON, "-c", script, str(db)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline().strip() == "locked"
        self.locked_at = time.monotonic()

    def release(self) -> None:
        """Roll back and exit (the lock is gone when this returns)."""
        if self.proc.poll() is None and self.proc.stdin is not None:
            self.proc.stdin.write("\n")
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@contextlib.contextmanager
def exclusive_lock(db: Path) -> Iterator[Locker]:
    """Hold ``BEGIN EXCLUSIVE`` on *db* from another process until released or the block ends."""
    locker = Locker(db)
    try:
        yield locker
    finally:
        locker.release()


def symbi(*args: str) -> Result:
    """Run the real CLI in this process (no interpreter start-up): exit code, stdout, stderr."""
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def one_line(text: str) -> str:
    """Assert *text* is one readable ``symbi:`` line, not a traceback; return it."""
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    assert "Traceback" not in text
    assert lines[0].startswith("symbi: "), text
    return lines[0]


class SilentServer:
    """A TCP server on 127.0.0.1 that accepts every connection and never answers a byte."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/hook"
        self.accepted = 0
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            self.accepted += 1
            self._held.append(conn)  # read nothing, answer nothing, close nothing

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for conn in self._held:
            conn.close()
        self._listener.close()


class _RefusingSmtp:
    """aiosmtpd handler: 550 on ``RCPT TO`` for *refuse_rcpt*, 550 on ``DATA`` for *refuse_data*."""

    def __init__(self, refuse_rcpt: str, refuse_data: str) -> None:
        self.refuse_rcpt = refuse_rcpt
        self.refuse_data = refuse_data
        self.accepted: list[list[str]] = []

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, _: SMTP, __: Session, envelope: Envelope, address: str, ___: list[str]
    ) -> str:
        if address == self.refuse_rcpt:
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, _: SMTP, __: Session, envelope: Envelope
    ) -> str:
        if self.refuse_data in envelope.rcpt_tos:
            return "550 5.7.1 message refused by policy"
        self.accepted.append(list(envelope.rcpt_tos))
        return "250 Message accepted"


@contextlib.contextmanager
def refusing_smtp(refuse_rcpt: str, refuse_data: str) -> Iterator[tuple[int, _RefusingSmtp]]:
    """A real aiosmtpd server on a free loopback port that refuses as `_RefusingSmtp` says."""
    handler = _RefusingSmtp(refuse_rcpt, refuse_data)
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    try:
        yield port, handler
    finally:
        controller.stop()


def free_port() -> int:
    """A loopback TCP port nobody listens on (at the time of asking)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
