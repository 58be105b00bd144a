"""Process-group plumbing for command agents: capped stream reading and group killing."""

from __future__ import annotations

import os
import signal
from contextlib import suppress
from pathlib import Path

import anyio
from anyio.abc import ByteReceiveStream, ByteSendStream

from symbiont.runtime._base import utf8_prefix

_CHUNK = 64 * 1024
_TAIL = 256
"""Bytes of stdout kept from the end, to see a final ``sleep`` line past the cap."""
_LOOKAHEAD = 3
_POLL_S = 0.02
"""Between checks that a process group is gone (only while stopping one)."""
_AFTER_KILL_S = 2.0
"""Longest wait for SIGKILLed processes to disappear."""
_PROC = Path("/proc")


class CappedBuffer:
    """Keeps the first *limit* bytes of a stream and its last few, counting the rest."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._head = bytearray()
        self._tail = bytearray()
        self.total = 0
        """Bytes seen, including the ones dropped."""

    def feed(self, chunk: bytes) -> None:
        """Add *chunk*; bytes past the limit only update the tail and the count."""
        self.total += len(chunk)
        # A few bytes past the limit tell whether the cap cuts a UTF-8 sequence.
        room = self._limit + _LOOKAHEAD - len(self._head)
        if room > 0:
            self._head += chunk[:room]
        self._tail = (self._tail + chunk)[-_TAIL:]

    @property
    def truncated(self) -> bool:
        """Whether the stream was longer than the limit."""
        return self.total > self._limit

    def text(self) -> str:
        """The kept head, decoded as UTF-8 (a sequence cut by the cap is dropped)."""
        return utf8_prefix(bytes(self._head), self._limit).decode("utf-8", "replace")

    def tail_text(self) -> str:
        """The last bytes of the stream, decoded leniently."""
        return bytes(self._tail).decode("utf-8", "replace")


class TailBuffer:
    """Keeps only the last *limit* bytes of a stream (for stderr)."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._data = bytearray()

    def feed(self, chunk: bytes) -> None:
        """Add *chunk*, dropping the oldest bytes past the limit."""
        self._data = (self._data + chunk)[-self._limit :]

    def text(self) -> str:
        """The kept bytes, decoded leniently and stripped."""
        return bytes(self._data).decode("utf-8", "replace").strip()


async def drain(stream: ByteReceiveStream, sink: CappedBuffer | TailBuffer) -> None:
    """Read *stream* to its end into *sink*, so the writer never blocks on a full pipe."""
    with suppress(anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError):
        while True:
            sink.feed(await stream.receive(_CHUNK))


async def feed(stream: ByteSendStream, data: bytes) -> None:
    """Write *data* to the child's stdin and close it; a child that stops reading is fine."""
    with suppress(anyio.BrokenResourceError, anyio.ClosedResourceError, BrokenPipeError):
        if data:
            await stream.send(data)
    with suppress(anyio.BrokenResourceError, anyio.ClosedResourceError, BrokenPipeError):
        await stream.aclose()


def signal_group(pgid: int, signum: signal.Signals) -> None:
    """Send *signum* to every process of the group; a group already gone is fine."""
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def group_alive(pgid: int) -> bool:
    """Tell whether a process of group *pgid* still runs (zombies count as gone).

    Zombies matter: a grandchild re-parented to an init that does not reap would keep
    ``killpg(pgid, 0)`` succeeding forever. Linux's ``/proc`` tells zombies apart.
    """
    if not _PROC.is_dir():
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True
    for entry in _PROC.iterdir():
        if entry.name.isdigit() and _live_member(entry / "stat", pgid):
            return True
    return False


def _live_member(stat_path: Path, pgid: int) -> bool:
    try:
        stat = stat_path.read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    # Fields after the command name (which may hold spaces and parentheses).
    state, _ppid, pgrp, *_ = [*stat[stat.rfind(")") + 2 :].split(), "", "", ""]
    return pgrp == str(pgid) and state not in {"Z", "X", ""}


async def _until_gone(pgid: int) -> None:
    # Polling: the exit of processes that are not our children signals no event.
    while group_alive(pgid):  # noqa: ASYNC110 - no event exists for a non-child's exit
        await anyio.sleep(_POLL_S)


async def stop_group(pgid: int, grace_s: float) -> None:
    """Stop every process of group *pgid*: SIGTERM, up to *grace_s* to exit, then SIGKILL.

    Returns once no process of the group runs any more (or, after SIGKILL, a short
    bounded wait has passed). Call it shielded from cancellation.
    """
    if not group_alive(pgid):
        return
    signal_group(pgid, signal.SIGTERM)
    with anyio.move_on_after(grace_s):
        await _until_gone(pgid)
    if group_alive(pgid):
        signal_group(pgid, signal.SIGKILL)
        with anyio.move_on_after(_AFTER_KILL_S):
            await _until_gone(pgid)
