"""structlog setup: readable lines on a terminal, and one JSON object per line in the log file.

The daemon always keeps its structured log in ``<log dir>/symbi.log`` (what `symbi logs`
reads) and also writes to stderr: readable on a terminal, JSON otherwise.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import MutableMapping
from contextlib import suppress
from pathlib import Path
from typing import Any, BinaryIO

import structlog

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
LOG_FILE_NAME = "symbi.log"


class _FileSink:
    """A processor that appends each event, as one JSON line, to the log file.

    The daemon outlives its log file: a line that cannot be written (disk full, read-only
    file system) is dropped, never half-written, and the event still reaches stderr with a
    ``log_file_error`` field. The first line written once the file accepts writes again is
    a ``log.lines_dropped`` warning that says how many were lost.
    """

    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle
        self._dropped = 0
        self._error = ""

    def __call__(
        self, _logger: Any, _method: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        if self._dropped and self._write(self._dropped_line(event)):
            self._dropped = 0
        if self._dropped or not self._write(json.dumps(event, default=str) + "\n"):
            self._dropped += 1
            event["log_file_error"] = self._error
        return event

    def _dropped_line(self, event: MutableMapping[str, Any]) -> str:
        note = {
            "event": "log.lines_dropped",
            "level": "warning",
            "ts": event.get("ts"),
            "dropped": self._dropped,
            "error": self._error,
        }
        return json.dumps(note) + "\n"

    def _write(self, line: str) -> bool:
        """Append *line* whole, or leave the file as it was and return False."""
        data = line.encode("utf-8", "backslashreplace")
        done = 0
        while done < len(data):
            try:
                written = self._handle.write(data[done:]) or 0
            except OSError as exc:
                self._error = f"{exc.strerror or type(exc).__name__} ({self._handle.name})"
                written = 0
            if not written:
                self._error = self._error or "the log file took no bytes"
                if done:  # a torn line would break every reader: take it back
                    with suppress(OSError):
                        fd = self._handle.fileno()
                        os.ftruncate(fd, os.fstat(fd).st_size - done)
                return False
            done += written
        return True


class _StdlibBridge(logging.Handler):
    """Hands the records of libraries' stdlib loggers (psycopg's pool, uvicorn) to structlog.

    Without it Python printed their warnings as bare text on stderr (a JSON log consumer
    choked on them) and they never reached the log file.
    """

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string must not break logging
            self.handleError(record)
            return
        logger = structlog.get_logger(record.name)
        fields: dict[str, Any] = {"logger": record.name}
        if record.exc_info:
            fields["exc_info"] = record.exc_info
        logger.log(record.levelno, message, **fields)


def configure_logging(level: str = "info", log_file: Path | None = None) -> BinaryIO | None:
    """Log at *level* or above to stderr and, when given, to *log_file* (JSON lines).

    Returns the opened log file (the caller closes it when the daemon stops), or None.

    Raises:
        OSError: the log file cannot be created or opened for appending.
    """
    handle: BinaryIO | None = None
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
        structlog.processors.format_exc_info,
    ]
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handle = log_file.open("ab", buffering=0)  # unbuffered: each line is one write
        processors.append(_FileSink(handle))
    processors.append(
        structlog.dev.ConsoleRenderer(colors=False)
        if sys.stderr.isatty()
        else structlog.processors.JSONRenderer(sort_keys=False)
    )
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS.get(level, logging.INFO)),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _StdlibBridge)]:
        root.removeHandler(old)
    root.addHandler(_StdlibBridge(logging.WARNING))
    root.setLevel(max(logging.WARNING, _LEVELS.get(level, logging.INFO)))
    return handle
