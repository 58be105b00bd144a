"""The fields of a cron expression: their ranges, names, and the parser of one field's text."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple, NoReturn

from symbiont.core.errors import CronError

__all__ = (
    "DAY_OF_MONTH",
    "DAY_OF_WEEK",
    "FIELDS",
    "HOUR",
    "MINUTE",
    "MONTH",
    "SECOND",
    "YEAR",
    "DaySpecial",
    "FieldSpec",
    "ParsedField",
    "SpecialKind",
    "parse_fields",
)

_MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


@dataclass(frozen=True, slots=True, eq=False)
class FieldSpec:
    """The static description of one cron field (compared by identity: there are seven)."""

    name: str
    """The field's name in error messages (``"day of month"``)."""
    low: int
    """The smallest value."""
    high: int
    """The largest value (7 for day of week, where 7 is another Sunday)."""
    cycle_high: int
    """The largest value of one cycle: ``*`` and wrapping ranges stop here (6 for day of week)."""
    names: tuple[str, ...] = ()
    """Symbolic names, the first one standing for ``low``."""
    hash_low: int | None = None
    """The lowest value ``H`` may pick, when it differs from ``low``."""
    hash_high: int | None = None
    """The highest value ``H`` may pick, when it differs from ``cycle_high``."""

    @property
    def allowed(self) -> str:
        """The allowed values, as error messages show them."""
        if self.names:
            return f"{self.low}-{self.high} or {self.names[0]}-{self.names[-1]}"
        return f"{self.low}-{self.high}"


SECOND = FieldSpec("second", 0, 59, 59)
MINUTE = FieldSpec("minute", 0, 59, 59)
HOUR = FieldSpec("hour", 0, 23, 23)
DAY_OF_MONTH = FieldSpec("day of month", 1, 31, 31, hash_high=28)
MONTH = FieldSpec("month", 1, 12, 12, _MONTH_NAMES)
DAY_OF_WEEK = FieldSpec("day of week", 0, 7, 6, _DAY_NAMES)
YEAR = FieldSpec("year", 1970, 2199, 2199)


class SpecialKind(StrEnum):
    """The day forms that a plain set of values cannot express."""

    last_day = "last_day"
    """``L`` or ``L-n`` in day of month: *value* days before the last day."""
    nearest_weekday = "nearest_weekday"
    """``nW`` in day of month: the weekday nearest to day *value*."""
    last_weekday = "last_weekday"
    """``LW`` in day of month: the last Monday-to-Friday day of the month."""
    nth_weekday = "nth_weekday"
    """``d#n`` in day of week: the *nth* weekday *value* of the month."""
    last_of_weekday = "last_of_weekday"
    """``dL`` in day of week: the last weekday *value* of the month."""


class DaySpecial(NamedTuple):
    """One special day item (``L-3``, ``15W``, ``5#3``...)."""

    kind: SpecialKind
    value: int = 0
    nth: int = 0


class ParsedField(NamedTuple):
    """One field of an expression, parsed."""

    spec: FieldSpec
    """The field this is."""
    text: str
    """The field as written (upper-cased)."""
    values: tuple[int, ...]
    """The plain values, sorted, without duplicates (a day-of-week 7 becomes 0)."""
    specials: tuple[DaySpecial, ...] = ()
    """The special day items, in day of month and day of week only."""

    @property
    def is_any(self) -> bool:
        """Whether the field is ``*`` or ``?``, so that it does not restrict anything."""
        return self.text in {"*", "?"}


def _quick_table(spec: FieldSpec) -> dict[str, ParsedField]:
    """The parsed form of the most common texts of *spec*: ``*`` and each plain value."""
    table = {
        str(value): ParsedField(spec, str(value), (value % 7 if spec is DAY_OF_WEEK else value,))
        for value in range(spec.low, spec.high + 1)
    }
    if spec is not YEAR:
        table["*"] = ParsedField(spec, "*", tuple(range(spec.low, spec.cycle_high + 1)))
    if spec in {DAY_OF_MONTH, DAY_OF_WEEK}:
        table["?"] = ParsedField(spec, "?", table["*"].values)
    return table


