"""``symbi cron approvals | approve | reject``: answer runs that wait for approval."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import anyio
import typer
from rich.table import Table

from symbiont.cli._context import cli_actor, local_service
from symbiont.cli._output import console, fail
from symbiont.core.enums import RunStatus
from symbiont.core.errors import SymbiontError
from symbiont.core.models import Run
from symbiont.store.base import RunFilter

DbOption = Annotated[Path | None, typer.Option("--db", help="SQLite file of the store.")]
UrlOption = Annotated[
    str | None, typer.Option("--store-url", help="postgresql://... of a shared store.")
]
ConfigOption = Annotated[Path | None, typer.Option("--config", help="TOML configuration.")]


def approvals(
    output_format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    db: DbOption = None,
    store_url: UrlOption = None,
    config: ConfigOption = None,
) -> None:
    """List runs waiting for approval."""

    async def main() -> list[Run]:
        async with local_service(config, db, store_url) as service:
            return await service.list_runs(RunFilter(status=RunStatus.pending_approval, limit=1000))

    try:
        runs = anyio.run(main)
    except SymbiontError as exc:
        fail(exc)
    if output_format == "json":
        typer.echo(json.dumps([_row(r) for r in runs], indent=2))
        return
    table = Table("run id", "job", "occurrence", "approvers", "reason")
    for run in runs:
        policy = run.details.get("policy", {})
        table.add_row(
            run.id,
            run.job_name,
            run.scheduled_for.isoformat(),
            ", ".join(policy.get("approvers", [])) or "any",
            str(policy.get("reason", "")),
        )
    console().print(table)


def approve(
    run_id: Annotated[str, typer.Argument(help="The run waiting for approval.")],
    db: DbOption = None,
    store_url: UrlOption = None,
    config: ConfigOption = None,
) -> None:
    """Approve a run waiting for approval (as SYMBI_ACTOR or your user name)."""

    async def main() -> Run:
        async with local_service(config, db, store_url) as service:
            return await service.approve_run(run_id, actor=cli_actor())

    try:
        run = anyio.run(main)
    except SymbiontError as exc:
        fail(exc)
    typer.echo(f"approved run {run.id} of {run.job_name}; it starts at the next tick")


def reject(
    run_id: Annotated[str, typer.Argument(help="The run waiting for approval.")],
    reason: Annotated[str | None, typer.Option("--reason", help="Why, for the record.")] = None,
    db: DbOption = None,
    store_url: UrlOption = None,
    config: ConfigOption = None,
) -> None:
    """Reject a run waiting for approval; it ends cancelled."""

    async def main() -> Run:
        async with local_service(config, db, store_url) as service:
            return await service.reject_run(run_id, actor=cli_actor(), reason=reason)

    try:
        run = anyio.run(main)
    except SymbiontError as exc:
        fail(exc)
    typer.echo(f"rejected run {run.id} of {run.job_name}")


def _row(run: Run) -> dict[str, object]:
    policy = run.details.get("policy", {})
    return {
        "id": run.id,
        "job_id": run.job_id,
        "job_name": run.job_name,
        "scheduled_for": run.scheduled_for.isoformat(),
        "approvers": policy.get("approvers", []),
        "reason": policy.get("reason"),
    }
