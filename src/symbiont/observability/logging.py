"""structlog setup: readable lines on a terminal, and one JSON object per line in the log file.

The daemon always keeps its structured log in ``<log dir>/symbi.log`` (what `symbi logs`
reads) and also writes to stderr: readable on a terminal, JSON otherwise.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any, TextIO

import structlog

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
LOG_FILE_NAME = "symbi.log"


class _FileSink:
    """A processor that appends each event, as JSON, to the log file."""

    def __init__(self, handle: TextIO) -> None:
        self._handle = handle

    def __call__(
        self, _logger: Any, _method: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        self._handle.write(json.dumps(event, default=str) + "\n")
        return event


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


def configure_logging(level: str = "info", log_file: Path | None = None) -> TextIO | None:
    """Log at *level* or above to stderr and, when given, to *log_file* (JSON lines).

    Returns the opened log file (the caller closes it when the daemon stops), or None.
    """
    handle: TextIO | None = None
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
        structlog.processors.format_exc_info,
    ]
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handle = log_file.open("a", encoding="utf-8", buffering=1)
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
