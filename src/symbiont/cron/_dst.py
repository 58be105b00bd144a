"""Wall clock versus instants in a time zone: per-day offsets, DST gaps and repeated hours.

The search for fire times runs on local wall-clock fields. Most days have one UTC offset
all day long, and :meth:`ZoneRules.day_offset` says so from a small cache, so a wall time
converts to an instant with one subtraction. On a day with a transition, :func:`next_in_zone`
takes the careful path:

* a wall time inside a gap (spring forward) fires once, at the instant the gap ends;
* a wall time that occurs twice (fall back) fires at its first occurrence, and also at the
  second one when *repeat_all* is set (the hour field is ``*`` or a step).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

__all__ = ("Clock", "Finder", "Moment", "ZoneRules", "next_in_zone", "rules_for")

Moment = tuple[int, int, int, int, int, int]
"""A wall-clock time as (year, month, day, hour, minute, second)."""

Clock = tuple[int, int, int]
"""A time of day as (hour, minute, second)."""

Finder = Callable[[int, int, int, Clock], Moment | None]
"""Returns the first matching wall time at or after (year, month, day, clock), or ``None``."""

_EPOCH_UTC = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_WALL = datetime(1970, 1, 1)  # noqa: DTZ001 - wall-clock arithmetic on purpose
_SECOND = timedelta(seconds=1)
_ONE_DAY = timedelta(days=1)
_CACHE_LIMIT = 8192
_MISSING = timedelta.max


class ZoneRules:
    """Offsets of one IANA zone, with a cache of the days that hold no transition."""

    __slots__ = ("day_offsets", "zone")

    def __init__(self, zone: ZoneInfo) -> None:
        """Wrap *zone*."""
        self.zone = zone
        self.day_offsets: dict[int, timedelta | None] = {}
        """Cache of :meth:`day_offset`, keyed by ``(year * 16 + month) * 32 + day``."""

    def day_offset(self, year: int, month: int, day: int) -> timedelta | None:
        """Return the UTC offset of the whole local day, or ``None`` if it holds a transition."""
        key = (year * 16 + month) * 32 + day
        offset = self.day_offsets.get(key, _MISSING)
        if offset is _MISSING:
            offset = self._compute_day_offset(year, month, day)
            if len(self.day_offsets) >= _CACHE_LIMIT:
                self.day_offsets.clear()
            self.day_offsets[key] = offset
        return offset

    def _compute_day_offset(self, year: int, month: int, day: int) -> timedelta | None:
        # Both readings (fold 0 and 1) of both midnights, and noon, must agree: a repeated
        # interval or a gap may straddle midnight (America/Goose_Bay moved its clocks at
        # 00:01 until 2011), and comparing only one reading would miss it.
        try:
            following = date(year, month, day) + _ONE_DAY
        except OverflowError:
            return None
        zone = self.zone
        start = datetime(year, month, day, tzinfo=zone)
        noon = datetime(year, month, day, 12, tzinfo=zone)
        end = datetime(following.year, following.month, following.day, tzinfo=zone)
        offset = start.utcoffset()
        for moment in (start, end):
            if moment.utcoffset() != offset or moment.replace(fold=1).utcoffset() != offset:
                return None
        return offset if noon.utcoffset() == offset else None

    def offsets(self, wall: int) -> tuple[int, int]:
        """Return the offsets (in seconds) of *wall* read with ``fold=0`` and ``fold=1``.

        Equal offsets mean an ordinary time; the first larger means the wall time occurs
        twice (fall back); the first smaller means it does not exist (spring forward).
        """
        local = (_EPOCH_WALL + timedelta(seconds=wall)).replace(tzinfo=self.zone)
        return _seconds(local.utcoffset()), _seconds(local.replace(fold=1).utcoffset())

    def offset_at(self, instant: int) -> int:
        """Return the offset in seconds at *instant* (seconds since the epoch)."""
        return _seconds((_EPOCH_UTC + timedelta(seconds=instant)).astimezone(self.zone).utcoffset())

    def transition(self, before: int, after: int) -> int:
        """Return the instant of the one transition in ``(before, after]``, by bisection."""
        target = self.offset_at(after)
        while after - before > 1:
            middle = (before + after) // 2
            if self.offset_at(middle) == target:
                after = middle
            else:
                before = middle
        return after


@lru_cache(maxsize=128)
def rules_for(zone: ZoneInfo) -> ZoneRules:
    """Return the shared :class:`ZoneRules` of *zone*, so expressions share its day cache."""
    return ZoneRules(zone)


def _seconds(offset: timedelta | None) -> int:
    return 0 if offset is None else offset.days * 86400 + offset.seconds


def _find_wall(find: Finder, wall: int) -> int | None:
    moment = _EPOCH_WALL + timedelta(seconds=wall)
    clock = (moment.hour, moment.minute, moment.second)
    found = find(moment.year, moment.month, moment.day, clock)
    if found is None:
        return None
    return (datetime(*found) - _EPOCH_WALL) // _SECOND  # noqa: DTZ001 - wall clock


def _instant(seconds: int) -> datetime:
    return _EPOCH_UTC + timedelta(seconds=seconds)


def next_in_zone(
    find: Finder, rules: ZoneRules, after: datetime, *, repeat_all: bool
) -> datetime | None:
    """Return the first fire time strictly after *after*, handling gaps and repeated hours.

    Args:
        find: the expression's wall-clock search.
        rules: the expression's zone.
        after: an aware datetime.
        repeat_all: fire at both occurrences of a repeated wall time.

    Returns:
        The fire time in UTC, or ``None`` when there is none.
    """
    start = (after - _EPOCH_UTC) // _SECOND + 1
    local = _instant(start).astimezone(rules.zone)
    wall = (local.replace(tzinfo=None) - _EPOCH_WALL) // _SECOND
    first_offset, second_offset = rules.offsets(wall)
    if first_offset > second_offset:
        # *start* lies in a repeated interval: finish it before searching past its end.
        transition = rules.transition(wall - first_offset, wall - second_offset)
        end = transition + first_offset
        if local.fold == 0:
            found = _find_wall(find, wall)
            if found is not None and found < end:
                return _instant(found - first_offset)
        if repeat_all:
            found = _find_wall(find, wall if local.fold else transition + second_offset)
            if found is not None and found < end:
                return _instant(found - second_offset)
        wall = end
    return _resolve(find, rules, wall)


def _resolve(find: Finder, rules: ZoneRules, wall: int) -> datetime | None:
    """Return the instant of the first match at or after *wall*, outside any repeated interval."""
    found = _find_wall(find, wall)
    if found is None:
        return None
    first_offset, second_offset = rules.offsets(found)
    if first_offset >= second_offset:
        return _instant(found - first_offset)
    # A wall time in a gap fires when the gap ends.
    return _instant(rules.transition(found - second_offset, found - first_offset))
