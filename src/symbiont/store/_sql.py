"""Schema, migrations and row codecs shared by the SQL backends.

Times are stored as integer microseconds since the Unix epoch (UTC) in both backends, so
comparisons are index range scans and the same SQL text serves SQLite and PostgreSQL.
Nested values (policy, heartbeat, lists, maps) are JSON text. SQL is written with ``%s``
placeholders; the SQLite backend rewrites them to ``?``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import operator
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from symbiont.core.codec import (
    heartbeat_from_dict,
    heartbeat_to_dict,
    policy_from_dict,
    policy_to_dict,
)
from symbiont.core.enums import (
    DeliverOn,
    JobStatus,
    MisfirePolicy,
    RunStatus,
    RunTrigger,
    SecurityEventType,
    SessionMode,
)
from symbiont.core.models import (
    AuditEvent,
    DeliveryResult,
    Heartbeat,
    Job,
    JobSchedule,
    Policy,
    Run,
)

SCHEMA_VERSION = 2
GENESIS_HASH = "0" * 64
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)

MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """CREATE TABLE jobs (
            id TEXT PRIMARY KEY,
            name TEXT{name_collation} NOT NULL UNIQUE,
            agent_id TEXT NOT NULL,
            cron_expr TEXT,
            at BIGINT,
            timezone TEXT NOT NULL,
            status TEXT NOT NULL,
            status_reason TEXT,
            session_mode TEXT NOT NULL,
            delivery TEXT NOT NULL,
            webhook_url TEXT,
            webhook_headers TEXT NOT NULL,
            webhook_secret TEXT,
            slack_channel TEXT,
            email_recipients TEXT NOT NULL,
            deliver_on TEXT NOT NULL,
            policy TEXT NOT NULL,
            heartbeat TEXT NOT NULL,
            max_retries INTEGER,
            retry_delay_ms BIGINT,
            max_concurrent INTEGER NOT NULL,
            jitter_seconds INTEGER NOT NULL,
            misfire_policy TEXT NOT NULL,
            agent_pin_jwt TEXT,
            input TEXT,
            description TEXT,
            next_run BIGINT,
            last_run BIGINT,
            run_count BIGINT NOT NULL DEFAULT 0,
            failure_count INTEGER NOT NULL DEFAULT 0,
            source TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL
        )""",
        "CREATE INDEX jobs_due ON jobs (status, next_run)",
        "CREATE INDEX jobs_agent ON jobs (agent_id, name)",
        "CREATE INDEX jobs_status ON jobs (status, name)",
        """CREATE TABLE runs (
            id TEXT PRIMARY KEY,
            job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
            job_name TEXT NOT NULL,
            trigger_kind TEXT NOT NULL,
            scheduled_for BIGINT NOT NULL,
            status TEXT NOT NULL,
            attempt INTEGER NOT NULL,
            input TEXT,
            output TEXT,
            summary TEXT,
            error_message TEXT,
            iterations INTEGER NOT NULL DEFAULT 0,
            started_at BIGINT,
            finished_at BIGINT,
            execution_time_ms BIGINT,
            deliveries TEXT NOT NULL DEFAULT '[]',
            node_id TEXT,
            lease_expires_at BIGINT,
            details TEXT NOT NULL DEFAULT '{}',
            created_at BIGINT NOT NULL
        )""",
        # One index serves both the no-double-claim rule and a job's history by time.
        "CREATE UNIQUE INDEX runs_occurrence ON runs (job_id, scheduled_for, attempt)",
        (
            "CREATE INDEX runs_open ON runs (status, lease_expires_at)"
            " WHERE status IN ('queued', 'running', 'pending_approval')"
        ),
        """CREATE TABLE sessions (
            job_id TEXT PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
            summary TEXT,
            messages TEXT NOT NULL DEFAULT '[]',
            updated_at BIGINT NOT NULL
        )""",
        """CREATE TABLE audit (
            id BIGINT PRIMARY KEY,
            ts BIGINT NOT NULL,
            type TEXT NOT NULL,
            job_id TEXT,
            run_id TEXT,
            actor TEXT NOT NULL,
            details TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        )""",
        "CREATE INDEX audit_type_ts ON audit (type, ts)",
        "CREATE INDEX audit_ts ON audit (ts)",
        "CREATE INDEX audit_job_ts ON audit (job_id, ts)",
    ),
    2: (
        # The open-runs index again, its predicate spelled with OR. SQLite cannot prove that
        # `status = 'queued'` implies `status IN (...)`, so the version-1 index was never used
        # (each tick scanned the whole run history), and it evaluated the IN list on every
        # insert, which cost more than the rest of the insert.
        "DROP INDEX runs_open",
        (
            "CREATE INDEX runs_open ON runs (status, lease_expires_at)"
            " WHERE status = 'queued' OR status = 'running' OR status = 'pending_approval'"
        ),
    ),
}

JOB_COLUMNS = (
    "id",
    "name",
    "agent_id",
    "cron_expr",
    "at",
    "timezone",
    "status",
    "status_reason",
    "session_mode",
    "delivery",
    "webhook_url",
    "webhook_headers",
    "webhook_secret",
    "slack_channel",
    "email_recipients",
    "deliver_on",
    "policy",
    "heartbeat",
    "max_retries",
    "retry_delay_ms",
    "max_concurrent",
    "jitter_seconds",
    "misfire_policy",
    "agent_pin_jwt",
    "input",
    "description",
    "next_run",
    "last_run",
    "run_count",
    "failure_count",
    "source",
    "created_at",
    "updated_at",
)
RUN_COLUMNS = (
    "id",
    "job_id",
    "job_name",
    "trigger_kind",
    "scheduled_for",
    "status",
    "attempt",
    "input",
    "output",
    "summary",
    "error_message",
    "iterations",
    "started_at",
    "finished_at",
    "execution_time_ms",
    "deliveries",
    "node_id",
    "lease_expires_at",
    "details",
    "created_at",
)
AUDIT_COLUMNS = (
    "id",
    "ts",
    "type",
    "job_id",
    "run_id",
    "actor",
    "details",
    "prev_hash",
    "hash",
)

JOB_SELECT = ", ".join(JOB_COLUMNS)
SCHEDULE_SELECT = (
    "id, name, cron_expr, at, timezone, next_run, misfire_policy, input, updated_at,"
    " max_concurrent, jitter_seconds"
)
RUN_SELECT = ", ".join(RUN_COLUMNS)
AUDIT_SELECT = ", ".join(AUDIT_COLUMNS)
OPEN_RUN_STATUSES = ("queued", "running", "pending_approval")


def to_us(value: datetime | None) -> int | None:
    """Encode an aware datetime as integer microseconds since the epoch."""
    if value is None:
        return None
    return (value - _EPOCH) // _US


def from_us(value: int | None) -> datetime | None:
    """Decode integer microseconds since the epoch as an aware UTC datetime."""
    if value is None:
        return None
    return _EPOCH + timedelta(microseconds=value)


def _req_us(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def dumps(value: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, UTF-8 kept (hashes depend on it).

    One shared encoder: `json.dumps` with options builds a new one per call (~2 µs each,
    and a finished run writes three documents).
    """
    return _CANONICAL.encode(value)


