"""Builders shared by the store contract tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from symbiont.core.enums import RunStatus, RunTrigger
from symbiont.core.ids import new_id
from symbiont.core.models import Job, Run

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def make_job(name: str = "job", **overrides: Any) -> Job:
    """Return a minimal active cron job due at T0."""
    values: dict[str, Any] = {
        "id": new_id(),
        "name": name,
        "agent_id": "agent",
        "cron_expr": "0 * * * * *",
        "next_run": T0,
        "created_at": T0 - timedelta(days=1),
        "updated_at": T0 - timedelta(days=1),
    }
    values.update(overrides)
    return Job(**values)


def make_run(job: Job, when: datetime = T0, **overrides: Any) -> Run:
    """Return a queued manual run of *job*."""
    values: dict[str, Any] = {
        "id": new_id(),
        "job_id": job.id,
        "job_name": job.name,
        "trigger": RunTrigger.manual,
        "scheduled_for": when,
        "status": RunStatus.queued,
        "created_at": when,
    }
    values.update(overrides)
    return Run(**values)
