"""`DefaultDeliveryRouter`: retries, backoff, unknown channels, deliver_on, concurrency."""

from __future__ import annotations

from datetime import timedelta

import anyio
import pytest

from symbiont.core.enums import DeliverOn, RunStatus
from symbiont.core.errors import DeliveryError
from symbiont.core.models import DeliveryResult, Job, Run
from symbiont.delivery import DefaultDeliveryRouter, RetrySettings
from symbiont.delivery._base import RetryLater
from tests.unit.delivery.helpers import (
    InstantClock,
    MeetingChannel,
    MeetingGroup,
    RecordingChannel,
    make_job,
    make_run,
    retryable,
    settings,
)

pytestmark = pytest.mark.anyio


def router(*channels: RecordingChannel | MeetingChannel, **kwargs: object) -> DefaultDeliveryRouter:
    """A router over *channels* (by their names) with an instant clock and no jitter."""
    clock = kwargs.pop("clock", None) or InstantClock()
    return DefaultDeliveryRouter(
        {channel.name: channel for channel in channels},
        settings(**kwargs),
        clock=clock,  # type: ignore[arg-type]
        jitter=lambda: 0.0,
    )


async def test_a_delivered_channel_reports_one_attempt() -> None:
    """A channel that works gives ``delivered`` after one attempt, and sees job, run and output."""
    channel = RecordingChannel()
    job, run = make_job(), make_run()
    result = await router(channel).route("recording", job, run, "all good")
    assert result == DeliveryResult(channel="recording", status="delivered", attempts=1)
    assert channel.calls == [(job, run, "all good")]


async def test_retryable_failures_are_retried_until_delivered() -> None:
    """Two retryable failures, then success: ``delivered`` with three attempts."""
    channel = RecordingChannel(failures=[retryable("503"), retryable("503")])
    result = await router(channel).route("recording", make_job(), make_run(), "out")
    assert (result.status, result.attempts, result.error) == ("delivered", 3, None)


async def test_retries_stop_after_the_configured_count() -> None:
    """With two retries allowed, a channel that keeps failing is tried three times."""
    channel = RecordingChannel(failures=[retryable(f"boom {n}") for n in range(10)])
    result = await router(channel, retry=RetrySettings(attempts=2)).route(
        "recording", make_job(), make_run(), "out"
    )
    assert (result.status, result.attempts, result.error) == ("failed", 3, "boom 2")


async def test_a_permanent_failure_is_not_retried() -> None:
    """A failure that is not retryable ends the delivery at once, with its reason."""
    channel = RecordingChannel(failures=[DeliveryError("recording", "HTTP 400: bad payload")])
    result = await router(channel).route("recording", make_job(), make_run(), "out")
    assert result == DeliveryResult(
        channel="recording", status="failed", error="HTTP 400: bad payload", attempts=1
    )


class OneRetry(RecordingChannel):
    """A recording channel that asks for one retry only."""

    retry_attempts = 1


async def test_a_channel_may_set_its_own_retry_count() -> None:
    """A channel's ``retry_attempts`` attribute overrides the settings' count."""
    channel = OneRetry(failures=[retryable() for _ in range(10)])
    result = await router(channel).route("recording", make_job(), make_run(), "")
    assert (result.status, result.attempts) == ("failed", 2)


async def test_a_crashing_channel_is_a_failed_delivery() -> None:
    """A channel raising something other than DeliveryError fails without retries or raising."""
    channel = RecordingChannel(failures=[KeyError("missing")])
    result = await router(channel).route("recording", make_job(), make_run(), "out")
    assert result.status == "failed"
    assert result.attempts == 1
    assert result.error == "the channel raised KeyError: 'missing'"


class SilentChannel(RecordingChannel):
    """A channel whose deliveries never finish."""

    async def deliver(self, job: Job, run: Run, output: str) -> None:
        """Record the call, then wait forever."""
        self.calls.append((job, run, output))
        await anyio.sleep_forever()


async def test_an_attempt_that_never_ends_is_cut_off_and_retried() -> None:
    """A channel that hangs is cancelled after ``attempt_timeout`` and tried again."""
    channel = SilentChannel()
    retry = RetrySettings(attempts=1, attempt_timeout=timedelta(milliseconds=50))
    with anyio.fail_after(5):
        result = await router(channel, retry=retry).route("recording", make_job(), make_run(), "")
    assert (result.status, result.attempts) == ("failed", 2)
    assert result.error == "the channel did not finish within 0.05s"
    assert len(channel.calls) == 2


async def test_backoff_doubles_up_to_the_ceiling() -> None:
    """Waits between attempts double from ``backoff`` and stop growing at ``max_backoff``."""
    clock = InstantClock()
    channel = RecordingChannel(failures=[retryable() for _ in range(6)])
    retry = RetrySettings(
        attempts=5, backoff=timedelta(seconds=1), max_backoff=timedelta(seconds=5)
    )
    deliveries = DefaultDeliveryRouter(
        {"recording": channel}, settings(retry=retry), clock=clock, jitter=lambda: 1.0
    )
    result = await deliveries.route("recording", make_job(), make_run(), "out")
    assert (result.status, result.attempts) == ("failed", 6)
    assert clock.slept == [1.0, 2.0, 4.0, 5.0, 5.0]