def encode_job_value(name: str, value: Any) -> Any:  # noqa: PLR0911 - one branch per kind
    """Encode one Job attribute as its column value."""
    if name in {"at", "next_run", "last_run", "created_at", "updated_at"}:
        return to_us(value)
    if name in {"delivery", "email_recipients"}:
        return dumps(list(value))
    if name == "webhook_headers":
        return dumps(dict(value))
    if name == "policy":
        return dumps(policy_to_dict(value))
    if name == "heartbeat":
        return dumps(heartbeat_to_dict(value))
    if name == "retry_delay":
        return None if value is None else int(value.total_seconds() * 1000)
    if hasattr(value, "value"):  # enums
        return value.value
    return value


def job_column(name: str) -> str:
    """Return the column that stores Job attribute *name*."""
    return "retry_delay_ms" if name == "retry_delay" else name


def job_to_row(job: Job) -> tuple[Any, ...]:
    """Encode a job in `JOB_COLUMNS` order."""
    return (
        job.id,
        job.name,
        job.agent_id,
        job.cron_expr,
        to_us(job.at),
        job.timezone,
        job.status.value,
        job.status_reason,
        job.session_mode.value,
        _json_list(job.delivery),
        job.webhook_url,
        dumps(dict(job.webhook_headers)) if job.webhook_headers else "{}",
        job.webhook_secret,
        job.slack_channel,
        _json_list(job.email_recipients),
        job.deliver_on.value,
        _policy_json(job.policy),
        _heartbeat_json(job.heartbeat),
        job.max_retries,
        None if job.retry_delay is None else int(job.retry_delay.total_seconds() * 1000),
        job.max_concurrent,
        job.jitter_seconds,
        job.misfire_policy.value,
        job.agent_pin_jwt,
        job.input,
        job.description,
        to_us(job.next_run),
        to_us(job.last_run),
        job.run_count,
        job.failure_count,
        job.source,
        to_us(job.created_at),
        to_us(job.updated_at),
    )


