"""Job stores: the `JobStore` port and its SQLite and PostgreSQL adapters."""

from __future__ import annotations

from pathlib import Path

from symbiont.store.base import (
    AuditFilter,
    AuditRecord,
    AuditVerification,
    ClaimedRun,
    ClaimPlan,
    FinishedRun,
    JobFilter,
    JobStore,
    PlannedRun,
    Planner,
    RunFilter,
    RunOutcome,
    SessionState,
    StartResult,
)
from symbiont.store.sqlite import SQLiteJobStore

SqliteJobStore = SQLiteJobStore
"""The spec's spelling."""


def open_store(url: str | Path) -> JobStore:
    """Return an unopened store for *url*: ``postgresql://...`` or a SQLite path/``sqlite:///``."""
    text = str(url)
    if text.startswith(("postgresql://", "postgres://")):
        from symbiont.store.postgres import PostgresJobStore  # noqa: PLC0415 - optional extra

        return PostgresJobStore(text)
    if text.startswith("sqlite:///"):
        text = text.removeprefix("sqlite:///")
    return SQLiteJobStore(Path(text).expanduser())


__all__ = (
    "AuditFilter",
    "AuditRecord",
    "AuditVerification",
    "ClaimPlan",
    "ClaimedRun",
    "FinishedRun",
    "JobFilter",
    "JobStore",
    "PlannedRun",
    "Planner",
    "RunFilter",
    "RunOutcome",
    "SQLiteJobStore",
    "SessionState",
    "SqliteJobStore",
    "StartResult",
    "open_store",
)
