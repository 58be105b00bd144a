"""``symbi validate``: check ``.symbi`` files without running anything."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from symbiont.dsl import DslError, parse_file

EXIT_INVALID = 1
"""At least one file does not validate."""
EXIT_USAGE = 2
"""The command line names something that is not a readable file."""


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _usage_problem(path: Path) -> str | None:
    if not path.exists():
        return f"symbi validate: no such file: {path}"
    if path.is_dir():
        return f"symbi validate: {path} is a directory; name the files, e.g. {path}/*.symbi"
    return None


def validate(
    files: Annotated[
        list[Path],
        typer.Argument(help="The .symbi files to check.", metavar="FILE", show_default=False),
    ],
) -> None:
    """Check .symbi files: print 'ok' per valid file, or the first error as file:line:col."""
    problems = [problem for path in files if (problem := _usage_problem(path)) is not None]
    for problem in problems:
        typer.echo(problem, err=True)
    if problems:
        raise typer.Exit(EXIT_USAGE)
    invalid = False
    for path in files:
        try:
            document = parse_file(path)
        except DslError as exc:
            typer.echo(str(exc), err=True)
            invalid = True
            continue
        for warning in document.warnings:
            typer.echo(str(warning), err=True)
        counts = f"{_plural(len(document.agents), 'agent')}, "
        counts += _plural(len(document.schedules), "schedule")
        typer.echo(f"ok  {path}  ({counts})")
    if invalid:
        raise typer.Exit(EXIT_INVALID)
