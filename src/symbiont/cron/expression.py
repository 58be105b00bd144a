"""Cron expressions: parsing, the next fire times, and plain-English descriptions."""

from __future__ import annotations

from bisect import bisect_left
from datetime import UTC, datetime, timedelta, tzinfo
from datetime import timezone as fixed_zone
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from symbiont.core.errors import CronError
from symbiont.cron._days import NO_DAYS, check_days_possible, day_rule
from symbiont.cron._describe import describe
from symbiont.cron._dst import Clock, Moment, ZoneRules, next_in_zone, rules_for
from symbiont.cron.fields import ParsedField, parse_fields

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ("CronExpression",)

_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_FIELD_COUNTS = "5 (minute hour day-of-month month day-of-week), 6 (second first) or 7 (+ year)"
_FIXED_NAMES = frozenset(
    {"UTC", "UCT", "GMT", "GMT0", "GMT+0", "GMT-0", "Greenwich", "Universal", "Zulu"}
)
# Without a year field a match repeats every 400 years (the Gregorian cycle), so the search
# can stop there; with one it stops after the last listed year.
_CYCLE_YEARS = 400
_MAX_YEAR = 9999
_CACHE_LIMIT = 1024
_MISSING = timedelta.max
_NO_MEMO = object()  # equal to nothing, so the first call never takes the remembered path


