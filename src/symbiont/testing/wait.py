"""`wait_until`: wait for a condition with a deadline, for tests of concurrent code."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio


async def wait_until(
    check: Callable[[], Awaitable[bool]], *, deadline_s: float = 10.0, poll_s: float = 0.005
) -> None:
    """Return once ``await check()`` is true; raise `TimeoutError` after *deadline_s* seconds.

    For state that lives in another task or process (a store row, a counter): the check is
    re-evaluated every *poll_s* seconds, so the test waits exactly as long as needed.
    """
    with anyio.fail_after(deadline_s):
        while not await check():  # noqa: ASYNC110 - the condition is external state, not an event
            await anyio.sleep(poll_s)
