"""The days of a month an expression allows: day of month, day of week, and their Vixie OR."""

from __future__ import annotations

from calendar import monthrange

from symbiont.core.errors import CronError
from symbiont.cron.fields import DAY_OF_MONTH, DaySpecial, ParsedField, SpecialKind

__all__ = ("NO_DAYS", "DayRule", "allowed_days", "check_days_possible", "day_rule")

_SATURDAY = 6
_SUNDAY = 0
_SHORTEST = 28
_LONGEST = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_EVERY_DAY = {length: tuple(range(1, length + 1)) for length in (28, 29, 30, 31)}
_TABLE_SIZE = 33  # entries 0-32: a search may start one day past the 31st

NO_DAYS = (0,) * _TABLE_SIZE
"""The :meth:`DayRule.table` of a month that allows no day."""


_RULE_LIMIT = 1024
_TABLE_LIMIT = 600  # fifty years of months


class DayRule:
    """The day part (day of month, day of week) of expressions, with cached month tables.

    Expressions with equal day fields share one rule (see :func:`day_rule`), so a new
    expression object starts with warm tables.
    """

    __slots__ = ("_dom", "_dow", "_tables")

    def __init__(self, dom: ParsedField, dow: ParsedField) -> None:
        """Wrap the two day fields."""
        self._dom = dom
        self._dow = dow
        self._tables: dict[int, tuple[int, ...]] = {}

    def table(self, year: int, month: int) -> tuple[int, ...]:
        """Return the next-allowed-day table of *month* in *year*.

        Entry *d* (0-32) is the first allowed day at or after *d*, or 0 when none is left, so
        the search finds the next day with one index instead of a scan.
        """
        key = year * 16 + month
        table = self._tables.get(key)
        if table is None:
            allowed = set(allowed_days(self._dom, self._dow, year, month))
            entries = [0] * _TABLE_SIZE
            following = 0
            for day in range(_TABLE_SIZE - 1, -1, -1):
                if day in allowed:
                    following = day
                entries[day] = following
            table = tuple(entries)
            if len(self._tables) >= _TABLE_LIMIT:
                self._tables.clear()
            self._tables[key] = table
        return table


_RULES: dict[object, DayRule] = {}


def day_rule(dom: ParsedField, dow: ParsedField) -> DayRule:
    """Return the shared :class:`DayRule` of these two day fields."""
    # Without H the texts decide the days; with H (or THU) the values do, so key on them.
    key: object = (dom.text, dow.text)
    if "H" in dom.text or "H" in dow.text:
        key = (dom, dow)
    rule = _RULES.get(key)
    if rule is None:
        if len(_RULES) >= _RULE_LIMIT:
            _RULES.clear()
        rule = _RULES[key] = DayRule(dom, dow)
    return rule


def allowed_days(dom: ParsedField, dow: ParsedField, year: int, month: int) -> tuple[int, ...]:
    """Return the sorted days of *month* in *year* that the two day fields allow.

    When both fields restrict the day, a day matches if either matches (Vixie cron); a field
    that is ``*`` or ``?`` leaves the choice to the other one.
    """
    weekday, length = monthrange(year, month)
    if dom.is_any and dow.is_any:
        return _EVERY_DAY[length]
    first = (weekday + 1) % 7  # cron numbering of the 1st: Sunday = 0
    days: set[int] = set()
    if not dom.is_any:
        days.update(_month_days(dom, length, first))
    if not dow.is_any:
        days.update(_week_days(dow, length, first))
    return tuple(sorted(days))


def _month_days(dom: ParsedField, length: int, first: int) -> list[int]:
    days = [day for day in dom.values if day <= length]
    for special in dom.specials:
        day = _month_special(special, length, first)
        if day is not None:
            days.append(day)
    return days


def _month_special(special: DaySpecial, length: int, first: int) -> int | None:
    if special.kind is SpecialKind.last_day:
        day = length - special.value
        return day if day >= 1 else None
    if special.kind is SpecialKind.last_weekday:
        return _nearest_weekday(length, length, first)
    if special.value > length:
        return None
    return _nearest_weekday(special.value, length, first)


def _nearest_weekday(day: int, length: int, first: int) -> int:
    """The Monday-to-Friday day nearest to *day*, without leaving the month (Quartz rules)."""
    weekday = (first + day - 1) % 7
    if weekday == _SATURDAY:
        return day - 1 if day > 1 else day + 2
    if weekday == _SUNDAY:
        return day + 1 if day < length else day - 2
    return day


def _week_days(dow: ParsedField, length: int, first: int) -> list[int]:
    days: list[int] = []
    for weekday in dow.values:
        days.extend(range(1 + (weekday - first) % 7, length + 1, 7))
    for special in dow.specials:
        start = 1 + (special.value - first) % 7
        if special.kind is SpecialKind.nth_weekday:
            day = start + 7 * (special.nth - 1)
            if day <= length:
                days.append(day)
        else:
            days.append(start + 7 * ((length - start) // 7))
    return days


def check_days_possible(
    dom: ParsedField, dow: ParsedField, months: tuple[int, ...], expression: str
) -> None:
    """Reject a day of month that no allowed month ever has, such as ``30`` with February.

    Only a day-of-month-only restriction can be impossible: any day of week occurs in every
    month (a fifth Friday in February of some leap year), and it is ORed with the day of month.

    Raises:
        CronError: no day allowed by *dom* exists in any of *months*.
    """
    if dom.is_any or not dow.is_any or (dom.values and dom.values[0] <= _SHORTEST):
        return
    longest = max(_LONGEST[month] for month in months)
    if dom.values and dom.values[0] <= longest:
        return
    for special in dom.specials:
        if special.kind is SpecialKind.last_weekday:
            return
        limit = longest - 1 if special.kind is SpecialKind.last_day else longest
        if special.value <= limit:
            return
    raise CronError(
        expression,
        "day never occurs in the allowed months",
        field=DAY_OF_MONTH.name,
        token=dom.text,
        allowed=f"1-{longest} in those months",
    )
