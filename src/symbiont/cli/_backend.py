"""One interface for CLI commands: the local store (default) or a remote daemon (``--url``).

Both return the API's JSON shapes (plain dicts), so every command prints the same thing
either way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any, Protocol

from symbiont.api.present import job_out
from symbiont.api.schemas import RunOut
from symbiont.cli._context import cli_actor, local_service
from symbiont.core.enums import JobStatus, RunStatus, SecurityEventType
from symbiont.core.models import AuditEvent
from symbiont.service import JobService
from symbiont.store.base import AuditFilter, JobFilter, RunFilter

Json = dict[str, Any]


class Backend(Protocol):
    """What the ``symbi cron`` commands need, local or remote."""

    async def list_jobs(
        self, status: str | None, agent: str | None, prefix: str | None, limit: int
    ) -> list[Json]:
        """Jobs by name."""
        ...

    async def get_job(self, ref: str) -> Json:
        """One job by id or name."""
        ...

    async def create_job(self, fields: Mapping[str, Any]) -> Json:
        """Create a job from API-named fields."""
        ...

    async def delete_job(self, ref: str) -> Json:
        """Delete a job."""
        ...

    async def change(self, ref: str, action: str) -> Json:
        """``pause``, ``resume`` or ``reset`` a job."""
        ...

    async def run_now(self, ref: str, text: str | None) -> Json:
        """Queue a manual run."""
        ...

    async def history(self, ref: str, status: str | None, limit: int) -> list[Json]:
        """A job's runs, newest first."""
        ...

    async def next_runs(self, ref: str, count: int) -> list[str]:
        """The next fire times (RFC 3339)."""
        ...

    async def backfill(self, ref: str, start: datetime, end: datetime, dry_run: bool) -> Json:
        """Queue (or list) the occurrences of a time range."""
        ...

    async def audit(self, kind: str | None, since: datetime | None, limit: int) -> list[Json]:
        """Audit events, oldest first."""
        ...

    async def verify_audit(self) -> Json:
        """The audit chain's verification."""
        ...


class LocalBackend:
    """`Backend` over the local store, through the service."""

    def __init__(self, service: JobService) -> None:
        self.service = service

    async def list_jobs(
        self, status: str | None, agent: str | None, prefix: str | None, limit: int
    ) -> list[Json]:
        query = JobFilter(
            status=JobStatus(status) if status else None,
            agent_id=agent,
            name_prefix=prefix,
            limit=limit,
        )
        return [_job(j) for j in await self.service.list_jobs(query)]

    async def get_job(self, ref: str) -> Json:
        return _job(await self.service.get_job(ref))

    async def create_job(self, fields: Mapping[str, Any]) -> Json:
        return _job(await self.service.create_job(fields, actor=cli_actor(), source="cli"))

    async def delete_job(self, ref: str) -> Json:
        return _job(await self.service.delete_job(ref, actor=cli_actor()))

    async def change(self, ref: str, action: str) -> Json:
        operation = {
            "pause": self.service.pause_job,
            "resume": self.service.resume_job,
            "reset": self.service.reset_job,
        }[action]
        return _job(await operation(ref, actor=cli_actor()))

    async def run_now(self, ref: str, text: str | None) -> Json:
        return _run(await self.service.trigger_run(ref, actor=cli_actor(), input=text))

    async def history(self, ref: str, status: str | None, limit: int) -> list[Json]:
        query = RunFilter(status=RunStatus(status) if status else None, limit=limit)
        return [_run(r) for r in await self.service.history(ref, query)]

    async def next_runs(self, ref: str, count: int) -> list[str]:
        return [t.isoformat() for t in await self.service.next_runs(ref, count)]

    async def backfill(self, ref: str, start: datetime, end: datetime, dry_run: bool) -> Json:
        times, runs = await self.service.backfill(
            ref, start, end, actor=cli_actor(), dry_run=dry_run
        )
        return {"occurrences": [t.isoformat() for t in times], "runs": [_run(r) for r in runs]}

    async def audit(self, kind: str | None, since: datetime | None, limit: int) -> list[Json]:
        query = AuditFilter(
            type=SecurityEventType(kind) if kind else None, since=since, limit=limit
        )
        return [_event(e) for e in await self.service.audit(query)]

    async def verify_audit(self) -> Json:
        return dataclasses.asdict(await self.service.verify_audit())


def _event(event: AuditEvent) -> Json:
    return {
        "id": event.id,
        "ts": event.ts.isoformat(),
        "type": event.type.value,
        "job_id": event.job_id,
        "run_id": event.run_id,
        "actor": event.actor,
        "details": dict(event.details),
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def _job(job: Any) -> Json:
    return job_out(job).model_dump(mode="json")


def _run(run: Any) -> Json:
    return RunOut.of(run).model_dump(mode="json")


def jsonable(fields: Mapping[str, Any]) -> Json:
    """Turn typed definition values (from a .symbi file) into the API's JSON values."""
    return {key: _plain(value) for key, value in fields.items()}


def _plain(value: Any) -> Any:  # noqa: PLR0911 - one return per kind of value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "value") and isinstance(value.value, str):
        return value.value
    return value


@asynccontextmanager
async def open_backend(
    url: str | None,
    api_key: str | None,
    config: Path | None,
    db: Path | None,
    store_url: str | None,
) -> AsyncIterator[Backend]:
    """The remote daemon when *url* is given, else the local store."""
    if url:
        from symbiont.cli._remote import RemoteBackend  # noqa: PLC0415 - only with --url

        async with RemoteBackend.open(url, api_key) as remote:
            yield remote
        return
    async with local_service(config, db, store_url) as service:
        yield LocalBackend(service)
