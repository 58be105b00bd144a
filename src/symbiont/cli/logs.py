"""``symbi logs``: read the daemon's structured log (``<log dir>/symbi.log``)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from symbiont.cli._output import EXIT_NOT_FOUND, fail
from symbiont.config import load_settings
from symbiont.config.build import log_dir
from symbiont.core.errors import SymbiontError
from symbiont.observability.logging import LOG_FILE_NAME

_RANK = {"debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50}


def logs(
    text: Annotated[
        str | None,
        typer.Option("--filter", help="Keep lines mentioning this (event, job, run id...)."),
    ] = None,
    level: Annotated[str, typer.Option("--level", help="debug, info, warning, error.")] = "info",
    follow: Annotated[
        bool, typer.Option("-f", "--follow", help="Keep printing new lines.")
    ] = False,
    lines: Annotated[int, typer.Option("--lines", "-n", min=0, help="Last N lines.")] = 100,
    output_format: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
    config: Annotated[Path | None, typer.Option("--config", help="TOML configuration.")] = None,
    db: Annotated[Path | None, typer.Option("--db", help="SQLite store (locates logs/).")] = None,
) -> None:
    """Show the daemon's log, filtered by text and level; -f follows it."""
    try:
        settings = load_settings(config, overrides={"store.path": None if db is None else str(db)})
    except SymbiontError as exc:
        fail(exc)
    path = log_dir(settings, dict(os.environ)) / LOG_FILE_NAME
    if not path.is_file():
        fail(f"no daemon log at {path}; start the daemon with `symbi up`", EXIT_NOT_FOUND)
    minimum = _RANK.get(level.lower(), 20)
    with path.open(encoding="utf-8") as handle:
        selected = [e for e in _events(handle) if _keep(e, text, minimum)]
        for event in selected[-lines:] if lines else []:
            _print(event, output_format)
        while follow:
            for event in _events(handle):
                if _keep(event, text, minimum):
                    _print(event, output_format)
            time.sleep(0.5)


def _events(handle: TextIO) -> Iterator[dict[str, Any]]:
    for line in handle:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict):
            yield event


def _keep(event: dict[str, Any], text: str | None, minimum: int) -> bool:
    if _RANK.get(str(event.get("level", "info")), 20) < minimum:
        return False
    return text is None or text.lower() in json.dumps(event).lower()


def _print(event: dict[str, Any], output_format: str) -> None:
    if output_format == "json":
        typer.echo(json.dumps(event))
        return
    head = (
        f"{event.get('ts', '')} {str(event.get('level', '')).upper():<7} {event.get('event', '')}"
    )
    rest = " ".join(f"{k}={v}" for k, v in event.items() if k not in {"ts", "level", "event"})
    typer.echo(f"{head} {rest}".rstrip())
