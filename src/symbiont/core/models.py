"""Domain records shared by the DSL, the store, the scheduler and the API (DESIGN §5)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, NamedTuple

from symbiont.core.enums import (
    DeliverOn,
    JobStatus,
    MisfirePolicy,
    RunStatus,
    RunTrigger,
    SecurityEventType,
    SessionMode,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class AllowedHours:
    """A daily window in which a job may run; it wraps midnight when ``end <= start``."""

    start: time
    """First local time of the window (inclusive)."""
    end: time
    """Local time the window closes (exclusive)."""
    timezone: str = "UTC"
    """IANA zone the window is read in (the spec's default is UTC)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    """Conditions the policy gate checks before a run starts (spec "Policy Enforcement")."""

    require_approval: bool = False
    """A person must approve each run before it starts."""
    approvers: tuple[str, ...] = ()
    """Who may approve; empty means any authenticated actor."""
    max_runtime: timedelta | None = None
    """The run is cancelled and recorded ``timed_out`` after this long."""
    require_capabilities: tuple[str, ...] = ()
    """Capabilities the agent must declare."""
    allowed_hours: AllowedHours | None = None
    """Daily window outside which runs are denied."""
    allowed_environments: tuple[str, ...] = ()
    """Daemon environments (``SYMBI_ENV``) in which runs may start; empty means any."""
    require_agent_pin: bool = False
    """The job's ``agent_pin_jwt`` must verify (ES256) before each run."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Heartbeat:
    """The assess -> act -> sleep loop inside one run (spec "Heartbeat Pattern")."""

    enabled: bool = False
    """Call the agent repeatedly within a run until it answers ``sleep``."""
    context_mode: SessionMode = SessionMode.ephemeral_with_summary
    """What each iteration sees of the previous ones."""
    max_iterations: int = 10
    """Safety limit on iterations per run; reaching it is recorded on the run."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Job:
    """A scheduled job: what runs, when, and where results go (spec ``CronJobDefinition``).

    Definition fields come from the DSL or the API; state fields (``status``, ``next_run``,
    counters) are owned by the store and the scheduler.
    """

    id: str
    """Stable UUID."""
    name: str
    """Unique, file-name safe name; jobs are addressed by id or name."""
    agent_id: str
    """The agent the job runs."""
    cron_expr: str | None = None
    """Cron expression (5, 6 or 7 fields); exactly one of ``cron_expr`` and ``at`` is set."""
    at: datetime | None = None
    """One-shot fire time (aware UTC)."""
    timezone: str = "UTC"
    """IANA zone the cron expression is read in."""
    status: JobStatus = JobStatus.active
    """Lifecycle state."""
    status_reason: str | None = None
    """Why the job is ``failed`` or ``dead_letter``."""
    session_mode: SessionMode = SessionMode.ephemeral_with_summary
    """What one run carries to the next."""
    delivery: tuple[str, ...] = ()
    """Channel names: ``stdout log_file webhook slack email`` or ``custom:NAME``."""
    webhook_url: str | None = None
    """Target of the ``webhook`` channel."""
    webhook_headers: Mapping[str, str] = field(default_factory=dict)
    """Extra webhook headers; values may hold ``${ENV}`` templates, resolved at send time."""
    webhook_secret: str | None = None
    """HMAC-SHA256 signing secret for webhook deliveries (usually a template)."""
    slack_channel: str | None = None
    """Channel of the ``slack`` delivery."""
    email_recipients: tuple[str, ...] = ()
    """Recipients of the ``email`` delivery."""
    deliver_on: DeliverOn = DeliverOn.always
    """Which run outcomes are delivered."""
    policy: Policy = field(default_factory=Policy)
    """Conditions checked before each run."""
    heartbeat: Heartbeat = field(default_factory=Heartbeat)
    """Heartbeat loop settings."""
    max_retries: int | None = None
    """Consecutive failures before dead-letter; ``None`` uses the daemon's default."""
    retry_delay: timedelta | None = None
    """Retry a failed occurrence after this delay, before the next scheduled one."""
    max_concurrent: int = 1
    """Running runs allowed at once across the cluster; more are skipped."""
    jitter_seconds: int = 0
    """Random start delay of up to this many seconds."""
    misfire_policy: MisfirePolicy = MisfirePolicy.run_once
    """What to do with occurrences missed while down or paused."""
    agent_pin_jwt: str | None = None
    """AgentPin credential (usually a ``${ENV}`` template)."""
    input: str | None = None
    """Default input given to each scheduled run."""
    description: str | None = None
    """Free text for people."""
    next_run: datetime | None = None
    """Next occurrence the scheduler will claim (aware UTC), ``None`` when there is none."""
    last_run: datetime | None = None
    """When the last run finished."""
    run_count: int = 0
    """Finished runs."""
    failure_count: int = 0
    """Consecutive failed runs; a success resets it."""
    source: str = "api"
    """``api`` or ``dsl:<file>``."""
    created_at: datetime
    """Creation time (aware UTC)."""
    updated_at: datetime
    """Last definition or state change (aware UTC)."""


class JobSchedule(NamedTuple):
    """The part of a job the scheduler needs to claim it, read from the store in bulk.

    The full definition (`Job`) is loaded only for runs that start. A named tuple rather
    than a frozen dataclass because claims decode thousands per second: it builds in a
    quarter of the time and is just as immutable.
    """

    id: str
    name: str
    cron_expr: str | None
    at: datetime | None
    timezone: str
    next_run: datetime | None
    misfire_policy: MisfirePolicy
    input: str | None
    updated_at: datetime
    """Changes whenever the definition changes: a cache key for the full `Job`."""
    max_concurrent: int = 1
    jitter_seconds: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryResult:
    """What happened when one channel delivered one run's output."""

    channel: str
    """Channel name."""
    status: str
    """``delivered``, ``failed`` or ``skipped``."""
    error: str | None = None
    """Why it failed, when it did."""
    attempts: int = 1
    """Attempts made."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Run:
    """One run of a job: one attempt at one occurrence (spec ``JobRunRecord``)."""

    id: str
    """Stable UUID."""
    job_id: str
    """The job."""
    job_name: str
    """The job's name when the run was created."""
    trigger: RunTrigger
    """Why the run exists."""
    scheduled_for: datetime
    """The occurrence (aware UTC); for manual runs, when it was asked for."""
    status: RunStatus
    """Lifecycle state."""
    attempt: int = 1
    """1 for the first attempt at an occurrence, then 2, 3..."""
    input: str | None = None
    """Input given to the agent."""
    output: str | None = None
    """The agent's output (capped)."""
    summary: str | None = None
    """Summary carried to the next run in ``ephemeral_with_summary`` mode."""
    error_message: str | None = None
    """Why the run failed, was denied, skipped or interrupted."""
    iterations: int = 0
    """Heartbeat iterations performed."""
    started_at: datetime | None = None
    """When the agent started."""
    finished_at: datetime | None = None
    """When the run reached a final status."""
    execution_time_ms: int | None = None
    """Agent wall time in milliseconds."""
    deliveries: tuple[DeliveryResult, ...] = ()
    """One result per delivery channel."""
    node_id: str | None = None
    """The scheduler node that ran it."""
    lease_expires_at: datetime | None = None
    """While running: when the node's lease lapses unless renewed."""
    details: Mapping[str, Any] = field(default_factory=dict)
    """Extra facts (policy decision, approvals, output cap) shown by the API."""
    created_at: datetime
    """When the run row was created."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEvent:
    """One append-only entry of the audit log, chained by SHA-256 to the previous one."""

    id: int
    """Position in the log (1, 2, 3...)."""
    ts: datetime
    """When it happened (aware UTC)."""
    type: SecurityEventType
    """What happened."""
    job_id: str | None = None
    """The job concerned."""
    run_id: str | None = None
    """The run concerned."""
    actor: str
    """Who did it: an API key name, a CLI user, ``scheduler@<node>``."""
    details: Mapping[str, Any] = field(default_factory=dict)
    """Event data (never a resolved secret)."""
    prev_hash: str
    """Hash of the previous event (64 zeros for the first)."""
    hash: str
    """SHA-256 over this event's content and ``prev_hash``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Allow:
    """The policy lets the run start."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Deny:
    """The policy refuses the run."""

    reason: str
    """Why, for the run record and the audit log."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RequireApproval:
    """The run waits in ``pending_approval`` until one of *approvers* answers."""

    approvers: tuple[str, ...] = ()
    """Who may approve; empty means any authenticated actor."""
    reason: str = "the job's policy requires approval"
    """Why approval is needed."""
    policy_id: str = "require_approval"
    """The policy condition that asked for it."""


SchedulePolicyDecision = Allow | Deny | RequireApproval
CronJobDefinition = Job
JobRunRecord = Run