def _json_list(values: Sequence[str]) -> str:
    return dumps(list(values)) if values else "[]"


@lru_cache(maxsize=1024)
def _policy_json(policy: Policy) -> str:
    return dumps(policy_to_dict(policy))


@lru_cache(maxsize=64)
def _heartbeat_json(heartbeat: Heartbeat) -> str:
    return dumps(heartbeat_to_dict(heartbeat))


@lru_cache(maxsize=1024)
def _policy_of(text: str) -> Policy:
    return policy_from_dict(json.loads(text))


@lru_cache(maxsize=64)
def _heartbeat_of(text: str) -> Heartbeat:
    return heartbeat_from_dict(json.loads(text))


@lru_cache(maxsize=256)
def _tuple_of(text: str) -> tuple[str, ...]:
    return tuple(json.loads(text))


_JOB_STATUS = {m.value: m for m in JobStatus}
_MISFIRE = {m.value: m for m in MisfirePolicy}
_SESSION = {m.value: m for m in SessionMode}
_DELIVER_ON = {m.value: m for m in DeliverOn}


def row_to_job(row: Sequence[Any]) -> Job:
    """Decode a row selected with `JOB_SELECT` (positional; repeated JSON values cached)."""
    (
        job_id,
        name,
        agent_id,
        cron_expr,
        at,
        timezone,
        status,
        status_reason,
        session_mode,
        delivery,
        webhook_url,
        webhook_headers,
        webhook_secret,
        slack_channel,
        email_recipients,
        deliver_on,
        policy,
        heartbeat,
        max_retries,
        retry_delay_ms,
        max_concurrent,
        jitter_seconds,
        misfire_policy,
        agent_pin_jwt,
        input_,
        description,
        next_run,
        last_run,
        run_count,
        failure_count,
        source,
        created_at,
        updated_at,
    ) = row
    return Job(
        id=job_id,
        name=name,
        agent_id=agent_id,
        cron_expr=cron_expr,
        at=from_us(at),
        timezone=timezone,
        status=_JOB_STATUS[status],
        status_reason=status_reason,
        session_mode=_SESSION[session_mode],
        delivery=_tuple_of(delivery),
        webhook_url=webhook_url,
        webhook_headers={} if webhook_headers == "{}" else json.loads(webhook_headers),
        webhook_secret=webhook_secret,
        slack_channel=slack_channel,
        email_recipients=_tuple_of(email_recipients),
        deliver_on=_DELIVER_ON[deliver_on],
        policy=_policy_of(policy),
        heartbeat=_heartbeat_of(heartbeat),
        max_retries=max_retries,
        retry_delay=None if retry_delay_ms is None else timedelta(milliseconds=retry_delay_ms),
        max_concurrent=max_concurrent,
        jitter_seconds=jitter_seconds,
        misfire_policy=_MISFIRE[misfire_policy],
        agent_pin_jwt=agent_pin_jwt,
        input=input_,
        description=description,
        next_run=from_us(next_run),
        last_run=from_us(last_run),
        run_count=run_count,
        failure_count=failure_count,
        source=source,
        created_at=_req_us(created_at),
        updated_at=_req_us(updated_at),
    )


def rows_to_schedules(rows: Sequence[Sequence[Any]]) -> list[JobSchedule]:
    """Decode rows selected with `SCHEDULE_SELECT` (hot path: positional, no JSON).

    Due jobs mostly share their ``next_run`` and ``updated_at``, so times are decoded once
    per distinct value.
    """
    times: dict[int, datetime] = {}

    def when(value: int) -> datetime:
        found = times.get(value)
        if found is None:
            found = times[value] = _EPOCH + timedelta(microseconds=value)
        return found

    make = JobSchedule
    return [
        make(
            job_id,
            name,
            cron_expr,
            None if at is None else when(at),
            timezone,
            None if next_run is None else when(next_run),
            _MISFIRE[misfire],
            input_,
            when(updated),
            max_concurrent,
            jitter,
        )
        for (
            job_id,
            name,
            cron_expr,
            at,
            timezone,
            next_run,
            misfire,
            input_,
            updated,
            max_concurrent,
            jitter,
        ) in rows
    ]


