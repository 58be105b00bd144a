"""The clock: the only place symbiont reads the current time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

import anyio


class Clock(Protocol):
    """Tells the time and waits; injected so tests can move time by hand."""

    def now(self) -> datetime:
        """Return the current time as an aware UTC datetime."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait *seconds* (or until the clock is advanced past that point)."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:  # noqa: D102 - documented on Clock
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:  # noqa: D102 - documented on Clock
        await anyio.sleep(seconds)


def utcnow() -> datetime:
    """Return the current aware UTC time (for code paths that have no injected clock)."""
    return datetime.now(UTC)