async def test_jitter_takes_at_most_half_of_each_wait() -> None:
    """With no jitter luck a wait is half its nominal value; with full luck, all of it."""
    retry = RetrySettings(backoff=timedelta(seconds=2), max_backoff=timedelta(seconds=60))
    low = DefaultDeliveryRouter({}, settings(retry=retry), jitter=lambda: 0.0)
    high = DefaultDeliveryRouter({}, settings(retry=retry), jitter=lambda: 0.999)
    assert low.backoff(3) == 4.0
    assert 7.99 < high.backoff(3) < 8.0


async def test_retry_after_is_a_lower_bound_within_the_ceiling() -> None:
    """A destination's Retry-After lengthens the wait, but never past ``max_backoff``."""
    retry = RetrySettings(backoff=timedelta(seconds=1), max_backoff=timedelta(seconds=30))
    deliveries = DefaultDeliveryRouter({}, settings(retry=retry), jitter=lambda: 0.0)
    assert deliveries.backoff(1, RetryLater("webhook", "429", retry_after=12)) == 12
    assert deliveries.backoff(1, RetryLater("webhook", "429", retry_after=3600)) == 30
    assert deliveries.backoff(1, RetryLater("webhook", "503")) == 0.5


async def test_an_unknown_channel_fails_with_the_known_names() -> None:
    """A channel name nobody registered is a failed result, with no attempt, naming the others."""
    result = await router(RecordingChannel()).route("pigeon", make_job(), make_run(), "out")
    assert result == DeliveryResult(
        channel="pigeon",
        status="failed",
        error="unknown delivery channel 'pigeon'; known channels: recording; or use custom:NAME",
        attempts=0,
    )


async def test_an_unregistered_custom_channel_says_how_to_register_it() -> None:
    """``custom:NAME`` with no registration fails, naming the entry-point group and config."""
    result = await router().route("custom:pager", make_job(), make_run(), "out")
    assert result.status == "failed"
    assert result.error is not None
    assert "no custom channel is registered as 'pager'" in result.error
    assert "'symbiont.delivery'" in result.error
    assert "[scheduler.delivery.custom_channels]" in result.error


@pytest.mark.parametrize(
    ("deliver_on", "status", "delivered"),
    [
        (DeliverOn.always, RunStatus.succeeded, True),
        (DeliverOn.always, RunStatus.failed, True),
        (DeliverOn.success, RunStatus.succeeded, True),
        (DeliverOn.success, RunStatus.failed, False),
        (DeliverOn.success, RunStatus.timed_out, False),
        (DeliverOn.failure, RunStatus.succeeded, False),
        (DeliverOn.failure, RunStatus.failed, True),
        (DeliverOn.failure, RunStatus.timed_out, True),
        (DeliverOn.failure, RunStatus.denied, True),
        (DeliverOn.failure, RunStatus.interrupted, True),
        (DeliverOn.failure, RunStatus.skipped, False),
    ],
)
async def test_deliver_on_chooses_which_outcomes_are_delivered(
    deliver_on: DeliverOn, status: RunStatus, delivered: bool
) -> None:
    """``deliver_on`` delivers every outcome, only successes, or only failures."""
    first, second = RecordingChannel(name="a"), RecordingChannel(name="b")
    job = make_job(delivery=("a", "b"), deliver_on=deliver_on)
    results = await router(first, second).deliver_all(job, make_run(status), "out")
    assert [r.channel for r in results] == ["a", "b"]
    if delivered:
        assert {r.status for r in results} == {"delivered"}
        assert len(first.calls) == len(second.calls) == 1
    else:
        assert {r.status for r in results} == {"skipped"}
        assert results[0].error == f"not delivered: deliver_on is {deliver_on} and the run {status}"
        assert results[0].attempts == 0
        assert first.calls == second.calls == []


async def test_deliver_all_runs_channels_concurrently() -> None:
    """Each channel waits until all have started, so the delivery ends only if they overlap."""
    group = MeetingGroup(size=3)
    channels = [MeetingChannel(name=name, group=group) for name in ("a", "b", "c")]
    job = make_job(delivery=("a", "b", "c"))
    with anyio.fail_after(5):
        results = await router(*channels).deliver_all(job, make_run(), "out")
    assert [(r.channel, r.status) for r in results] == [
        ("a", "delivered"),
        ("b", "delivered"),
        ("c", "delivered"),
    ]


async def test_deliver_all_reports_each_channel_in_job_order() -> None:
    """One result per channel, in the job's order, failures next to successes; no raise."""
    good = RecordingChannel(name="good")
    bad = RecordingChannel(name="bad", failures=[DeliveryError("bad", "refused")])
    job = make_job(delivery=("bad", "missing", "good", "bad"))
    results = await router(good, bad).deliver_all(job, make_run(), "out")
    assert [(r.channel, r.status, r.attempts) for r in results] == [
        ("bad", "failed", 1),
        ("missing", "failed", 0),
        ("good", "delivered", 1),
    ]
    assert results[0].error == "refused"


async def test_a_job_without_channels_has_no_results() -> None:
    """A job with an empty ``delivery`` list gives an empty tuple."""
    assert await router().deliver_all(make_job(), make_run(), "out") == ()


async def test_channels_are_exposed_read_only() -> None:
    """``channels`` lists the registered channels and cannot be changed from outside."""
    deliveries = router(RecordingChannel())
    assert list(deliveries.channels) == ["recording"]
    with pytest.raises(TypeError):
        deliveries.channels["x"] = RecordingChannel()  # type: ignore[index]
