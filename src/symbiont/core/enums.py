"""The enumerations of the data model (DESIGN §5).

Members are lowercase and equal to their values, so SQL, JSON and CLI output use the same
word. The spec's CamelCase names stay available as aliases (``SessionMode.EphemeralWithSummary``).
"""

from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    """Lifecycle of a job."""

    active = "active"
    paused = "paused"
    completed = "completed"
    failed = "failed"
    dead_letter = "dead_letter"

    Active = "active"
    Paused = "paused"
    Completed = "completed"
    Failed = "failed"
    DeadLetter = "dead_letter"


class SessionMode(StrEnum):
    """What an agent carries from one run (or heartbeat iteration) to the next."""

    ephemeral_with_summary = "ephemeral_with_summary"
    shared_persistent = "shared_persistent"
    fully_ephemeral = "fully_ephemeral"

    EphemeralWithSummary = "ephemeral_with_summary"
    SharedPersistent = "shared_persistent"
    FullyEphemeral = "fully_ephemeral"


HeartbeatContextMode = SessionMode
SessionIsolationMode = SessionMode


class MisfirePolicy(StrEnum):
    """What to do with occurrences missed while the daemon was down or the job paused."""

    run_once = "run_once"
    skip = "skip"
    run_all = "run_all"


class DeliveryKind(StrEnum):
    """The built-in delivery channels; ``custom:NAME`` names a user-defined one."""

    stdout = "stdout"
    log_file = "log_file"
    webhook = "webhook"
    slack = "slack"
    email = "email"
    custom = "custom"

    Stdout = "stdout"
    LogFile = "log_file"
    Webhook = "webhook"
    Slack = "slack"
    Email = "email"
    Custom = "custom"


class RunStatus(StrEnum):
    """Lifecycle of one run of a job."""

    queued = "queued"
    pending_approval = "pending_approval"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    timed_out = "timed_out"
    denied = "denied"
    skipped = "skipped"
    interrupted = "interrupted"
    cancelled = "cancelled"


class RunTrigger(StrEnum):
    """Why a run exists."""

    schedule = "schedule"
    manual = "manual"
    catchup = "catchup"
    retry = "retry"
    recovery = "recovery"


class SecurityEventType(StrEnum):
    """Types of audit events: the spec's names plus DESIGN §5's additions.

    The values are the spec's CamelCase names, as they appear in the audit log and API.
    """

    CronJobCreated = "CronJobCreated"
    CronJobUpdated = "CronJobUpdated"
    CronJobDeleted = "CronJobDeleted"
    CronJobPaused = "CronJobPaused"
    CronJobResumed = "CronJobResumed"
    CronJobExecuted = "CronJobExecuted"
    CronJobFailed = "CronJobFailed"
    CronJobDeadLettered = "CronJobDeadLettered"
    AgentPinVerificationFailed = "AgentPinVerificationFailed"
    CronJobDenied = "CronJobDenied"
    CronJobSkipped = "CronJobSkipped"
    CronJobTimedOut = "CronJobTimedOut"
    CronJobReset = "CronJobReset"
    CronJobApprovalRequested = "CronJobApprovalRequested"
    CronJobApproved = "CronJobApproved"
    CronJobRejected = "CronJobRejected"
    CronJobTriggered = "CronJobTriggered"
    CronJobExpired = "CronJobExpired"


class DeliverOn(StrEnum):
    """Which run outcomes a job's delivery channels receive."""

    always = "always"
    success = "success"
    failure = "failure"
