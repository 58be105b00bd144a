"""CLI output and the one table that maps errors to exit codes."""

from __future__ import annotations

import sys
from typing import NoReturn

import typer
from rich.console import Console

from symbiont.core.errors import (
    ConfigError,
    ConflictError,
    JobNotFound,
    NotAllowed,
    RunNotFound,
    SymbiontError,
    ValidationError,
)

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3

_EXIT_CODES: tuple[tuple[type[Exception], int], ...] = (
    (JobNotFound, EXIT_NOT_FOUND),
    (RunNotFound, EXIT_NOT_FOUND),
    (ConfigError, EXIT_USAGE),
    (ValidationError, EXIT_USAGE),
    (NotAllowed, EXIT_FAILURE),
    (ConflictError, EXIT_FAILURE),
)


def exit_code(exc: BaseException) -> int:
    """Return the exit code for *exc*: 3 not found, 2 bad input, 1 anything else."""
    for kind, code in _EXIT_CODES:
        if isinstance(exc, kind):
            return code
    return EXIT_FAILURE


def console() -> Console:
    """A Rich console; when output is not a terminal, wide enough that tables never wrap."""
    return Console() if sys.stdout.isatty() else Console(width=250)


def fail(exc: SymbiontError | str, code: int | None = None) -> NoReturn:
    """Print one readable line on stderr and exit with the mapped (or given) code."""
    message = str(exc)
    sys.stderr.write(f"symbi: {message}\n")
    resolved = code if code is not None else (exit_code(exc) if not isinstance(exc, str) else 1)
    raise typer.Exit(resolved)
