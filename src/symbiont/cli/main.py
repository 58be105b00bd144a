"""The root of the ``symbi`` command: mounts one Typer app per noun."""

from __future__ import annotations

from typing import Annotated

import typer

from symbiont import __version__
from symbiont.cli import agentpin, audit, config_cmd, cron, logs, run, up, validate

app = typer.Typer(
    name="symbi",
    help="symbiont: a production scheduler for AI agents.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(cron.app, name="cron")
app.add_typer(agentpin.app, name="agentpin")
app.add_typer(audit.app, name="audit")
app.add_typer(config_cmd.app, name="config")
app.command("validate")(validate.validate)
app.command("run")(run.run)
app.command("up")(up.up)
app.command("logs")(logs.logs)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"symbi {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """symbiont: a production scheduler for AI agents."""


def main() -> None:
    """Console entry point of ``symbi``."""
    app()
