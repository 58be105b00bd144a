"""``symbi cron`` job commands: list, add, remove, pause, resume, reset, status, run, history."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import anyio
import typer
from rich.table import Table

from symbiont.cli._backend import Backend, Json, jsonable, open_backend
from symbiont.cli._output import EXIT_USAGE, console, fail
from symbiont.core.errors import SymbiontError

T = TypeVar("T")

UrlOpt = Annotated[
    str | None, typer.Option("--url", envvar="SYMBI_URL", help="A remote daemon's API URL.")
]
KeyOpt = Annotated[
    str | None,
    typer.Option(
        "--api-key", envvar="SYMBI_API_KEY", help="API key for --url.", show_default=False
    ),
]
DbOpt = Annotated[Path | None, typer.Option("--db", envvar="SYMBI_DB", help="SQLite store file.")]
StoreOpt = Annotated[
    str | None, typer.Option("--store-url", envvar="SYMBI_STORE_URL", help="postgresql://...")
]
ConfigOpt = Annotated[Path | None, typer.Option("--config", help="TOML configuration.")]
FormatOpt = Annotated[str, typer.Option("--format", help="table, json (or csv for history).")]
JobArg = Annotated[str, typer.Argument(help="Job id or name.")]


class Target:
    """Where a command runs: the flags shared by every job command."""

    def __init__(
        self,
        url: str | None,
        api_key: str | None,
        db: Path | None,
        store_url: str | None,
        config: Path | None,
    ) -> None:
        self.url, self.api_key, self.db, self.store_url, self.config = (
            url,
            api_key,
            db,
            store_url,
            config,
        )

    def call(self, action: Callable[[Backend], Awaitable[T]]) -> T:
        """Open the backend, run *action*, and turn errors into one line and an exit code."""

        async def main() -> T:
            async with open_backend(
                self.url, self.api_key, self.config, self.db, self.store_url
            ) as backend:
                return await action(backend)

        try:
            return anyio.run(main)
        except SymbiontError as exc:
            fail(exc)


def list_jobs(
    status: Annotated[str | None, typer.Option("--status", help="active, paused, ...")] = None,
    agent: Annotated[str | None, typer.Option("--agent", help="Only this agent's jobs.")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Name prefix.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 1000,
    output_format: FormatOpt = "table",
    url: UrlOpt = None,
    api_key: KeyOpt = None,
    db: DbOpt = None,
    store_url: StoreOpt = None,
    config: ConfigOpt = None,
) -> None:
    """List jobs (filter by status and agent)."""
    target = Target(url, api_key, db, store_url, config)
    jobs = target.call(lambda b: b.list_jobs(status, agent, name, limit))
    if output_format == "json":
        typer.echo(json.dumps(jobs, indent=2))
        return
    table = Table("name", "agent", "schedule", "tz", "status", "next run", "runs", "fails")
    for job in jobs:
        table.add_row(
            job["name"],
            job["agent_id"],
            job["cron_expr"] or f"at {job['at']}",
            job["timezone"],
            job["status"],
            job["next_run"] or "-",
            str(job["run_count"]),
            str(job["failure_count"]),
        )
    console().print(table)


def add(
    file: Annotated[Path | None, typer.Option("--file", help="A .symbi file.")] = None,
    schedule: Annotated[
        str | None, typer.Option("--schedule", help="The schedule block's name in --file.")
    ] = None,
    inline: Annotated[str | None, typer.Option("--json", help="A job definition as JSON.")] = None,
    url: UrlOpt = None,
    api_key: KeyOpt = None,
    db: DbOpt = None,
    store_url: StoreOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Add a job from a .symbi file's schedule block or from inline JSON."""
    fields = _definition(file, schedule, inline)
    job = Target(url, api_key, db, store_url, config).call(lambda b: b.create_job(fields))
    typer.echo(f"created job {job['name']} ({job['id']}); next run {job['next_run'] or '-'}")


