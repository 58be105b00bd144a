"""``symbi audit``: query the audit log and verify its hash chain."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from symbiont.cli._output import console, fail
from symbiont.cli.jobs import ConfigOpt, DbOpt, FormatOpt, KeyOpt, StoreOpt, Target, UrlOpt

app = typer.Typer(no_args_is_help=True, help="Query and verify the audit log.")


@app.command("query")
def query(
    kind: Annotated[str | None, typer.Option("--type", help="e.g. CronJobFailed")] = None,
    since: Annotated[
        datetime | None, typer.Option("--since", help="ISO 8601 (UTC if no zone).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100_000)] = 100,
    output_format: FormatOpt = "table",
    url: UrlOpt = None,
    api_key: KeyOpt = None,
    db: DbOpt = None,
    store_url: StoreOpt = None,
    config: ConfigOpt = None,
) -> None:
    """List audit events, oldest first (filter by type and time)."""
    start = None if since is None else since if since.tzinfo else since.replace(tzinfo=UTC)
    events = Target(url, api_key, db, store_url, config).call(lambda b: b.audit(kind, start, limit))
    if output_format == "json":
        typer.echo(json.dumps(events, indent=2))
        return
    table = Table("id", "time", "type", "actor", "job", "details")
    for event in events:
        table.add_row(
            str(event["id"]),
            event["ts"],
            event["type"],
            event["actor"],
            event["job_id"] or "-",
            json.dumps(event["details"])[:120],
        )
    console().print(table)


@app.command("verify")
def verify(
    url: UrlOpt = None,
    api_key: KeyOpt = None,
    db: DbOpt = None,
    store_url: StoreOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Recompute the audit log's hash chain; exit 1 and name the first bad event if broken."""
    result = Target(url, api_key, db, store_url, config).call(lambda b: b.verify_audit())
    if not result["ok"]:
        fail(f"audit chain broken at event {result['first_bad_id']}: {result['problem']}", 1)
    typer.echo(f"audit chain ok: {result['events']} events verified")