def _zone(name: str, expression: str) -> tuple[ZoneInfo, tzinfo | None]:
    """Resolve *name*; the second item is a fixed offset when the zone never changes."""
    try:
        return _lookup_zone(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise CronError(
            expression,
            "unknown time zone",
            token=str(name),
            allowed="an IANA time zone name such as 'Europe/Berlin' or 'UTC'",
        ) from exc


@lru_cache(maxsize=256)
def _lookup_zone(name: str) -> tuple[ZoneInfo, tzinfo | None]:
    zone = ZoneInfo(name)
    if name in _FIXED_NAMES or name.startswith("Etc/"):
        offset = datetime(2000, 1, 1, tzinfo=zone).utcoffset()
        return zone, UTC if not offset else fixed_zone(offset)
    return zone, None


def _split(expression: str) -> list[str]:
    """Split *expression* into 6 or 7 field texts, expanding macros and 5-field forms."""
    if not isinstance(expression, str):
        msg = f"a cron expression is a str, not {type(expression).__name__}"
        raise TypeError(msg)
    text = expression.strip()
    if not text:
        raise CronError(expression, "empty expression", allowed=f"{_FIELD_COUNTS} fields")
    if text.startswith("@"):
        macro = _MACROS.get(text.lower())
        if macro is None:
            raise CronError(expression, "unknown macro", token=text, allowed=", ".join(_MACROS))
        text = macro
    parts = text.split()
    if len(parts) == 5:  # noqa: PLR2004 - the classic five-field form
        return ["0", *parts]
    if len(parts) not in {6, 7}:
        raise CronError(
            expression,
            "wrong number of fields",
            token=f"{len(parts)} fields",
            allowed=_FIELD_COUNTS,
        )
    return parts


class CronExpression:
    """A parsed cron expression in a time zone, which computes its fire times.

    Build one with :meth:`parse`. Fire times are aware UTC datetimes, strictly increasing.
    The semantics (fields, special characters, DST) are described in ``docs/cron.md``.

    Attributes:
        expression: the expression as given.
        timezone: the IANA name of the zone its wall-clock fields are read in.
    """

    __slots__ = (
        "_day_rule",
        "_fields",
        "_first_time",
        "_fixed",
        "_hours",
        "_memo",
        "_minutes",
        "_months",
        "_repeat_all",
        "_rules",
        "_seconds",
        "_seed",
        "_tables",
        "_years",
        "expression",
        "timezone",
    )

    def __init__(self, expression: str, timezone: str = "UTC", *, seed: str | None = None) -> None:
        """Parse *expression*; see :meth:`parse`."""
        parts = _split(expression)
        fields = parse_fields(parts, expression, seed)
        second, minute, hour, dom, month, dow = fields[:6]
        check_days_possible(dom, dow, month.values, expression)
        zone, self._fixed = _zone(timezone, expression)
        self._rules: ZoneRules | None = None if self._fixed is not None else rules_for(zone)
        self.expression = expression
        self.timezone = timezone
        self._seed = seed
        self._fields: tuple[ParsedField, ...] = tuple(fields)
        self._seconds = second.values
        self._minutes = minute.values
        self._hours = hour.values
        self._months = month.values
        self._years = fields[6].values if len(fields) > 6 else None  # noqa: PLR2004 - year
        self._day_rule = day_rule(dom, dow)
        self._first_time = (hour.values[0], minute.values[0], second.values[0])
        self._repeat_all = hour.text == "*" or "/" in hour.text
        self._tables: dict[int, tuple[int, ...]] = {}
        self._memo: tuple[object, tuple[int, int, int, Clock]] = (_NO_MEMO, (1, 1, 1, (0, 0, 0)))

    @classmethod
    def parse(
        cls, expression: str, timezone: str = "UTC", *, seed: str | None = None
    ) -> CronExpression:
        """Parse a cron expression.

        Args:
            expression: 5 fields (``min hour dom month dow``), 6 (seconds first), 7 (and a
                year last), or a macro such as ``@daily``.
            timezone: the IANA zone the fields are read in.
            seed: what ``H`` hashes to pick its values, usually the job name; defaults to
                the expression text with its whitespace normalized.

        Returns:
            The parsed expression.

        Raises:
            CronError: the expression or the zone is invalid, or no day can ever match.
        """
        return cls(expression, timezone, seed=seed)

    def __repr__(self) -> str:
        """Show how to build the same expression."""
        seed = "" if self._seed is None else f", seed={self._seed!r}"
        return f"CronExpression({self.expression!r}, timezone={self.timezone!r}{seed})"

    def __eq__(self, other: object) -> bool:
        """Compare by expression text, zone and seed."""
        if not isinstance(other, CronExpression):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        """Hash by expression text, zone and seed."""
        return hash(self._key())

    def _key(self) -> tuple[str, str, str | None]:
        return (self.expression, self.timezone, self._seed)

    def describe(self) -> str:
        """Return a plain-English description, such as ``At 09:00:00, every day (UTC)``."""
        return describe(self._fields, self.timezone)

    def next(self, after: datetime) -> datetime | None:
        """Return the first fire time strictly after *after*.

        Args:
            after: an aware datetime, in any zone.

        Returns:
            An aware UTC datetime, or ``None`` when the expression never fires again.

        Raises:
            TypeError: *after* is not an aware datetime.
        """
        memo = self._memo
        try:
            if memo[0] is after or (getattr(after, "tzinfo", None) is UTC and memo[0] == after):
                # *after* is the fire time returned last (the usual call of a scheduler, which
                # asks for the run after the previous one): its wall clock is already known.
                return self._emit(self._find(*memo[1]), after)
            return self._next_cold(after)
        except OverflowError:  # the search ran into the end of the datetime range
            return None

    def iter(self, after: datetime) -> Iterator[datetime]:
        """Yield the fire times after *after*, in order, until there are no more.

        Args:
            after: an aware datetime, in any zone.

        Yields:
            Aware UTC datetimes, strictly increasing.
        """
        moment = self.next(after)
        while moment is not None:
            yield moment
            moment = self.next(moment)

    def _next_cold(self, after: datetime) -> datetime | None:
        if not isinstance(after, datetime):
            msg = f"after must be an aware datetime, not {type(after).__name__}"
            raise TypeError(msg)
        tz = after.tzinfo
        rules = self._rules
        zone = self._fixed if rules is None else rules.zone
        if tz is not UTC and tz is not zone and (tz is None or after.utcoffset() is None):
            msg = f"after must be an aware datetime, not the naive {after.isoformat()}"
            raise TypeError(msg)
        local = after if tz is zone else after.astimezone(zone)
        year, month, day = local.year, local.month, local.day
        if rules is not None:
            offset = rules.day_offsets.get((year * 16 + month) * 32 + day, _MISSING)
            if offset is _MISSING:
                offset = rules.day_offset(year, month, day)
            if offset is None or local.fold:
                # The day holds a DST transition: take the careful path.
                return next_in_zone(self._find, rules, after, repeat_all=self._repeat_all)
        found = self._find(year, month, day, (local.hour, local.minute, local.second + 1))
        return self._emit(found, after)

    def _emit(self, found: Moment | None, after: datetime) -> datetime | None:
        """Turn the wall time *found* into the UTC fire time, and remember it for the next call."""
        if found is None:
            return None
        year, month, day, hour, minute, second = found
        rules = self._rules
        if rules is None:
            result = datetime(year, month, day, hour, minute, second, tzinfo=self._fixed)
            if self._fixed is not UTC:
                result = result.astimezone(UTC)
        else:
            offset = rules.day_offsets.get((year * 16 + month) * 32 + day, _MISSING)
            if offset is _MISSING:
                offset = rules.day_offset(year, month, day)
            if offset is None:
                return next_in_zone(self._find, rules, after, repeat_all=self._repeat_all)
            result = datetime(year, month, day, hour, minute, second, tzinfo=UTC) - offset
        self._memo = (result, (year, month, day, (hour, minute, second + 1)))
        return result

    def _find(self, year: int, month: int, day: int, clock: Clock) -> Moment | None:
        """Return the first matching wall time at or after the given one (fields may overflow).

        Each allowed (year, month) has a cached table: entry *d* is the first allowed day at
        or after *d*, or 0 when the month has none left.
        """
        table = self._tables.get(year * 16 + month)
        if table is None:
            table = self._table(year, month)
        following = table[day]
        if following == day:
            time = self._time_from(*clock)
            if time is not None:
                return (year, month, day, *time)
            following = table[day + 1]
        if following:
            return (year, month, following, *self._first_time)
        date = self._later_month(year, month)
        return None if date is None else (*date, *self._first_time)

    def _table(self, year: int, month: int) -> tuple[int, ...]:
        """Build (and cache) the next-allowed-day table of one month."""
        years = self._years
        if month not in self._months or (years is not None and year not in years):
            table = NO_DAYS
        else:
            table = self._day_rule.table(year, month)
        if len(self._tables) >= _CACHE_LIMIT:
            self._tables.clear()
        self._tables[year * 16 + month] = table
        return table

    def _later_month(self, year: int, month: int) -> tuple[int, int, int] | None:
        """Return the first allowed date in a month after (*year*, *month*), or ``None``."""
        months = self._months
        years = self._years
        limit = min(year + _CYCLE_YEARS if years is None else years[-1], _MAX_YEAR)
        month += 1
        while year <= limit:
            if years is not None:
                index = bisect_left(years, year)
                if years[index] != year:
                    year, month = years[index], 1
            index = bisect_left(months, month)
            if index == len(months):
                year, month = year + 1, 1
                continue
            month = months[index]
            table = self._tables.get(year * 16 + month)
            if table is None:
                table = self._table(year, month)
            if table[1]:
                return year, month, table[1]
            month += 1
        return None

    def _time_from(self, hour: int, minute: int, second: int) -> Clock | None:
        """Return the first allowed time of day at or after the given one, or ``None``."""
        hours, minutes, seconds = self._hours, self._minutes, self._seconds
        index = bisect_left(hours, hour)
        if index < len(hours) and hours[index] == hour:
            position = bisect_left(minutes, minute)
            if position < len(minutes) and minutes[position] == minute:
                offset = bisect_left(seconds, second)
                if offset < len(seconds):
                    return hour, minute, seconds[offset]
                position += 1
            if position < len(minutes):
                return hour, minutes[position], seconds[0]
            index += 1
        if index < len(hours):
            return hours[index], minutes[0], seconds[0]
        return None