FIELDS = (SECOND, MINUTE, HOUR, DAY_OF_MONTH, MONTH, DAY_OF_WEEK, YEAR)
"""The fields of a full seven-field expression, in order."""
_QUICK = tuple(_quick_table(spec) for spec in FIELDS)


def parse_fields(texts: list[str], expression: str, seed: str | None) -> list[ParsedField]:
    """Parse the texts of six or seven fields (second first).

    Args:
        texts: one text per field, in the order of :data:`FIELDS`.
        expression: the whole expression, for error messages.
        seed: what ``H`` hashes, with the field name, to pick its values; ``None`` means
            the expression text with its whitespace normalized.

    Returns:
        The parsed fields.

    Raises:
        CronError: a text is not a valid value of its field.
    """
    fields = []
    for quick, spec, text in zip(_QUICK, FIELDS, texts, strict=False):
        field = quick.get(text)
        if field is None:
            field = _FieldParser(spec, expression, seed, text).parse(text.upper())
        fields.append(field)
    return fields


class _FieldParser:
    """Parses the general form of one field: lists of values, ranges, steps and specials."""

    __slots__ = ("_expression", "_original", "_seed", "_spec")

    def __init__(self, spec: FieldSpec, expression: str, seed: str | None, original: str) -> None:
        self._spec = spec
        self._expression = expression
        self._seed = seed
        self._original = original

    def parse(self, text: str) -> ParsedField:
        spec = self._spec
        is_day = spec in {DAY_OF_MONTH, DAY_OF_WEEK}
        if text == "?":
            if not is_day:
                self._fail("'?' is only allowed in day of month and day of week", text)
            return ParsedField(spec, text, _QUICK[FIELDS.index(spec)]["*"].values)
        values: set[int] = set()
        specials: list[DaySpecial] = []
        for item in text.split(","):
            if not item:
                self._fail("empty item in a list", text)
            special = self._special(item) if is_day else None
            if special is not None:
                specials.append(special)
            elif item.startswith("H"):
                values.update(self._hashed(item))
            else:
                values.update(self._range(item))
        if spec is DAY_OF_WEEK:
            values = {value % 7 for value in values}
        return ParsedField(spec, text, tuple(sorted(values)), tuple(dict.fromkeys(specials)))

    def _fail(self, problem: str, token: str, allowed: str | None = None) -> NoReturn:
        # The parser works on the upper-cased field: quote the token as the user wrote it.
        start = self._original.upper().find(token)
        if start >= 0 and len(self._original.upper()) == len(self._original):
            token = self._original[start : start + len(token)]
        raise CronError(
            self._expression,
            problem,
            field=self._spec.name,
            token=token,
            allowed=self._spec.allowed if allowed is None else allowed,
        )

    def _number(self, text: str, token: str, low: int, high: int, what: str = "value") -> int:
        if not (text.isdigit() and text.isascii()):
            self._fail(f"invalid {what}", token, f"{low}-{high}")
        value = int(text)
        if not low <= value <= high:
            self._fail(f"{what} out of range", token, f"{low}-{high}")
        return value

    def _value(self, text: str) -> int:
        spec = self._spec
        if text.isdigit() and text.isascii():
            return self._number(text, text, spec.low, spec.high)
        if text in spec.names:
            return spec.low + spec.names.index(text)
        if text == "?":
            self._fail("'?' must be the whole field", text)
        if spec not in {DAY_OF_MONTH, DAY_OF_WEEK}:
            self._misplaced(text)
        return self._fail("unknown name" if text.isalpha() else "invalid value", text)

    def _misplaced(self, text: str) -> None:
        """Fail with a precise message when *text* is a day form used in another field."""
        if "#" in text:
            self._fail("'#' is only allowed in day of week", text)
        day_form = text[:-1].isdigit() and text[-1] in "LW"
        if text in {"L", "LW"} or text.startswith("L-") or day_form:
            letter = "W" if text.endswith("W") else "L"
            where = "day of month" if letter == "W" else "day of month and day of week"
            self._fail(f"'{letter}' is only allowed in {where}", text)

    def _step(self, text: str, item: str) -> int:
        size = self._spec.cycle_high - self._spec.low + 1
        return self._number(text, item, 1, size, "step")

    def _range(self, item: str) -> list[int]:
        spec = self._spec
        base, slash, step_text = item.partition("/")
        step = self._step(step_text, item) if slash else 1
        if base == "*":
            return list(range(spec.low, spec.cycle_high + 1, step))
        first_text, dash, last_text = base.partition("-")
        if not first_text or (dash and not last_text):
            self._fail("invalid range", item)
        first = self._value(first_text)
        # "a/n" runs to the field's maximum: 7 in day of week, so 1/2 ends on Sunday (Vixie).
        last = first if not dash and not slash else spec.high
        if dash:
            last = self._value(last_text)
        return self._span(first, last)[::step]

    def _span(self, first: int, last: int) -> list[int]:
        spec = self._spec
        if spec is DAY_OF_WEEK and first == 7:  # noqa: PLR2004 - 7 is the second Sunday
            first = 0
            last = 0 if last == 7 else last  # noqa: PLR2004 - same
        if first <= last:
            return list(range(first, last + 1))
        # A range like FRI-MON or 22-2 wraps around the end of the cycle (as in Quartz).
        return [*range(first, spec.cycle_high + 1), *range(spec.low, last + 1)]

    def _hashed(self, item: str) -> list[int]:
        spec = self._spec
        if spec is YEAR:
            self._fail("'H' is not allowed in the year field", item)
        low = spec.low if spec.hash_low is None else spec.hash_low
        high = spec.cycle_high if spec.hash_high is None else spec.hash_high
        body, slash, step_text = item[1:].partition("/")
        if body:
            if not (body.startswith("(") and body.endswith(")")):
                self._fail("invalid hashed value", item, "H, H/n, H(a-b) or H(a-b)/n")
            first_text, dash, last_text = body[1:-1].partition("-")
            if not dash:
                self._fail("invalid hashed range", item, "H(a-b) with a <= b")
            low, high = self._value(first_text), self._value(last_text)
            if low > high:
                self._fail("reversed hashed range", item, "H(a-b) with a <= b")
        seed = " ".join(self._expression.split()) if self._seed is None else self._seed
        digest = hashlib.blake2b(f"{seed}\x00{spec.name}".encode(), digest_size=8).digest()
        hashed = int.from_bytes(digest, "big")
        if not slash:
            return [low + hashed % (high - low + 1)]
        step = self._step(step_text, item)
        return list(range(low + hashed % step, high + 1, step))

    def _special(self, item: str) -> DaySpecial | None:
        if self._spec is DAY_OF_MONTH:
            return self._month_day_special(item)
        return self._week_day_special(item)

    def _month_day_special(self, item: str) -> DaySpecial | None:
        if item == "L":
            return DaySpecial(SpecialKind.last_day)
        if item == "LW":
            return DaySpecial(SpecialKind.last_weekday)
        if item.startswith("L-"):
            offset = self._number(item[2:], item, 0, 30, "offset from the last day")
            return DaySpecial(SpecialKind.last_day, offset)
        if item.endswith("W") and len(item) > 1:
            day = self._number(item[:-1], item, 1, 31, "day before 'W'")
            return DaySpecial(SpecialKind.nearest_weekday, day)
        if "L" in item or "W" in item:
            self._fail("invalid use of 'L' or 'W'", item, "L, L-n, nW or LW")
        if "#" in item:
            self._fail("'#' is only allowed in day of week", item)
        return None

    def _week_day_special(self, item: str) -> DaySpecial | None:
        if "#" in item:
            day_text, _, nth_text = item.partition("#")
            day = self._value(day_text) % 7
            return DaySpecial(
                SpecialKind.nth_weekday, day, self._number(nth_text, item, 1, 5, "occurrence")
            )
        if item == "L":
            self._fail("'L' in day of week needs a day before it", item, "dL such as 5L or FRIL")
        if item.endswith("L") and "-" not in item and "/" not in item:
            return DaySpecial(SpecialKind.last_of_weekday, self._value(item[:-1]) % 7)
        if item == "LW" or (item.endswith("W") and item[:-1].isdigit()):
            self._fail("'W' is only allowed in day of month", item)
        return None
