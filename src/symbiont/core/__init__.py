"""The shared kernel: models, enums, errors, events and the clock, with no I/O.

The spec's names are available beside ours: `CronJobDefinition` is `Job`, `JobRunRecord` is
`Run`, `SessionIsolationMode` and `HeartbeatContextMode` are `SessionMode`, `DeliveryChannel`
is `DeliveryKind`, and `SchedulePolicyDecision` is ``Allow | Deny | RequireApproval``.
"""

from __future__ import annotations

from symbiont.core.enums import (
    DeliverOn,
    DeliveryKind,
    HeartbeatContextMode,
    JobStatus,
    MisfirePolicy,
    RunStatus,
    RunTrigger,
    SecurityEventType,
    SessionIsolationMode,
    SessionMode,
)
from symbiont.core.errors import (
    AgentRunError,
    ConfigError,
    ConflictError,
    CronError,
    DslError,
    DuplicateJobName,
    InvalidTransition,
    JobNotFound,
    NotAllowed,
    RunNotFound,
    SchemaVersionError,
    StoreError,
    StoreUnavailable,
    SymbiontError,
    ValidationError,
)
from symbiont.core.models import (
    Allow,
    AllowedHours,
    AuditEvent,
    CronJobDefinition,
    DeliveryResult,
    Deny,
    Heartbeat,
    Job,
    JobRunRecord,
    JobSchedule,
    Policy,
    RequireApproval,
    Run,
    SchedulePolicyDecision,
)

DeliveryChannel = DeliveryKind
"""The spec's name for the delivery channel enumeration."""

__all__ = (
    "AgentRunError",
    "Allow",
    "AllowedHours",
    "AuditEvent",
    "ConfigError",
    "ConflictError",
    "CronError",
    "CronJobDefinition",
    "DeliverOn",
    "DeliveryChannel",
    "DeliveryKind",
    "DeliveryResult",
    "Deny",
    "DslError",
    "DuplicateJobName",
    "Heartbeat",
    "HeartbeatContextMode",
    "InvalidTransition",
    "Job",
    "JobNotFound",
    "JobRunRecord",
    "JobSchedule",
    "JobStatus",
    "MisfirePolicy",
    "NotAllowed",
    "Policy",
    "RequireApproval",
    "Run",
    "RunNotFound",
    "RunStatus",
    "RunTrigger",
    "SchedulePolicyDecision",
    "SchemaVersionError",
    "SecurityEventType",
    "SessionIsolationMode",
    "SessionMode",
    "StoreError",
    "StoreUnavailable",
    "SymbiontError",
    "ValidationError",
)
