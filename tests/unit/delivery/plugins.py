"""Custom delivery channel classes, loaded by the custom-channel tests as a plug-in would be."""

from __future__ import annotations

from typing import ClassVar

from symbiont.core.errors import DeliveryError
from symbiont.core.models import Job, Run
from symbiont.delivery import DeliverySettings


class PagerChannel:
    """A working custom channel: remembers every delivery (class-wide) and its settings."""

    name = "custom:pager"
    delivered: ClassVar[list[tuple[str, str, DeliverySettings]]] = []

    def __init__(self, settings: DeliverySettings) -> None:
        self.settings = settings

    async def deliver(self, job: Job, run: Run, output: str) -> None:
        """Remember the run."""
        del job
        PagerChannel.delivered.append((run.id, output, self.settings))


class FlakyPager:
    """A custom channel that always fails retryably and allows one retry only."""

    name = "custom:flaky"
    retry_attempts = 1

    def __init__(self, settings: DeliverySettings) -> None:
        del settings

    async def deliver(self, job: Job, run: Run, output: str) -> None:
        """Fail, retryably."""
        del job, run, output
        raise DeliveryError(self.name, "pager service unavailable", retryable=True)


class BrokenPager:
    """A custom channel whose constructor fails."""

    def __init__(self, settings: DeliverySettings) -> None:
        del settings
        raise RuntimeError("no PAGER_KEY")


class NotAChannel:
    """A class without ``deliver``."""

    def __init__(self, settings: DeliverySettings) -> None:
        del settings
