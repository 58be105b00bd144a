"""`FakeClock`: a clock that moves only when a test moves it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import anyio


class FakeClock:
    """A `Clock` whose time advances by `advance`; sleepers wake when their time is reached.

    Args:
        start: the initial time (aware); defaults to 2026-01-01T00:00:00Z.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._changed = anyio.Event()

    def now(self) -> datetime:
        """Return the fake current time."""
        return self._now

    def set(self, when: datetime) -> None:
        """Jump to *when* (which may not be earlier than now)."""
        if when < self._now:
            raise ValueError(f"time cannot go back from {self._now} to {when}")
        self._now = when
        self._changed.set()
        self._changed = anyio.Event()

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        """Move time forward by *delta* or by ``timedelta(**kwargs)``; return the new time."""
        self.set(self._now + (delta if delta is not None else timedelta(**kwargs)))
        return self._now

    async def sleep(self, seconds: float) -> None:
        """Return once the clock has been advanced *seconds* past the moment of the call."""
        wake = self._now + timedelta(seconds=seconds)
        while self._now < wake:
            await self._changed.wait()
