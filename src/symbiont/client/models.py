"""What the SDK returns: frozen records built from the daemon's JSON, with attribute access.

Times are aware UTC ``datetime`` objects, lists become tuples, and members the SDK does not
know yet are ignored (they stay readable in ``raw``), so a newer daemon never breaks an
older client.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

_T = TypeVar("_T", bound="DataclassInstance")
_TIMES = frozenset(
    {
        "at",
        "next_run",
        "last_run",
        "created_at",
        "updated_at",
        "scheduled_for",
        "started_at",
        "finished_at",
        "last_tick",
        "ts",
    }
)


def parse_time(value: Any) -> datetime | None:
    """Read an RFC 3339 time (``Z`` or an offset) as an aware datetime; ``None`` stays ``None``.

    Raises:
        TypeError: *value* is not a string.
        ValueError: *value* is not an RFC 3339 time.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"expected an RFC 3339 time string, got {value!r}")
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _value(name: str, value: Any) -> Any:
    if name in _TIMES:
        return parse_time(value)
    if isinstance(value, list):
        return tuple(value)
    return value


def _object(cls: type[Any], data: object) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise TypeError(f"expected a JSON object for {cls.__name__}, got {type(data).__name__}")
    return data


def _build(cls: type[_T], data: object, **converted: Any) -> _T:
    """Build *cls* from the known members of JSON object *data*; *converted* overrides some."""
    members = _object(cls, data)
    known = {f.name for f in dataclasses.fields(cls)} - {"raw"}
    values = {name: _value(name, members[name]) for name in known if name in members}
    values.update(converted)
    values["raw"] = dict(members)
    return cls(**values)


@dataclass(frozen=True, slots=True, kw_only=True)
class Job:
    """A scheduled job as the daemon shows it (secrets redacted)."""

    id: str
    """Stable UUID; every method also accepts the job's name."""
    name: str
    agent_id: str
    cron_expr: str | None = None
    """The cron expression, or ``None`` for a one-shot job (``at``)."""
    at: datetime | None = None
    """The one-shot time, or ``None`` for a cron job."""
    timezone: str = "UTC"
    schedule_description: str | None = None
    """The schedule in words (``At 02:00:00, every day``)."""
    status: str = "active"
    """``active``, ``paused``, ``completed``, ``failed`` or ``dead_letter``."""
    status_reason: str | None = None
    session_mode: str = "ephemeral_with_summary"
    delivery: tuple[str, ...] = ()
    webhook_url: str | None = None
    webhook_headers: Mapping[str, str] = field(default_factory=dict)
    """Header names with redacted values."""
    webhook_secret: str | None = None
    slack_channel: str | None = None
    email_recipients: tuple[str, ...] = ()
    deliver_on: str = "always"
    policy: Mapping[str, Any] = field(default_factory=dict)
    heartbeat: Mapping[str, Any] = field(default_factory=dict)
    max_retries: int | None = None
    retry_delay_seconds: float | None = None
    max_concurrent: int = 1
    jitter_seconds: int = 0
    misfire_policy: str = "run_once"
    agent_pin_jwt: str | None = None
    input: str | None = None
    description: str | None = None
    next_run: datetime | None = None
    """When the job fires next; ``None`` when paused, finished or dead-lettered."""
    last_run: datetime | None = None
    run_count: int = 0
    failure_count: int = 0
    """Consecutive failed runs; reaching ``max_retries`` dead-letters the job."""
    source: str = "api"
    """``api`` or ``dsl:<file>``."""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    """The JSON object as received, unknown members included."""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Job:
        """Build a job from the daemon's JSON object."""
        return _build(cls, data)


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """One channel's delivery of a run's output."""

    channel: str
    status: str
    error: str | None = None
    attempts: int = 1
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Delivery:
        """Build a delivery record from the daemon's JSON object."""
        return _build(cls, data)


