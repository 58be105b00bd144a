"""`AsyncSymbiontClient`: the async twin of `SymbiontClient` (anyio: asyncio or trio)."""

from __future__ import annotations

import builtins
import os
from datetime import datetime
from types import TracebackType
from typing import Self, TypeVar, Unpack

import anyio
import httpx

from symbiont.client import _base
from symbiont.client._base import AsyncSend, Call, ClientConfig
from symbiont.client.models import (
    AuditEvent,
    AuditVerification,
    Health,
    Job,
    JobFields,
    NextRun,
    Run,
)

_T = TypeVar("_T")


class Schedule:
    """``client.schedule``: the jobs under ``/api/v1/schedule``, as in the spec's example.

    Every method that takes a ``job_id`` also accepts the job's name. Every method raises
    a :class:`~symbiont.client.errors.ClientError` subclass when the call fails:
    ``NotFoundError`` for an unknown job, ``ValidationError`` for bad fields, and so on.
    """

    def __init__(self, send: AsyncSend) -> None:
        self._send = send

    async def create(self, **fields: Unpack[JobFields]) -> Job:
        """Create a job from the spec's field names.

        Args:
            **fields: ``name``, ``agent_id`` and ``cron_expr`` (or ``at``) at least; see
                :class:`~symbiont.client.models.JobFields` for the rest.

        Returns:
            The new job, with its id and ``next_run``.

        Raises:
            ValidationError: a field is missing or invalid (``problems`` lists them).
            ConflictError: another job already has this name.
        """
        return await self._send(_base.create_job(fields))

    async def list(
        self,
        status: str | None = None,
        agent_id: str | None = None,
        limit: int | None = None,
        *,
        name_prefix: str | None = None,
        offset: int | None = None,
    ) -> builtins.list[Job]:
        """List jobs by name, optionally filtered by status, agent and name prefix.

        Args:
            status: only jobs in this status (``active``, ``paused``, ``dead_letter``...).
            agent_id: only jobs of this agent.
            limit: at most this many jobs (the daemon's default is 100, its maximum 1000).
            name_prefix: only jobs whose name starts with this.
            offset: skip this many jobs first, for paging.
        """
        return await self._send(
            _base.list_jobs(
                status=status,
                agent_id=agent_id,
                limit=limit,
                name_prefix=name_prefix,
                offset=offset,
            )
        )

    async def get(self, job_id: str) -> Job:
        """Return one job (by id or name), with its ``next_run``."""
        return await self._send(_base.get_job(job_id))

    async def get_status(self, job_id: str) -> Job:
        """Return a job's current state: ``status``, ``next_run``, ``last_run``, counters."""
        return await self._send(_base.get_job(job_id))

    async def update(self, job_id: str, **fields: Unpack[JobFields]) -> Job:
        """Change some fields of a job; the schedule is recomputed when it changes."""
        return await self._send(_base.update_job(job_id, fields))

    async def delete(self, job_id: str) -> Job:
        """Delete a job with its runs; return the job as it was."""
        return await self._send(_base.delete_job(job_id))

    async def pause(self, job_id: str) -> Job:
        """Stop scheduling a job, keeping its state; pausing a paused job changes nothing."""
        return await self._send(_base.job_action(job_id, "pause"))

    async def resume(self, job_id: str) -> Job:
        """Schedule a paused job again."""
        return await self._send(_base.job_action(job_id, "resume"))

    async def reset(self, job_id: str) -> Job:
        """Bring a dead-lettered or failed job back to ``active`` (``ConflictError`` otherwise)."""
        return await self._send(_base.job_action(job_id, "reset"))

    async def run_now(
        self,
        job_id: str,
        input: str | None = None,  # noqa: A002 - the spec's name
        *,
        wait: bool = False,
        wait_timeout: float = 60,
    ) -> Run:
        """Start a run now, outside the schedule.

        Args:
            job_id: the job's id or name.
            input: the text the agent receives.
            wait: answer when the run has finished instead of when it is queued.
            wait_timeout: with *wait*, seconds the daemon waits before it answers 504
                (a ``ServerError``); the run goes on regardless.

        Returns:
            The run: ``queued`` without *wait*, finished with it.
        """
        return await self._send(
            _base.run_job(job_id, input, wait=wait, wait_timeout_s=wait_timeout)
        )

    async def get_history(
        self,
        job_id: str,
        status: str | None = None,
        limit: int | None = None,
        *,
        offset: int | None = None,
    ) -> builtins.list[Run]:
        """A job's runs, newest first, optionally only those in *status* (``failed``...)."""
        return await self._send(_base.history(job_id, status=status, limit=limit, offset=offset))

    async def next_run(self, job_id: str, count: int = 1) -> NextRun:
        """The job's next *count* fire times (none when paused, finished or dead-lettered)."""
        return await self._send(_base.next_run(job_id, count))

    async def health(self) -> Health:
        """The scheduler's health: status, job counts, in-flight runs and run counters."""
        return await self._send(_base.scheduler_health())


