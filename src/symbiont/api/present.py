"""From domain records to API models: redaction of secrets lives here, once."""

from __future__ import annotations

import re
from functools import lru_cache

from symbiont.api.schemas import JobOut
from symbiont.core.codec import heartbeat_to_dict, policy_to_dict
from symbiont.core.models import Job
from symbiont.cron import CronError, CronExpression

REDACTED = "***"
_TEMPLATE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}")


def redact(value: str | None) -> str | None:
    """Keep a bare ``${VAR}`` template (it names a secret, it is not one); hide anything else."""
    if value is None:
        return None
    return value if _TEMPLATE.fullmatch(value) else REDACTED


def describe(job: Job) -> str | None:
    """The job's schedule in plain English."""
    if job.at is not None:
        return f"Once, at {job.at.isoformat()}"
    if job.cron_expr is None:
        return None
    seed = job.name if "H" in job.cron_expr.upper() else ""
    return _describe(job.cron_expr, job.timezone, seed)


@lru_cache(maxsize=4096)
def _describe(cron_expr: str, timezone: str, seed: str) -> str | None:
    try:
        return CronExpression.parse(cron_expr, timezone=timezone, seed=seed or None).describe()
    except CronError:
        return None


def job_out(job: Job) -> JobOut:
    """The wire form of *job*, with header values and literal secrets redacted."""
    return JobOut(
        id=job.id,
        name=job.name,
        agent_id=job.agent_id,
        cron_expr=job.cron_expr,
        at=job.at,
        timezone=job.timezone,
        schedule_description=describe(job),
        status=job.status.value,
        status_reason=job.status_reason,
        session_mode=job.session_mode.value,
        delivery=list(job.delivery),
        webhook_url=job.webhook_url,
        webhook_headers=dict.fromkeys(job.webhook_headers, REDACTED),
        webhook_secret=redact(job.webhook_secret),
        slack_channel=job.slack_channel,
        email_recipients=list(job.email_recipients),
        deliver_on=job.deliver_on.value,
        policy=policy_to_dict(job.policy),
        heartbeat=heartbeat_to_dict(job.heartbeat),
        max_retries=job.max_retries,
        retry_delay_seconds=None if job.retry_delay is None else job.retry_delay.total_seconds(),
        max_concurrent=job.max_concurrent,
        jitter_seconds=job.jitter_seconds,
        misfire_policy=job.misfire_policy.value,
        agent_pin_jwt=redact(job.agent_pin_jwt),
        input=job.input,
        description=job.description,
        next_run=job.next_run,
        last_run=job.last_run,
        run_count=job.run_count,
        failure_count=job.failure_count,
        source=job.source,
        created_at=job.created_at,
        updated_at=job.updated_at,
    )
