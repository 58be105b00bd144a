"""Durations written by people (``"90s"``, ``"1h30m"``) to and from :class:`timedelta`."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS: dict[str, timedelta] = {
    "w": timedelta(weeks=1),
    "d": timedelta(days=1),
    "h": timedelta(hours=1),
    "m": timedelta(minutes=1),
    "s": timedelta(seconds=1),
    "ms": timedelta(milliseconds=1),
    "us": timedelta(microseconds=1),
}
"""Units from largest to smallest; a duration must use them in this order."""

_FORMAT_UNITS = ("d", "h", "m", "s", "ms", "us")
"""Units :func:`format_duration` writes (weeks are read but written as days)."""

_PART = re.compile(r"(\d+)(ms|us|w|d|h|m|s)")
_WHOLE = re.compile(r"(?:\d+(?:ms|us|w|d|h|m|s))+")
_HELP = "write a whole number with a unit (us, ms, s, m, h, d, w), e.g. '90s', '5m', '1h30m'"


def parse_duration(text: str) -> timedelta:
    """Parse a duration such as ``"90s"``, ``"1h30m"``, ``"500ms"`` or ``"2d"``.

    A plain integer (``"90"``) is a number of seconds. Units must go from the largest
    to the smallest, each at most once.

    Args:
        text: the duration as written.

    Returns:
        The duration as a non-negative :class:`timedelta`.

    Raises:
        ValueError: the text is not a duration; the message says what to write.
    """
    stripped = text.strip()
    if not stripped:
        raise ValueError(f"empty duration: {_HELP}")
    if stripped.isascii() and stripped.isdigit():
        return _scaled(text, int(stripped), timedelta(seconds=1))
    if not stripped.isascii() or _WHOLE.fullmatch(stripped) is None:
        raise ValueError(f"invalid duration {text!r}: {_HELP}")
    order = list(_UNITS)
    total = timedelta()
    last = -1
    for match in _PART.finditer(stripped):
        amount, unit = match.groups()
        rank = order.index(unit)
        if rank <= last:
            raise ValueError(
                f"invalid duration {text!r}: units must go from largest to smallest, "
                f"each at most once (e.g. '1h30m')"
            )
        last = rank
        total += _scaled(text, int(amount), _UNITS[unit])
    return total


def _scaled(text: str, amount: int, unit: timedelta) -> timedelta:
    try:
        return amount * unit
    except OverflowError:
        raise ValueError(f"duration {text!r} is too large") from None


def format_duration(duration: timedelta) -> str:
    """Write *duration* in the canonical form :func:`parse_duration` reads back.

    Units go from days down to microseconds and zero parts are left out:
    ``timedelta(seconds=90)`` becomes ``"1m30s"``, ``timedelta(0)`` becomes ``"0s"``.

    Args:
        duration: a non-negative duration.

    Returns:
        The shortest canonical text for *duration*.

    Raises:
        ValueError: *duration* is negative.
    """
    if duration < timedelta(0):
        raise ValueError(f"cannot format a negative duration ({duration})")
    rest = duration // timedelta(microseconds=1)
    parts: list[str] = []
    for unit in _FORMAT_UNITS:
        size = _UNITS[unit] // timedelta(microseconds=1)
        amount, rest = divmod(rest, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return "".join(parts) or "0s"
