"""Domain events: what happened, published on an in-process bus for metrics, health and logs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import structlog

from symbiont.core.models import Job, Run

_log = structlog.get_logger("symbiont.events")


@dataclass(frozen=True, slots=True, kw_only=True)
class RunClaimed:
    """A node took an occurrence (or a queued run) to run it."""

    run: Run
    lateness: timedelta
    """How long after its occurrence the run was claimed."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RunStarted:
    """The agent of a run was started."""

    run: Run
    lateness: timedelta
    """How long after its occurrence the agent started (jitter included)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RunFinished:
    """A run reached a final status (succeeded, failed, timed_out, denied, skipped...)."""

    run: Run
    job: Job | None
    """The job as the failure left it (``failed``, ``timed_out``: counted, maybe
    dead-lettered); None after other outcomes, or when the job was deleted meanwhile."""
    dead_lettered: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class RunSkipped:
    """An occurrence was recorded skipped when it was due to start (its job was full)."""

    job_name: str
    reason: str


Event = RunClaimed | RunStarted | RunFinished | RunSkipped
Subscriber = Callable[[Event], None]


class EventBus:
    """Delivers events to subscribers synchronously; a failing subscriber never stops the rest."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> None:
        """Call *subscriber* with every event published from now on."""
        self._subscribers.append(subscriber)

    def publish(self, event: Event) -> None:
        """Hand *event* to every subscriber, logging (not raising) their failures."""
        for subscriber in self._subscribers:
            try:
                subscriber(event)
            except Exception:  # noqa: BLE001 - an observer must not break the scheduler
                _log.exception(
                    "events.subscriber_failed",
                    subscriber=repr(subscriber),
                    event=type(event).__name__,
                )