def _definition(file: Path | None, schedule: str | None, inline: str | None) -> Json:
    if (file is None) == (inline is None):
        fail("give either --file FILE --schedule NAME or --json '{...}'", EXIT_USAGE)
    if inline is not None:
        try:
            data = json.loads(inline)
        except json.JSONDecodeError as exc:
            fail(f"--json is not valid JSON: {exc}", EXIT_USAGE)
        if not isinstance(data, dict):
            fail("--json must be a JSON object of job fields", EXIT_USAGE)
        return data
    from symbiont.dsl import parse_file  # noqa: PLC0415 - only for --file
    from symbiont.service.loader import schedule_fields  # noqa: PLC0415

    assert file is not None  # noqa: S101 - checked above
    try:
        document = parse_file(file)
    except SymbiontError as exc:
        fail(exc, EXIT_USAGE)
    names = [s.name for s in document.schedules]
    if schedule is None and len(names) == 1:
        schedule = names[0]
    spec = document.schedule(schedule or "")
    if spec is None:
        fail(f"{file} has no schedule named {schedule!r}; it has: {', '.join(names)}", EXIT_USAGE)
    return jsonable(schedule_fields(spec))


def remove(
    job: Annotated[str | None, typer.Argument(help="Job id or name.")] = None,
    name: Annotated[str | None, typer.Option("--name", help="The job's name.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Do not ask for confirmation.")] = False,
    url: UrlOpt = None,
    api_key: KeyOpt = None,
    db: DbOpt = None,
    store_url: StoreOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Remove a job and its run history (asks first unless --force)."""
    ref = job or name
    if ref is None:
        fail("name the job: symbi cron remove JOB_ID or --name NAME", EXIT_USAGE)
    target = Target(url, api_key, db, store_url, config)
    found = target.call(lambda b: b.get_job(ref))
    if not force:
        if not sys.stdin.isatty():
            fail("refusing to delete without confirmation; add --force", EXIT_USAGE)
        question = f"Delete job {found['name']} ({found['run_count']} runs recorded)?"
        if not typer.confirm(question, default=False):
            fail("not deleted", 1)
    target.call(lambda b: b.delete_job(found["id"]))
    typer.echo(f"deleted job {found['name']} ({found['id']})")


def _change(action: str) -> Callable[..., None]:
    def command(
        job: JobArg,
        url: UrlOpt = None,
        api_key: KeyOpt = None,
        db: DbOpt = None,
        store_url: StoreOpt = None,
        config: ConfigOpt = None,
    ) -> None:
        changed = Target(url, api_key, db, store_url, config).call(lambda b: b.change(job, action))
        typer.echo(f"{changed['name']}: {changed['status']}; next run {changed['next_run'] or '-'}")

    command.__doc__ = {
        "pause": "Pause a job (stops scheduling, keeps its state).",
        "resume": "Resume a paused job.",
        "reset": "Bring a dead-lettered job back to active.",
    }[action]
    return command


pause, resume, reset = _change("pause"), _change("resume"), _change("reset")


def status(
    job: JobArg,
    history_count: Annotated[int, typer.Option("--history", min=0, max=1000)] = 0,
    watch: Annotated[bool, typer.Option("--watch", help="Refresh every 5 s.")] = False,
    output_format: FormatOpt = "table",
    url: UrlOpt = None,
    api_key: KeyOpt = None,
    db: DbOpt = None,
    store_url: StoreOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Show a job with its next run (and its last runs with --history N)."""
    target = Target(url, api_key, db, store_url, config)

    async def read(backend: Backend) -> tuple[Json, list[Json]]:
        details = await backend.get_job(job)
        runs = await backend.history(job, None, history_count) if history_count else []
        return details, runs

    while True:
        details, runs = target.call(read)
        if output_format == "json":
            typer.echo(json.dumps({"job": details, "history": runs}, indent=2))
        else:
            _print_status(details, runs)
        if not watch:
            return
        anyio.run(anyio.sleep, 5)


def _print_status(job: Json, runs: list[Json]) -> None:
    out = console()
    table = Table(show_header=False)
    for key in ("id", "name", "agent_id", "status", "status_reason", "cron_expr", "at"):
        if job.get(key) is not None:
            table.add_row(key, str(job[key]))
    table.add_row("schedule", str(job.get("schedule_description") or "-"))
    for key in ("timezone", "next_run", "last_run", "run_count", "failure_count", "source"):
        table.add_row(key, str(job.get(key) if job.get(key) is not None else "-"))
    out.print(table)
    if runs:
        _print_runs(runs)


def run(
    job: JobArg,
    text: Annotated[str | None, typer.Option("--input", help="Input for this run.")] = None,
    url: UrlOpt = None,
    api_key: KeyOpt = None,
    db: DbOpt = None,
    store_url: StoreOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Trigger a run now, outside the schedule (a running daemon picks it up)."""
    queued = Target(url, api_key, db, store_url, config).call(lambda b: b.run_now(job, text))
    typer.echo(f"queued run {queued['id']} of {queued['job_name']}")


def history(
    job: JobArg,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100_000)] = 20,
    status_filter: Annotated[str | None, typer.Option("--status", help="failed, ...")] = None,
    output_format: FormatOpt = "table",
    url: UrlOpt = None,
    api_key: KeyOpt = None,
    db: DbOpt = None,
    store_url: StoreOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Show a job's runs, newest first (--format csv for a spreadsheet)."""
    runs = Target(url, api_key, db, store_url, config).call(
        lambda b: b.history(job, status_filter, limit)
    )
    if output_format == "json":
        typer.echo(json.dumps(runs, indent=2))
    elif output_format == "csv":
        typer.echo(_csv(runs), nl=False)
    else:
        _print_runs(runs)


_CSV_FIELDS = (
    "id",
    "job_name",
    "trigger",
    "scheduled_for",
    "status",
    "attempt",
    "started_at",
    "finished_at",
    "execution_time_ms",
    "iterations",
    "error_message",
    "output",
)


def _csv(runs: list[Json]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=_CSV_FIELDS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(runs)
    return buffer.getvalue()


def _print_runs(runs: list[Json]) -> None:
    table = Table("run", "occurrence", "trigger", "attempt", "status", "ms", "error / output")
    for item in runs:
        note = item.get("error_message") or (item.get("output") or "").strip().splitlines()[:1]
        table.add_row(
            item["id"],
            item["scheduled_for"],
            item["trigger"],
            str(item["attempt"]),
            item["status"],
            str(item.get("execution_time_ms") or "-"),
            note if isinstance(note, str) else " ".join(note),
        )
    console().print(table)


def next_runs(
    job: JobArg,
    count: Annotated[int, typer.Option("-n", min=1, max=100)] = 5,
    url: UrlOpt = None,
    api_key: KeyOpt = None,
    db: DbOpt = None,
    store_url: StoreOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Show a job's next fire times."""
    times = Target(url, api_key, db, store_url, config).call(lambda b: b.next_runs(job, count))
    typer.echo("\n".join(times) if times else "no upcoming run (paused, finished or dead-lettered)")


def backfill(
    job: JobArg,
    start: Annotated[datetime, typer.Option("--from", help="Start (ISO 8601, inclusive).")],
    end: Annotated[datetime, typer.Option("--to", help="End (ISO 8601, exclusive).")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list them.")] = False,
    url: UrlOpt = None,
    api_key: KeyOpt = None,
    db: DbOpt = None,
    store_url: StoreOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Run the occurrences of a time range that have no run yet (--dry-run lists them)."""
    from datetime import UTC  # noqa: PLC0415 - local to this command

    first, last = (t if t.tzinfo else t.replace(tzinfo=UTC) for t in (start, end))
    result: Any = Target(url, api_key, db, store_url, config).call(
        lambda b: b.backfill(job, first, last, dry_run)
    )
    for moment in result["occurrences"]:
        typer.echo(moment)
    verb = "would queue" if dry_run else "queued"
    typer.echo(f"{verb} {len(result['occurrences'])} run(s)")
