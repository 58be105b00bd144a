"""Hypothesis properties: fire times match, increase, and are the first match.

The oracle is ``cron_reference.Reference``, a slow and obvious model: it checks one date or
one wall time at a time with the calendar module and walks day by day (UTC) or minute by
minute (DST zones).
"""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

from hypothesis import given, settings
from hypothesis import strategies as st

from symbiont.cron import CronExpression
from tests.unit.cron.cron_reference import DAYS, MONTHS, Reference

ZONES = ("UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe")
SETTINGS = settings(max_examples=200, deadline=None, derandomize=True)


def numbers(low: int, high: int) -> st.SearchStrategy[str]:
    """Plain items of a field: values, ranges (wrapping too), steps."""
    value = st.integers(low, high)
    step = st.integers(1, high - low + 1)
    return st.one_of(
        value.map(str),
        st.tuples(value, value).map(lambda pair: f"{pair[0]}-{pair[1]}"),
        st.tuples(value, value, step).map(lambda t: f"{t[0]}-{t[1]}/{t[2]}"),
        step.map(lambda n: f"*/{n}"),
        st.tuples(value, step).map(lambda pair: f"{pair[0]}/{pair[1]}"),
    )


def field(items: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A whole field: * or a list of one to three items."""
    return st.one_of(st.just("*"), st.lists(items, min_size=1, max_size=3).map(",".join))


month_items = st.one_of(
    numbers(1, 12),
    st.sampled_from(MONTHS).map(str.lower),
    st.tuples(st.sampled_from(MONTHS), st.sampled_from(MONTHS)).map("-".join),
)
dom_items = st.one_of(
    numbers(1, 28),
    st.sampled_from(["L", "LW", "L-1", "L-3", "1W", "15W", "30W", "31"]),
)
dow_items = st.one_of(
    numbers(0, 7),
    st.sampled_from(DAYS),
    st.tuples(st.integers(0, 7), st.integers(1, 5)).map(lambda pair: f"{pair[0]}#{pair[1]}"),
    st.sampled_from(["1L", "5L", "FRIL", "SUNL", "WEDL", "WED#2", "MON-FRI", "FRI-MON"]),
    st.tuples(st.sampled_from(DAYS), st.sampled_from(DAYS)).map("-".join),
)
day_fields = st.tuples(
    st.one_of(st.just("?"), field(dom_items)),
    field(month_items),
    st.one_of(st.just("?"), field(dow_items)),
)
instants = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2090, 1, 1),
    timezones=st.just(UTC),
)


@st.composite
def expressions(draw: st.DrawFn) -> str:
    """Any expression of 5, 6 or 7 fields that can fire (impossible days are filtered)."""
    dom, month, dow = draw(day_fields)
    clock = [draw(field(numbers(0, 59))), draw(field(numbers(0, 23)))]
    shape = draw(st.sampled_from([5, 6, 7]))
    if shape > 5:
        clock.insert(0, draw(field(numbers(0, 59))))
    year = [draw(field(numbers(2000, 2100)))] if shape == 7 else []
    return " ".join([*clock, dom, month, dow, *year])


def parses(expression: str) -> bool:
    """Whether the engine accepts *expression* (some drawn day fields can never match)."""
    try:
        CronExpression.parse(expression)
    except ValueError:
        return False
    return True


def fires_legitimately(reference: Reference, zone: str, moment: datetime) -> bool:
    """Whether a fire at *moment* is allowed: a matching wall time, or the end of a gap."""
    tz = ZoneInfo(zone)
    local = moment.astimezone(tz)
    wall = local.replace(tzinfo=None)
    if reference.matches(wall):
        return local.fold == 0 or reference.repeats_both
    gap = local.utcoffset() - (moment - timedelta(seconds=1)).astimezone(tz).utcoffset()
    skipped = (wall - gap + timedelta(seconds=second) for second in range(int(gap.total_seconds())))
    return gap > timedelta(0) and any(reference.matches(candidate) for candidate in skipped)


@SETTINGS
@given(expressions(), instants, st.sampled_from(ZONES))
def test_fire_times_match_and_increase(expression: str, after: datetime, zone: str) -> None:
    """Every fire time matches the expression (or ends a DST gap) and they strictly increase."""
    if not parses(expression):
        return
    cron = CronExpression.parse(expression, timezone=zone)
    reference = Reference(expression)
    previous = after
    for moment in itertools.islice(cron.iter(after), 8):
        assert moment.tzinfo is UTC
        assert moment > previous
        assert fires_legitimately(reference, zone, moment), (expression, zone, moment)
        previous = moment


@SETTINGS
@given(expressions(), instants)
def test_next_is_the_first_match_in_utc(expression: str, after: datetime) -> None:
    """In UTC, next() equals the first match of a day-by-day brute-force search."""
    if not parses(expression):
        return
    cron = CronExpression.parse(expression)
    expected = Reference(expression).next_utc(after, days=5 * 366)
    found = cron.next(after)
    if expected is None:
        assert found is None or found > after + timedelta(days=5 * 366)
    else:
        assert found == expected


transitions = st.sampled_from(
    [
        ("America/New_York", datetime(2025, 3, 9, 7, tzinfo=UTC)),
        ("America/New_York", datetime(2025, 11, 2, 6, tzinfo=UTC)),
        ("Europe/London", datetime(2025, 3, 30, 1, tzinfo=UTC)),
        ("Europe/London", datetime(2025, 10, 26, 1, tzinfo=UTC)),
        ("Australia/Lord_Howe", datetime(2025, 4, 5, 15, tzinfo=UTC)),
        ("Australia/Lord_Howe", datetime(2025, 10, 4, 15, 30, tzinfo=UTC)),
    ]
)
hour_fields = st.one_of(
    st.sampled_from(["*", "*/2", "*/3", "1", "2", "1,2", "0-3", "1-2/1", "0/1", "22-3"]),
    field(numbers(0, 4)),
)
minute_fields = st.one_of(
    st.sampled_from(["*", "0", "30", "*/15", "*/7", "10-40/10", "15,45"]), field(numbers(0, 59))
)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(minute_fields, hour_fields, transitions, st.integers(-180, 0))
def test_dst_transitions_match_a_minute_by_minute_model(
    minute: str, hour: str, transition: tuple[str, datetime], lead: int
) -> None:
    """Across real DST transitions, fire times equal a minute-by-minute model of the rules."""
    zone, instant = transition
    expression = f"{minute} {hour} * * *"
    start = instant + timedelta(minutes=lead)
    end = instant + timedelta(hours=4)
    expected = Reference(expression).fires_in_zone(zone, start, end)
    cron = CronExpression.parse(expression, timezone=zone)
    found = list(itertools.takewhile(lambda moment: moment <= end, cron.iter(start)))
    assert found == expected


def first_transition(zone: str, year: int) -> datetime | None:
    """The first instant of *year* (to the hour) where *zone* changes its UTC offset."""
    tz = ZoneInfo(zone)
    instant = datetime(year, 1, 1, tzinfo=UTC)
    previous = instant.astimezone(tz).utcoffset()
    step = timedelta(hours=6)
    while instant.year == year:
        instant += step
        if instant.astimezone(tz).utcoffset() != previous:
            hour = instant - step
            while hour.astimezone(tz).utcoffset() == previous:
                hour += timedelta(hours=1)
            return hour
    return None


def test_dst_rules_hold_in_many_zones() -> None:
    """In 30 zones drawn from the whole tz database, transitions follow the minute model."""
    rng = random.Random(2025)  # noqa: S311 - reproducible test data, not secrets
    zones = sorted(available_timezones())
    checked = 0
    while checked < 30:
        zone, year = rng.choice(zones), rng.randint(1975, 2035)
        transition = first_transition(zone, year)
        if transition is None:
            continue
        checked += 1
        start, end = transition - timedelta(hours=3), transition + timedelta(hours=3)
        for expression in ("* * * * *", "*/7 * * * *", "15 0-3 * * *", "0 */2 * * *"):
            cron = CronExpression.parse(expression, timezone=zone)
            found = [moment for moment in itertools.islice(cron.iter(start), 400) if moment <= end]
            assert found == Reference(expression).fires_in_zone(zone, start, end), (zone, year)
