"""An independent, deliberately simple model of cron matching, for tests only.

Nothing here is fast or clever: each check looks at one date or one wall time directly,
with the calendar module, so that it is easy to trust. Searches walk day by day (UTC) or
minute by minute (DST zones). The tests compare the engine's results with it.
"""

from __future__ import annotations

import calendar
import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
# field: (low, high, names, last value of one cycle, where * and wrapping ranges stop)
RANGES = {
    "second": (0, 59, (), 59),
    "minute": (0, 59, (), 59),
    "hour": (0, 23, (), 23),
    "dom": (1, 31, (), 31),
    "month": (1, 12, MONTHS, 12),
    "dow": (0, 7, DAYS, 6),
    "year": (1970, 2199, (), 2199),
}
NAMES = ("second", "minute", "hour", "dom", "month", "dow", "year")


def fields_of(expression: str) -> dict[str, str]:
    """Split an expression into named field texts (second, minute, ..., year)."""
    text = MACROS.get(expression.strip().lower(), expression).upper().split()
    if len(text) == 5:
        text = ["0", *text]
    return dict(zip(NAMES, text, strict=False))


def _number(text: str, field: str) -> int:
    low, _, names, _ = RANGES[field]
    return low + names.index(text) if text in names else int(text)


def values(text: str, field: str) -> set[int]:
    """The plain values of a field text (no L, W, #)."""
    low, high, _, cycle = RANGES[field]
    result: set[int] = set()
    for item in text.split(","):
        base, _, step_text = item.partition("/")
        step = int(step_text) if step_text else 1
        if base in {"*", "?"}:
            sequence = list(range(low, cycle + 1))
        elif "-" in base:
            first, last = (_number(part, field) for part in base.split("-"))
            if field == "dow" and first == 7:
                first, last = 0, (0 if last == 7 else last)
            if first <= last:
                sequence = list(range(first, last + 1))
            else:  # wraps around the end of the cycle
                sequence = list(range(first, cycle + 1)) + list(range(low, last + 1))
        else:
            first = _number(base, field)
            sequence = list(range(first, (high if step_text else first) + 1))
        result.update(sequence[::step])
    if field == "dow":
        result = {value % 7 for value in result}
    return result


def _last_day(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def _nearest_weekday(year: int, month: int, target: int) -> int | None:
    last = calendar.monthrange(year, month)[1]
    if target > last:
        return None
    weekday = date(year, month, target).weekday()  # Monday = 0
    if weekday == 5:  # Saturday: the Friday before, unless that leaves the month
        return target - 1 if target > 1 else target + 2
    if weekday == 6:  # Sunday: the Monday after, unless that leaves the month
        return target + 1 if target < last else target - 2
    return target


def dom_item_matches(item: str, day: date) -> bool:
    """Whether one day-of-month item (``L``, ``L-n``, ``LW``, ``nW`` or plain) matches."""
    last = _last_day(day)
    if item == "L":
        return day.day == last
    if item.startswith("L-"):
        return day.day == last - int(item[2:])
    if item == "LW":
        candidate = last
        while date(day.year, day.month, candidate).weekday() >= 5:
            candidate -= 1
        return day.day == candidate
    if item.endswith("W"):
        return day.day == _nearest_weekday(day.year, day.month, int(item[:-1]))
    return day.day in values(item, "dom")


def dow_item_matches(item: str, day: date) -> bool:
    """Whether one day-of-week item (``d#n``, ``dL`` or plain) matches."""
    weekday = (day.weekday() + 1) % 7  # Sunday = 0
    if "#" in item:
        name, _, nth = item.partition("#")
        return weekday == _number(name, "dow") % 7 and (day.day - 1) // 7 + 1 == int(nth)
    if item.endswith("L"):
        return weekday == _number(item[:-1], "dow") % 7 and day.day + 7 > _last_day(day)
    return weekday in values(item, "dow")


class Reference:
    """One expression, interpreted the slow and obvious way."""

    def __init__(self, expression: str) -> None:
        """Split *expression* and expand its time-of-day fields."""
        self.fields = fields_of(expression)
        self.seconds = sorted(values(self.fields["second"], "second"))
        self.minutes = sorted(values(self.fields["minute"], "minute"))
        self.hours = sorted(values(self.fields["hour"], "hour"))
        hour = self.fields["hour"]
        self.repeats_both = hour == "*" or "/" in hour

    def day_matches(self, day: date) -> bool:
        """Whether *day* passes day of month, month, day of week and year (Vixie OR)."""
        fields = self.fields
        if day.month not in values(fields["month"], "month"):
            return False
        if "year" in fields and day.year not in values(fields["year"], "year"):
            return False
        dom, dow = fields["dom"], fields["dow"]
        dom_ok = any(dom_item_matches(item, day) for item in dom.split(","))
        dow_ok = any(dow_item_matches(item, day) for item in dow.split(","))
        dom_any, dow_any = dom in {"*", "?"}, dow in {"*", "?"}
        if dom_any or dow_any:
            return (dom_any or dom_ok) and (dow_any or dow_ok)
        return dom_ok or dow_ok

    def matches(self, wall: datetime) -> bool:
        """Whether the wall-clock fields of *wall* match."""
        return (
            wall.second in self.seconds
            and wall.minute in self.minutes
            and wall.hour in self.hours
            and self.day_matches(wall.date())
        )

    def next_utc(self, after: datetime, days: int) -> datetime | None:
        """The first match strictly after *after* (UTC), looking *days* days ahead at most."""
        start = after.astimezone(UTC)
        for offset in range(days + 1):
            day = start.date() + timedelta(days=offset)
            if not self.day_matches(day):
                continue
            for hour, minute, second in itertools.product(self.hours, self.minutes, self.seconds):
                moment = datetime.combine(day, time(hour, minute, second), tzinfo=UTC)
                if moment > start:
                    return moment
        return None

    def fires_in_zone(self, zone: str, start: datetime, end: datetime) -> list[datetime]:
        """Fire instants in (start, end], scanning every minute (the seconds must be just 0).

        DST rules: a wall time that occurs twice fires at its first occurrence only (at both
        when the hour field is * or a step); the wall times skipped by a gap fire once, at
        the instant the gap ends.
        """
        assert self.seconds == [0]
        tz = ZoneInfo(zone)
        fires = []
        instant = start.astimezone(UTC).replace(second=0, microsecond=0)
        previous = instant.astimezone(tz)
        while instant < end:
            instant += timedelta(minutes=1)
            local = instant.astimezone(tz)
            wall = local.replace(tzinfo=None)
            fire = self.matches(wall) and (local.fold == 0 or self.repeats_both)
            gap = local.utcoffset() - previous.utcoffset()
            if gap > timedelta(0):  # spring forward: the walls just skipped fire now
                skipped = wall - gap
                while not fire and skipped < wall:
                    fire = self.matches(skipped)
                    skipped += timedelta(minutes=1)
            if fire and start < instant <= end:
                fires.append(instant)
            previous = local
        return fires
