"""``symbi up``: the daemon (scheduler + API) on the local store."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import anyio
import typer

from symbiont.cli._output import fail
from symbiont.config import load_settings
from symbiont.core.errors import SymbiontError
from symbiont.observability import configure_logging
from symbiont.observability.logging import LOG_FILE_NAME


def up(
    config: Annotated[
        Path | None, typer.Option("--config", help="TOML file (default ./symbi.toml).")
    ] = None,
    db: Annotated[Path | None, typer.Option("--db", help="SQLite file of the store.")] = None,
    store_url: Annotated[
        str | None, typer.Option("--store-url", help="postgresql://... for a shared store.")
    ] = None,
    agents_dir: Annotated[
        Path | None, typer.Option("--agents-dir", help="Folder of .symbi files (./agents).")
    ] = None,
    host: Annotated[str | None, typer.Option("--host", help="API address (127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option("--port", help="API port (8080).")] = None,
) -> None:
    """Start the daemon: load the agents folder, run schedules, serve the API."""
    from symbiont.config.build import log_dir, serve  # noqa: PLC0415 - keeps other commands fast
    from symbiont.scheduler.daemon import tune_gc  # noqa: PLC0415 - same

    try:
        settings = load_settings(
            config,
            overrides={
                "store.path": None if db is None else str(db),
                "store.url": store_url,
                "agents_dir": None if agents_dir is None else str(agents_dir),
                "api.host": host,
                "api.port": port,
            },
        )
        environ = dict(os.environ)
        log_file = log_dir(settings, environ) / LOG_FILE_NAME
        try:
            handle = configure_logging(settings.logging.level, log_file)
        except OSError as exc:
            fail(
                f"cannot write the daemon's log {log_file}: {exc.strerror or exc}; "
                "set [logging] dir or SYMBI_LOG_DIR to a writable folder"
            )
        tune_gc()
        try:
            anyio.run(serve, settings, environ)
        finally:
            if handle is not None:
                handle.close()
    except SymbiontError as exc:
        fail(exc)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
