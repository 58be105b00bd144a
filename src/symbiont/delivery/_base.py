"""What the delivery channels share: template resolution, run facts, excerpts, retry hints."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from symbiont.core.errors import DeliveryError
from symbiont.core.models import Job, Run
from symbiont.dsl import template_vars
from symbiont.runtime.templates import TemplateError, resolve_template

EXCERPT_CHARS = 300
"""How much of a failing reply's body goes into an error message."""


class RetryLater(DeliveryError):
    """A retryable failure; the router waits at least *retry_after* seconds when given.

    Attributes:
        retry_after: seconds the destination asked to wait, when it said.
    """

    def __init__(self, channel: str, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(channel, reason, retryable=True)
        self.retry_after = retry_after


def resolve(channel: str, what: str, text: str, environ: Mapping[str, str]) -> str:
    """Resolve the ``${ENV}`` templates of one setting at send time.

    Args:
        channel: the channel name, for the error.
        what: the setting, for the error (``header 'Authorization'``, ``smtp_password``).
        text: the value as written.
        environ: the variables to resolve against.

    Raises:
        DeliveryError: a variable is unset or a placeholder is malformed (not retryable);
            the message names the setting and the variable, never a value.
    """
    try:
        return resolve_template(text, environ)
    except TemplateError as exc:
        raise DeliveryError(channel, f"cannot resolve {what}: {exc}") from None


def secret_parts(text: str, resolved: str, environ: Mapping[str, str]) -> list[str]:
    """What a message must never show of one resolved setting: all of it, and each variable.

    A reply may repeat only part of what it was sent (``invalid token abc123`` for
    ``Authorization: Bearer ${TOKEN}``), so each variable's value is a secret of its own.

    Args:
        text: the setting as written (already resolved without error).
        resolved: its resolved value.
        environ: the variables it was resolved against.
    """
    return [resolved, *(environ[name] for name in template_vars(text) if environ.get(name))]


def mask(text: str, secrets: Iterable[str]) -> str:
    """Replace every occurrence of each secret (longer than 3 characters) with ``***``."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) > 3:  # noqa: PLR2004 - masking "a" or "ok" would garble the text
            text = text.replace(secret, "***")
    return text


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """The start of *text* on one line, at most *limit* characters (``...`` when cut)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header given in seconds (a date is ignored)."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def rfc3339(moment: datetime | None) -> str | None:
    """An aware datetime as RFC 3339 UTC with ``Z`` (``None`` stays ``None``)."""
    if moment is None:
        return None
    return moment.isoformat().replace("+00:00", "Z")


def job_facts(job: Job) -> dict[str, Any]:
    """The job as deliveries describe it."""
    return {"id": job.id, "name": job.name, "agent_id": job.agent_id}


def run_facts(run: Run) -> dict[str, Any]:
    """The run as deliveries describe it (JSON-ready; the output travels separately)."""
    return {
        "id": run.id,
        "job_id": run.job_id,
        "job_name": run.job_name,
        "status": str(run.status),
        "trigger": str(run.trigger),
        "attempt": run.attempt,
        "scheduled_for": rfc3339(run.scheduled_for),
        "started_at": rfc3339(run.started_at),
        "finished_at": rfc3339(run.finished_at),
        "execution_time_ms": run.execution_time_ms,
        "error_message": run.error_message,
        "node_id": run.node_id,
    }


def duration_text(run: Run) -> str:
    """The run's agent time for people: ``850 ms``, ``12.3 s``, ``4 min 05 s``."""
    millis = run.execution_time_ms
    if millis is None:
        return "n/a"
    if millis < 1000:  # noqa: PLR2004 - one second
        return f"{millis} ms"
    if millis < 60_000:  # noqa: PLR2004 - one minute
        return f"{millis / 1000:.1f} s"
    minutes, seconds = divmod(millis // 1000, 60)
    return f"{minutes} min {seconds:02d} s"
