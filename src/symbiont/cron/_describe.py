"""Plain-English descriptions of parsed cron expressions."""

from __future__ import annotations

from itertools import pairwise
from typing import TYPE_CHECKING, NamedTuple

from symbiont.cron.fields import DaySpecial, ParsedField, SpecialKind

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = ("describe",)

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_ORDINALS = ("first", "second", "third", "fourth", "fifth")
_MAX_CLOCK_TIMES = 4
_MIN_RUN = 3
_YEAR = 6


class _Shape(NamedTuple):
    """How a set of values reads: every value, one, a range, a wrapping range, a step, a list."""

    kind: str
    first: int = 0
    last: int = 0
    step: int = 1


def describe(fields: Sequence[ParsedField], zone: str) -> str:
    """Describe the fields (second ... day of week, then year if any) read in *zone*.

    Example: ``At 09:00:00, Monday through Friday (Europe/Berlin)``.
    """
    second, minute, hour, dom, month, dow = fields[:6]
    time, is_clock = _time(second, minute, hour)
    parts = [time]
    if not (dom.is_any and dow.is_any):
        parts.append(_day(dom, dow))
    elif is_clock:
        parts.append("every day")
    if not month.is_any:
        parts.append(_months(month))
    if len(fields) > _YEAR and not fields[_YEAR].is_any:
        parts.append(_unit(fields[_YEAR], "year", 1970, 2199).replace("year ", "only in ", 1))
    return f"{', '.join(parts)} ({zone})"


def _join(words: Sequence[str]) -> str:
    if len(words) == 1:
        return words[0]
    return f"{', '.join(words[:-1])} and {words[-1]}"


def _shape(values: tuple[int, ...], low: int, high: int) -> _Shape:
    if len(values) == high - low + 1:
        return _Shape("all", low, high)
    if len(values) == 1:
        return _Shape("one", values[0], values[0])
    gaps = [(earlier, later) for earlier, later in pairwise(values) if later - earlier != 1]
    if not gaps:
        # Two neighbours read better as a list: "9 and 10", not "9 through 10".
        return _Shape("range" if len(values) >= _MIN_RUN else "list", values[0], values[-1])
    if len(gaps) == 1 and values[0] == low and values[-1] == high:
        # Contiguous across the end of the cycle, such as hours 22-2 or FRI-MON.
        return _Shape("wrap", gaps[0][1], gaps[0][0])
    step = values[1] - values[0]
    if len(values) >= _MIN_RUN and all(
        later - earlier == step for earlier, later in pairwise(values)
    ):
        return _Shape("step", values[0], values[-1], step)
    return _Shape("list", values[0], values[-1])


def _unit(
    field: ParsedField, unit: str, low: int, high: int, name: Callable[[int], str] = str
) -> str:
    """Phrase one field: ``every minute``, ``every 15 minutes``, ``hours 9 through 17``..."""
    shape = _shape(field.values, low, high)
    if shape.kind == "all":
        return f"every {unit}"
    if shape.kind == "one":
        return f"{unit} {name(shape.first)}"
    if shape.kind in {"range", "wrap"}:
        return f"{unit}s {name(shape.first)} through {name(shape.last)}"
    if shape.kind == "step":
        if shape.first == low and shape.last + shape.step > high:
            return f"every {shape.step} {unit}s"
        first, last = name(shape.first), name(shape.last)
        return f"every {shape.step} {unit}s from {first} through {last}"
    return f"{unit}s {_join([name(value) for value in field.values])}"


def _time(second: ParsedField, minute: ParsedField, hour: ParsedField) -> tuple[str, bool]:
    """Phrase the time of day; the flag says whether it is a list of clock times."""
    single = len(second.values) == 1 and len(minute.values) == 1
    if single and len(hour.values) <= _MAX_CLOCK_TIMES:
        clock = f"{minute.values[0]:02d}:{second.values[0]:02d}"
        return "At " + _join([f"{value:02d}:{clock}" for value in hour.values]), True
    pieces = [
        _unit(second, "second", 0, 59),
        _unit(minute, "minute", 0, 59),
        _unit(hour, "hour", 0, 23),
    ]
    if second.values == (0,):
        pieces.pop(0)
    # "every 15 minutes" already implies "every hour": drop the coarser "every ...".
    kept = [
        piece
        for index, piece in enumerate(pieces)
        if not (piece.startswith("every ") and index and pieces[index - 1].startswith("every "))
    ]
    text = ", ".join(kept)
    return (text[0].upper() + text[1:] if text.startswith("every") else f"At {text}"), False


def _day(dom: ParsedField, dow: ParsedField) -> str:
    if dom.is_any:
        return _week_days(dow, alone=True)
    if dow.is_any:
        return _month_days(dom)
    return f"{_month_days(dom)} or {_week_days(dow, alone=False)}"


def _month_days(dom: ParsedField) -> str:
    phrases = []
    if dom.values:
        shape = _shape(dom.values, 1, 31)
        if shape.kind == "one":
            phrases.append(f"on day {shape.first} of the month")
        else:
            phrases.append(
                f"on {_unit(dom, 'day', 1, 31)} of the month".replace("on every", "every")
            )
    phrases.extend(_month_special(special) for special in dom.specials)
    return " and ".join(phrases)


def _month_special(special: DaySpecial) -> str:
    if special.kind is SpecialKind.last_weekday:
        return "on the last weekday of the month"
    if special.kind is SpecialKind.nearest_weekday:
        return f"on the weekday nearest day {special.value} of the month"
    if special.value == 0:
        return "on the last day of the month"
    days = "day" if special.value == 1 else "days"
    return f"{special.value} {days} before the last day of the month"


def _week_days(dow: ParsedField, *, alone: bool) -> str:
    phrases = []
    if dow.values:
        shape = _shape(dow.values, 0, 6)
        if shape.kind == "one":
            phrases.append(f"{'only ' if alone else ''}on {_DAYS[shape.first]}")
        elif shape.kind in {"range", "wrap"}:
            phrases.append(f"{_DAYS[shape.first]} through {_DAYS[shape.last]}")
        else:
            phrases.append(f"on {_join([_DAYS[value] for value in dow.values])}")
    for special in dow.specials:
        if special.kind is SpecialKind.nth_weekday:
            ordinal = _ORDINALS[special.nth - 1]
            phrases.append(f"on the {ordinal} {_DAYS[special.value]} of the month")
        else:
            phrases.append(f"on the last {_DAYS[special.value]} of the month")
    return " and ".join(phrases)


def _months(month: ParsedField) -> str:
    shape = _shape(month.values, 1, 12)
    if shape.kind == "one":
        return f"only in {_MONTHS[shape.first - 1]}"
    if shape.kind in {"range", "wrap"}:
        return f"{_MONTHS[shape.first - 1]} through {_MONTHS[shape.last - 1]}"
    if shape.kind == "step" and shape.first == 1 and shape.last + shape.step > len(_MONTHS):
        return f"every {shape.step} months"
    return f"in {_join([_MONTHS[value - 1] for value in month.values])}"
