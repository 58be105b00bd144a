"""``symbi cron``: schedules and cron expressions."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from symbiont.cli import approvals, jobs
from symbiont.core.clock import SystemClock
from symbiont.cron import CronError, CronExpression

app = typer.Typer(no_args_is_help=True, help="Manage scheduled jobs and cron expressions.")
app.command("list")(jobs.list_jobs)
app.command("add")(jobs.add)
app.command("remove")(jobs.remove)
app.command("pause")(jobs.pause)
app.command("resume")(jobs.resume)
app.command("reset")(jobs.reset)
app.command("status")(jobs.status)
app.command("run")(jobs.run)
app.command("history")(jobs.history)
app.command("backfill")(jobs.backfill)
app.command("upcoming")(jobs.next_runs)
app.command("approvals")(approvals.approvals)
app.command("approve")(approvals.approve)
app.command("reject")(approvals.reject)

EXIT_USAGE = 2
"""The expression, the zone or the start time cannot be used."""


def _fail(problem: str) -> typer.Exit:
    typer.echo(f"symbi cron next: {problem}", err=True)
    return typer.Exit(EXIT_USAGE)


def _start(after: str | None, zone: ZoneInfo) -> datetime:
    """The instant to count from: *after* (naive means local time in *zone*), or now."""
    if after is None:
        return SystemClock().now()
    try:
        moment = datetime.fromisoformat(after)
    except ValueError:
        raise _fail(f"--after is not an ISO 8601 date-time (got {after!r})") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


@app.command("next")
def next_(
    expression: Annotated[
        str, typer.Argument(help="A cron expression, e.g. '0 0 9 * * MON-FRI' or '@daily'.")
    ],
    count: Annotated[
        int, typer.Option("-n", "--count", min=1, max=10_000, help="How many fire times.")
    ] = 5,
    tz: Annotated[str, typer.Option("--tz", help="IANA time zone of the expression.")] = "UTC",
    after: Annotated[
        str | None,
        typer.Option(
            "--after",
            help="Start after this ISO 8601 time (naive = in --tz). Default: now.",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[
        str | None,
        typer.Option("--seed", help="Seed for H (the job name). Default: the expression."),
    ] = None,
) -> None:
    """Print a cron expression in plain English and its next fire times (local and UTC)."""
    try:
        cron = CronExpression.parse(expression, timezone=tz, seed=seed)
    except CronError as exc:
        raise _fail(str(exc)) from None
    zone = ZoneInfo(tz)
    start = _start(after, zone)
    typer.echo(cron.describe())
    times = list(itertools.islice(cron.iter(start), count))
    for moment in times:
        typer.echo(f"{moment.astimezone(zone).isoformat()}  {moment:%Y-%m-%dT%H:%M:%S}Z")
    if len(times) < count:
        typer.echo("(no further fire times)")
