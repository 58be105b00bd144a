"""`DefaultDeliveryRouter`: delivers a run's output by channel name, with retries and backoff."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from datetime import timedelta
from types import MappingProxyType

import anyio
import structlog

from symbiont.core.clock import Clock, SystemClock
from symbiont.core.enums import DeliverOn, RunStatus
from symbiont.core.errors import DeliveryError
from symbiont.core.models import DeliveryResult, Job, Run
from symbiont.delivery._base import RetryLater
from symbiont.delivery.base import Channel
from symbiont.delivery.settings import DeliverySettings, RetrySettings

__all__ = ("FAILURE_STATUSES", "DefaultDeliveryRouter", "wants_delivery")

_log = structlog.get_logger("symbiont.delivery")

FAILURE_STATUSES = frozenset(
    {
        RunStatus.failed,
        RunStatus.timed_out,
        RunStatus.denied,
        RunStatus.interrupted,
        RunStatus.cancelled,
    }
)
"""Run outcomes that ``deliver_on: failure`` delivers (``success`` means ``succeeded``)."""

CUSTOM_PREFIX = "custom:"


class DefaultDeliveryRouter:
    """Routes a run's output to channels by name (a `DeliveryRouter`).

    A failure the channel marks ``retryable`` is tried again after an exponential backoff
    with jitter: ``backoff * 2**(n-1)``, halved and topped up by a random share of the
    other half, capped at ``max_backoff`` (a channel's ``Retry-After`` is honoured within
    that cap). A channel may set an integer ``retry_attempts`` attribute to override the
    number of retries from the settings. Nothing here raises for a failed delivery: the
    result says what happened.

    Args:
        channels: the channels by the name jobs use (``webhook``, ``custom:pager``...).
        settings: the delivery settings (retries are read from ``settings.retry``).
        clock: waits between attempts (a fake one in tests).
        jitter: returns a float in ``[0, 1)``; the random share of each backoff.
    """

    def __init__(
        self,
        channels: Mapping[str, Channel],
        settings: DeliverySettings,
        *,
        clock: Clock | None = None,
        jitter: Callable[[], float] | None = None,
    ) -> None:
        self._channels = dict(channels)
        self.settings = settings
        self._clock = clock or SystemClock()
        self._jitter = jitter or random.SystemRandom().random

    @property
    def channels(self) -> Mapping[str, Channel]:
        """The registered channels by name (read-only)."""
        return MappingProxyType(self._channels)

    async def route(self, channel: str, job: Job, run: Run, output: str) -> DeliveryResult:
        """Deliver *output* of *run* to *channel*, retrying retryable failures; never raises."""
        target = self._channels.get(channel)
        if target is None:
            error = _unknown_channel(channel, self._channels)
            _log.warning("delivery.failed", channel=channel, run_id=run.id, error=error)
            return DeliveryResult(channel=channel, status="failed", error=error, attempts=0)
        retries = _retries(target, self.settings.retry)
        attempt = 0
        while True:
            attempt += 1
            failure = await _attempt(
                target, channel, (job, run, output), self.settings.retry.attempt_timeout
            )
            if failure is None:
                _log.debug("delivery.delivered", channel=channel, run_id=run.id, attempts=attempt)
                return DeliveryResult(channel=channel, status="delivered", attempts=attempt)
            if not failure.retryable or attempt > retries:
                _log.warning(
                    "delivery.failed",
                    channel=channel,
                    job_id=job.id,
                    run_id=run.id,
                    attempts=attempt,
                    error=failure.reason,
                )
                return DeliveryResult(
                    channel=channel, status="failed", error=failure.reason, attempts=attempt
                )
            delay = self.backoff(attempt, failure)
            _log.info(
                "delivery.retrying",
                channel=channel,
                run_id=run.id,
                attempt=attempt,
                delay_s=round(delay, 3),
                error=failure.reason,
            )
            await self._clock.sleep(delay)

    async def deliver_all(self, job: Job, run: Run, output: str) -> tuple[DeliveryResult, ...]:
        """Deliver to every channel of *job*, concurrently, as its ``deliver_on`` allows.

        Channels that ``deliver_on`` rules out get a ``skipped`` result whose ``error``
        says why. Results come in the order of ``job.delivery`` (a repeated name once).
        """
        names = tuple(dict.fromkeys(job.delivery))
        if not wants_delivery(job.deliver_on, run.status):
            reason = f"not delivered: deliver_on is {job.deliver_on} and the run {run.status}"
            return tuple(
                DeliveryResult(channel=name, status="skipped", error=reason, attempts=0)
                for name in names
            )
        results: dict[int, DeliveryResult] = {}

        async def one(index: int, name: str) -> None:
            results[index] = await self.route(name, job, run, output)

        async with anyio.create_task_group() as group:
            for index, name in enumerate(names):
                group.start_soon(one, index, name)
        return tuple(results[index] for index in range(len(names)))

    def backoff(self, attempt: int, failure: DeliveryError | None = None) -> float:
        """Seconds to wait after failed attempt number *attempt* (1-based).

        Args:
            attempt: the attempt that just failed.
            failure: its error; a `RetryLater` error's ``retry_after`` is a lower bound.
        """
        ceiling = self.settings.retry.max_backoff.total_seconds()
        base = min(ceiling, self.settings.retry.backoff.total_seconds() * 2.0 ** (attempt - 1))
        delay = base / 2 + self._jitter() * base / 2
        if isinstance(failure, RetryLater) and failure.retry_after is not None:
            delay = max(delay, min(failure.retry_after, ceiling))
        return delay


def wants_delivery(deliver_on: DeliverOn, status: RunStatus) -> bool:
    """Whether a run that ended in *status* is delivered under *deliver_on*."""
    if deliver_on == DeliverOn.success:
        return status == RunStatus.succeeded
    if deliver_on == DeliverOn.failure:
        return status in FAILURE_STATUSES
    return True


async def _attempt(
    channel: Channel, name: str, args: tuple[Job, Run, str], limit: timedelta
) -> DeliveryError | None:
    """One delivery attempt: ``None`` when it worked, else the error (never raised)."""
    job, run, output = args
    try:
        with anyio.move_on_after(limit.total_seconds()) as scope:
            await channel.deliver(job, run, output)
    except DeliveryError as exc:
        return exc
    except Exception as exc:  # noqa: BLE001 - a channel's bug is that delivery's failure only
        _log.exception("delivery.channel_crashed", channel=name, run_id=run.id)
        return DeliveryError(name, f"the channel raised {type(exc).__name__}: {exc}")
    if scope.cancelled_caught:
        reason = f"the channel did not finish within {limit.total_seconds():g}s"
        return DeliveryError(name, reason, retryable=True)
    return None


def _retries(channel: Channel, retry: RetrySettings) -> int:
    own = getattr(channel, "retry_attempts", None)
    if isinstance(own, int) and not isinstance(own, bool) and own >= 0:
        return own
    return retry.attempts


def _unknown_channel(name: str, channels: Mapping[str, Channel]) -> str:
    if name.startswith(CUSTOM_PREFIX):
        custom = name.removeprefix(CUSTOM_PREFIX)
        return (
            f"no custom channel is registered as {custom!r}: register a class under the "
            f"entry-point group 'symbiont.delivery' with the name {custom!r}, or add "
            f'{custom} = "pkg.module:Class" to [scheduler.delivery.custom_channels]'
        )
    known = ", ".join(sorted(channels)) or "none"
    return f"unknown delivery channel {name!r}; known channels: {known}; or use custom:NAME"
