"""`LogFileChannel`: one JSON line per run, appended to a per-job file, rotated by size."""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from pathlib import Path
from typing import Any

import anyio.to_thread

from symbiont.core.clock import Clock, SystemClock
from symbiont.core.errors import DeliveryError
from symbiont.core.models import Job, Run
from symbiont.delivery._base import rfc3339
from symbiont.delivery.settings import DeliverySettings, LogFileSettings

__all__ = ("LogFileChannel", "log_file_name")

MAX_STEM_CHARS = 100
"""Longest file name stem derived from a job name (well under every file system's limit)."""

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_OPEN_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | os.O_CLOEXEC
_FILE_MODE = 0o640
_locks_guard = threading.Lock()
_locks: dict[Path, threading.Lock] = {}


def log_file_name(job_name: str) -> str:
    """The file name of a job's log: the name made safe, plus ``.log``.

    Only ``[A-Za-z0-9._-]`` is kept (anything else becomes ``_``), leading dots are
    dropped and the stem is at most `MAX_STEM_CHARS` long. When any of that changed the
    name, a short hash of the original is appended, so two different names never share
    a file.
    """
    stem = _UNSAFE.sub("_", job_name).lstrip(".")
    if stem != job_name or len(stem) > MAX_STEM_CHARS or not stem:
        digest = hashlib.sha256(job_name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        stem = f"{stem[: MAX_STEM_CHARS - 9]}-{digest}".lstrip("-")
    return f"{stem}.log"


def _lock_for(path: Path) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(path, threading.Lock())


class LogFileChannel:
    """The ``log_file`` channel: ``<log folder>/<job>.log``, one JSON object per line.

    Writes go through ``O_APPEND`` in a worker thread, one lock per file, so concurrent
    runs in this process never interleave or lose lines. Rotation renames ``job.log`` to
    ``job.log.1`` (and ``.1`` to ``.2``...), keeping ``backups`` old files. Several
    processes appending to one folder still append whole lines, but may rotate twice.

    Args:
        settings: the delivery settings (``settings.log_file`` is used).
        clock: stamps each line's ``ts``.
    """

    name = "log_file"
    retry_attempts = 0
    """A local write that failed fails the same way a moment later."""

    def __init__(self, settings: DeliverySettings, *, clock: Clock | None = None) -> None:
        self._settings: LogFileSettings = settings.log_file
        self._clock = clock or SystemClock()

    def path_for(self, job_name: str) -> Path:
        """The log file of a job (the folder resolved).

        Raises:
            DeliveryError: no folder is configured, or the path would leave it.
        """
        if self._settings.folder is None:
            raise DeliveryError(
                self.name, "no log folder is configured: set SYMBI_LOG_DIR or [logging] dir"
            )
        folder = self._settings.folder.resolve()
        path = folder / log_file_name(job_name)
        if path.resolve().parent != folder:
            raise DeliveryError(
                self.name,
                f"the log file {path.name!r} resolves outside the log folder {str(folder)!r} "
                "(is it a symbolic link?); remove it or pick another folder",
            )
        return path

    async def deliver(self, job: Job, run: Run, output: str) -> None:  # noqa: D102 - see Channel
        path = self.path_for(job.name)
        line = json.dumps(self._record(job, run, output), ensure_ascii=False) + "\n"
        try:
            await anyio.to_thread.run_sync(self._append, path, line.encode("utf-8", "replace"))
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise DeliveryError(self.name, f"cannot write {str(path)!r}: {reason}") from None

    def _record(self, job: Job, run: Run, output: str) -> dict[str, Any]:
        return {
            "ts": rfc3339(self._clock.now()),
            "job_id": job.id,
            "job_name": job.name,
            "run_id": run.id,
            "status": str(run.status),
            "trigger": str(run.trigger),
            "attempt": run.attempt,
            "scheduled_for": rfc3339(run.scheduled_for),
            "started_at": rfc3339(run.started_at),
            "finished_at": rfc3339(run.finished_at),
            "execution_time_ms": run.execution_time_ms,
            "output": output,
            "error_message": run.error_message,
        }

    def _append(self, path: Path, data: bytes) -> None:
        with _lock_for(path):
            path.parent.mkdir(parents=True, exist_ok=True)
            limit = self._settings.max_bytes
            if limit > 0:
                try:
                    size = path.stat().st_size
                except FileNotFoundError:
                    size = 0
                if size > 0 and size + len(data) > limit:
                    _rotate(path, self._settings.backups)
            fd = os.open(path, _OPEN_FLAGS, _FILE_MODE)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                os.close(fd)


def _rotate(path: Path, backups: int) -> None:
    """Shift ``path.1`` -> ``path.2``... (dropping the oldest) and ``path`` -> ``path.1``."""
    if backups == 0:
        path.unlink(missing_ok=True)
        return
    for index in range(backups - 1, 0, -1):
        older = path.with_name(f"{path.name}.{index}")
        if older.exists():
            older.replace(path.with_name(f"{path.name}.{index + 1}"))
    path.replace(path.with_name(f"{path.name}.1"))