class Runs:
    """``client.runs``: one run by id; approve or reject a run waiting for approval."""

    def __init__(self, send: AsyncSend) -> None:
        self._send = send

    async def get(self, run_id: str) -> Run:
        """One run with its output, deliveries and policy decision."""
        return await self._send(_base.get_run(run_id))

    async def approve(self, run_id: str) -> Run:
        """Approve a ``pending_approval`` run; it is queued (``ForbiddenError`` if not yours)."""
        return await self._send(_base.approve_run(run_id))

    async def reject(self, run_id: str, reason: str | None = None) -> Run:
        """Reject a ``pending_approval`` run; it ends ``cancelled`` with *reason*."""
        return await self._send(_base.reject_run(run_id, reason))


class Approvals:
    """``client.approvals``: the runs waiting for a person."""

    def __init__(self, send: AsyncSend) -> None:
        self._send = send

    async def list(self, limit: int | None = None) -> builtins.list[Run]:
        """Runs in ``pending_approval``, newest first."""
        return await self._send(_base.list_approvals(limit))


class Audit:
    """``client.audit``: the append-only audit log."""

    def __init__(self, send: AsyncSend) -> None:
        self._send = send

    async def query(
        self,
        type: str | None = None,  # noqa: A002 - the API's filter name
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        job_id: str | None = None,
        limit: int | None = None,
        *,
        after_id: int | None = None,
    ) -> builtins.list[AuditEvent]:
        """Audit events, oldest first.

        Args:
            type: only this event type (``CronJobCreated``, ``CronJobDenied``...).
            since: only events at or after this aware time (or RFC 3339 string).
            until: only events before this time.
            job_id: only events about this job.
            limit: at most this many events (default 100).
            after_id: only events after this id, to page through the log.
        """
        return await self._send(
            _base.query_audit(
                type=type, since=since, until=until, job_id=job_id, limit=limit, after_id=after_id
            )
        )

    async def verify(self) -> AuditVerification:
        """Recompute the hash chain; name the first edited or missing event."""
        return await self._send(_base.verify_audit())


class AsyncSymbiontClient:
    """An async client of a symbiont daemon (``symbi up``); the twin of `SymbiontClient`.

    Args:
        base_url: the daemon's root URL; default ``SYMBI_URL``, else ``http://127.0.0.1:8080``.
        api_key: the bearer key; default ``SYMBI_API_KEY``, else no key (loopback daemons).
        timeout: seconds per attempt.
        retries: extra attempts after connection failures (any call that never reached
            the daemon) and after 502/503/504 or a broken connection (GET, PUT, DELETE
            only: a ``create`` or ``run_now`` is never sent twice).
        backoff: seconds before the first retry, doubling each time (at most 10 s).
        transport: an httpx transport instead of the network, for tests
            (``httpx.MockTransport``, ``httpx.ASGITransport(app)``).

    Example::

        async with AsyncSymbiontClient("http://localhost:8080", api_key="...") as client:
            job = await client.schedule.create(name="hourly", agent_id="a", cron_expr="@hourly")
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 30,
        retries: int = 3,
        backoff: float = 0.25,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._config = ClientConfig.resolve(
            base_url, api_key, os.environ, timeout_s=timeout, retries=retries, backoff_s=backoff
        )
        self._http = httpx.AsyncClient(
            base_url=self._config.base_url,
            headers=self._config.headers,
            timeout=timeout,
            transport=transport,
        )
        self.schedule = Schedule(self._send)
        """Jobs: create, list, get, update, delete, pause, resume, run_now, history..."""
        self.runs = Runs(self._send)
        """Runs: get, approve, reject."""
        self.approvals = Approvals(self._send)
        """Runs waiting for approval."""
        self.audit = Audit(self._send)
        """The audit log: query, verify."""

    @property
    def base_url(self) -> str:
        """The daemon's root URL."""
        return self._config.base_url

    def __repr__(self) -> str:
        return f"AsyncSymbiontClient(base_url={self.base_url!r})"

    async def aclose(self) -> None:
        """Close the connections; the client cannot be used afterwards."""
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _send(self, call: Call[_T]) -> _T:
        request = _base.build_request(self._http, call, self._config)
        attempt = 1
        while True:
            try:
                response = await self._http.send(request)
            except httpx.RequestError as exc:
                delay = self._config.delay_after_error(call, exc, attempt)
                if delay is None:
                    raise _base.connection_error(call, request, exc, attempt) from exc
            else:
                delay = self._config.delay_after_response(call, response, attempt)
                if delay is None:
                    return _base.handle(call, response)
            await anyio.sleep(delay)
            attempt += 1