def deliveries_to_json(deliveries: Sequence[DeliveryResult]) -> str:
    """Encode delivery results."""
    return dumps(
        [
            {"channel": d.channel, "status": d.status, "error": d.error, "attempts": d.attempts}
            for d in deliveries
        ]
    )


def run_to_row(run: Run) -> tuple[Any, ...]:
    """Encode a run in `RUN_COLUMNS` order."""
    return (
        run.id,
        run.job_id,
        run.job_name,
        run.trigger.value,
        to_us(run.scheduled_for),
        run.status.value,
        run.attempt,
        run.input,
        run.output,
        run.summary,
        run.error_message,
        run.iterations,
        to_us(run.started_at),
        to_us(run.finished_at),
        run.execution_time_ms,
        deliveries_to_json(run.deliveries) if run.deliveries else "[]",
        run.node_id,
        to_us(run.lease_expires_at),
        dumps(dict(run.details)) if run.details else "{}",
        to_us(run.created_at),
    )


_RUN_SETTERS = tuple(getattr(Run, f.name).__set__ for f in dataclasses.fields(Run))
CLAIM_COLUMNS = (
    "id",
    "job_id",
    "job_name",
    "trigger_kind",
    "scheduled_for",
    "status",
    "attempt",
    "input",
    "error_message",
    "started_at",
    "finished_at",
    "node_id",
    "lease_expires_at",
    "created_at",
)
"""The columns a claim fills; the others keep their defaults (no output yet, no details)."""


def build_run(values: Sequence[Any]) -> Run:
    """Make a `Run` from all its field values, in declaration order (= `RUN_COLUMNS` order).

    Hot path: a claim builds thousands of runs in its transaction, and a frozen dataclass's
    keyword ``__init__`` costs about three times as much as setting its slots directly. The
    values are trusted (they come from the planner or from the database).
    """
    run = object.__new__(Run)
    for setter, value in zip(_RUN_SETTERS, values, strict=True):
        setter(run, value)
    return run


_RUN_FIELDS = tuple(f.name for f in dataclasses.fields(Run))
_RUN_VALUES = operator.attrgetter(*_RUN_FIELDS)
_RUN_POSITION = {name: i for i, name in enumerate(_RUN_FIELDS)}


def replace_run(run: Run, **changes: Any) -> Run:
    """`dataclasses.replace` for a `Run`, at a fraction of its cost (a burst starts thousands)."""
    values = list(_RUN_VALUES(run))
    for name, value in changes.items():
        values[_RUN_POSITION[name]] = value
    return build_run(values)


def row_to_run(row: Sequence[Any]) -> Run:
    """Decode a row selected with `RUN_SELECT`."""
    (
        run_id,
        job_id,
        job_name,
        trigger,
        scheduled_for,
        status,
        attempt,
        input_,
        output,
        summary,
        error_message,
        iterations,
        started_at,
        finished_at,
        execution_time_ms,
        deliveries,
        node_id,
        lease_expires_at,
        details,
        created_at,
    ) = row
    return build_run(
        (
            run_id,
            job_id,
            job_name,
            RunTrigger(trigger),
            _req_us(scheduled_for),
            RunStatus(status),
            attempt,
            input_,
            output,
            summary,
            error_message,
            iterations,
            from_us(started_at),
            from_us(finished_at),
            execution_time_ms,
            _deliveries(deliveries),
            node_id,
            from_us(lease_expires_at),
            json.loads(details) if details != "{}" else {},
            _req_us(created_at),
        )
    )


def _deliveries(text: str) -> tuple[DeliveryResult, ...]:
    return () if text == "[]" else tuple(DeliveryResult(**d) for d in json.loads(text))


def row_to_audit(row: Sequence[Any]) -> AuditEvent:
    """Decode a row selected with `AUDIT_SELECT`."""
    r = dict(zip(AUDIT_COLUMNS, row, strict=True))
    return AuditEvent(
        id=r["id"],
        ts=_req_us(r["ts"]),
        type=SecurityEventType(r["type"]),
        job_id=r["job_id"],
        run_id=r["run_id"],
        actor=r["actor"],
        details=json.loads(r["details"]),
        prev_hash=r["prev_hash"],
        hash=r["hash"],
    )


def audit_hash(row: Sequence[Any]) -> str:
    """SHA-256 of an audit row's content (all columns but ``hash``) and its ``prev_hash``."""
    event_id, ts, type_, job_id, run_id, actor, details, prev_hash = row[:8]
    payload = dumps([event_id, ts, type_, job_id, run_id, actor, details, prev_hash])
    return hashlib.sha256(payload.encode()).hexdigest()
