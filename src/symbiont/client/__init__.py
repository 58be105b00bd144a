"""The Python SDK: `SymbiontClient` and `AsyncSymbiontClient` over the daemon's HTTP API.

The client imports nothing of the server (FastAPI, the store, the scheduler): it needs only
httpx, so applications that merely talk to a daemon stay light.
"""

from __future__ import annotations

from symbiont.client.async_ import AsyncSymbiontClient
from symbiont.client.errors import (
    AuthError,
    ClientError,
    ConflictError,
    ConnectionError,  # noqa: A004 - the SDK's own error, also a builtin ConnectionError
    ForbiddenError,
    NotFoundError,
    ServerError,
    ValidationError,
)
from symbiont.client.models import (
    AuditEvent,
    AuditVerification,
    Delivery,
    Health,
    HealthMetrics,
    Job,
    JobFields,
    NextRun,
    Run,
)
from symbiont.client.sync import SymbiontClient

__all__ = (
    "AsyncSymbiontClient",
    "AuditEvent",
    "AuditVerification",
    "AuthError",
    "ClientError",
    "ConflictError",
    "ConnectionError",
    "Delivery",
    "ForbiddenError",
    "Health",
    "HealthMetrics",
    "Job",
    "JobFields",
    "NextRun",
    "NotFoundError",
    "Run",
    "ServerError",
    "SymbiontClient",
    "ValidationError",
)