@dataclass(frozen=True, slots=True, kw_only=True)
class Run:
    """One run of a job: its trigger, status, output and deliveries."""

    id: str
    job_id: str
    job_name: str = ""
    trigger: str = "manual"
    """``schedule``, ``manual``, ``catchup``, ``retry`` or ``recovery``."""
    scheduled_for: datetime | None = None
    status: str = "queued"
    """``queued``, ``pending_approval``, ``running``, ``succeeded``, ``failed``, ``timed_out``,
    ``denied``, ``skipped``, ``interrupted`` or ``cancelled``."""
    attempt: int = 1
    input: str | None = None
    output: str | None = None
    summary: str | None = None
    error_message: str | None = None
    iterations: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    execution_time_ms: int | None = None
    deliveries: tuple[Delivery, ...] = ()
    node_id: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    """Policy decision, skip reason and other facts about the run."""
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Run:
        """Build a run from the daemon's JSON object."""
        deliveries = _object(cls, data).get("deliveries") or ()
        return _build(cls, data, deliveries=tuple(Delivery.from_json(d) for d in deliveries))


@dataclass(frozen=True, slots=True, kw_only=True)
class NextRun:
    """A job's upcoming fire times."""

    job_id: str
    next_run: datetime | None = None
    """The first upcoming time, or ``None`` when the job will not fire."""
    next_runs: tuple[datetime, ...] = ()
    """As many upcoming times as were asked for (fewer when the schedule ends)."""
    description: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> NextRun:
        """Build the upcoming times from the daemon's JSON object."""
        times = _object(cls, data).get("next_runs") or ()
        return _build(cls, data, next_runs=tuple(t for t in map(parse_time, times) if t))


@dataclass(frozen=True, slots=True, kw_only=True)
class HealthMetrics:
    """Run counters of the answering scheduler node since it started."""

    runs_total: int = 0
    runs_succeeded: int = 0
    runs_failed: int = 0
    avg_execution_time_ms: int = 0
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> HealthMetrics:
        """Build the counters from the daemon's JSON object."""
        return _build(cls, data)


@dataclass(frozen=True, slots=True, kw_only=True)
class Health:
    """The scheduler's health: job counts from the store, run counters of one node."""

    status: str
    """``healthy``, ``degraded`` (the store failed recently) or ``stopping``."""
    active_jobs: int = 0
    paused_jobs: int = 0
    in_flight_jobs: int = 0
    metrics: HealthMetrics = field(default_factory=HealthMetrics)
    node_id: str | None = None
    dead_letter_jobs: int = 0
    last_tick: datetime | None = None
    store_errors: int = 0
    last_store_error: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Health:
        """Build the health report from the daemon's JSON object."""
        metrics = _object(cls, data).get("metrics") or {}
        return _build(cls, data, metrics=HealthMetrics.from_json(metrics))


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEvent:
    """One entry of the append-only, hash-chained audit log."""

    id: int
    ts: datetime
    type: str
    """The spec's ``SecurityEventType`` name (``CronJobCreated``, ``CronJobDenied``...)."""
    job_id: str | None = None
    run_id: str | None = None
    actor: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)
    prev_hash: str = ""
    hash: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AuditEvent:
        """Build an audit event from the daemon's JSON object."""
        return _build(cls, data)


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditVerification:
    """The result of recomputing the audit log's hash chain."""

    ok: bool
    events: int = 0
    """How many events were checked."""
    first_bad_id: int | None = None
    """The first edited or missing event, when the chain is broken."""
    problem: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AuditVerification:
        """Build the verification result from the daemon's JSON object."""
        return _build(cls, data)


class JobFields(TypedDict, total=False):
    """The fields ``schedule.create`` and ``schedule.update`` accept (the spec's names).

    ``create`` needs ``name``, ``agent_id`` and one of ``cron_expr`` / ``at``; ``update``
    takes any subset. Times may be aware datetimes or RFC 3339 strings.
    """

    name: str
    agent_id: str
    cron_expr: str | None
    at: datetime | str | None
    timezone: str | None
    session_mode: str | None
    delivery: Sequence[str] | None
    webhook_url: str | None
    webhook_headers: Mapping[str, str] | None
    webhook_secret: str | None
    slack_channel: str | None
    email_recipients: Sequence[str] | None
    deliver_on: str | None
    policy: Mapping[str, Any] | None
    heartbeat: Mapping[str, Any] | None
    max_retries: int | None
    retry_delay: str | float | None
    max_concurrent: int | None
    jitter_seconds: int | None
    misfire_policy: str | None
    agent_pin_jwt: str | None
    input: str | None
    description: str | None
