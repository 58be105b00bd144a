"""The delivery port: a channel sends one finished run's output somewhere."""

from __future__ import annotations

from typing import Protocol

from symbiont.core.models import DeliveryResult, Job, Run


class Channel(Protocol):
    """Sends one finished run's output to one destination."""

    name: str
    """The channel name as jobs write it (``webhook``, ``custom:pager``...)."""

    async def deliver(self, job: Job, run: Run, output: str) -> None:
        """Deliver *output* of *run*; raise `DeliveryError` (with ``retryable``) on failure."""
        ...


class DeliveryRouter(Protocol):
    """Routes a run's output to a channel by name (the spec's ``DeliveryRouter`` trait)."""

    async def route(self, channel: str, job: Job, run: Run, output: str) -> DeliveryResult:
        """Deliver to *channel* with retries; report the result (never raise for a failure)."""
        ...
