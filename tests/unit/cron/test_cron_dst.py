"""Daylight-saving transitions on real zones, with exact UTC instants.

Transitions in 2025:

* America/New_York: 2025-03-09 02:00 EST -> 03:00 EDT (07:00Z); 2025-11-02 02:00 EDT ->
  01:00 EST (06:00Z).
* Europe/London: 2025-03-30 01:00 GMT -> 02:00 BST (01:00Z); 2025-10-26 02:00 BST -> 01:00
  GMT (01:00Z).
* Australia/Lord_Howe (a 30-minute shift): 2025-04-06 02:00 LHDT -> 01:30 LHST (15:00Z on
  the 5th); 2025-10-05 02:00 LHST -> 02:30 LHDT (15:30Z on the 4th).

Rules: a wall time in a gap fires once when the gap ends; a repeated wall time fires once,
at its first occurrence, unless the hour field is * or a step (then at both).
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest

from symbiont.cron import CronExpression


def utc_times(expression: str, zone: str, after: str, count: int) -> list[str]:
    """The next *count* fire times after the UTC instant *after*, as 'MM-DDTHH:MM:SSZ'."""
    cron = CronExpression.parse(expression, timezone=zone)
    start = datetime.fromisoformat(after)
    return [f"{moment:%m-%dT%H:%M:%S}Z" for moment in itertools.islice(cron.iter(start), count)]


@pytest.mark.parametrize(
    ("expression", "zone", "after", "expected"),
    [
        # New York spring: 02:30 does not exist and fires at 03:00 EDT, the end of the gap.
        (
            "30 2 * * *",
            "America/New_York",
            "2025-03-08T12:00Z",
            ["03-09T07:00:00Z", "03-10T06:30:00Z"],
        ),
        (
            "0 2 * * *",
            "America/New_York",
            "2025-03-08T12:00Z",
            ["03-09T07:00:00Z", "03-10T06:00:00Z"],
        ),
        # Hourly: 01:00 EST, then 02:00 (gap) and 03:00 EDT share one instant, fired once.
        (
            "0 * * * *",
            "America/New_York",
            "2025-03-09T05:30Z",
            ["03-09T06:00:00Z", "03-09T07:00:00Z", "03-09T08:00:00Z"],
        ),
        (
            "*/15 * * * *",
            "America/New_York",
            "2025-03-09T06:40Z",
            ["03-09T06:45:00Z", "03-09T07:00:00Z", "03-09T07:15:00Z"],
        ),
        # London spring: 01:30 does not exist and fires at 02:00 BST.
        (
            "30 1 * * *",
            "Europe/London",
            "2025-03-29T12:00Z",
            ["03-30T01:00:00Z", "03-31T00:30:00Z"],
        ),
        # Lord Howe spring: 02:00-02:30 does not exist; 02:15 fires at 02:30 LHDT, 02:45 is real.
        (
            "15 2 * * *",
            "Australia/Lord_Howe",
            "2025-10-04T00:00Z",
            ["10-04T15:30:00Z", "10-05T15:15:00Z"],
        ),
        (
            "45 2 * * *",
            "Australia/Lord_Howe",
            "2025-10-04T00:00Z",
            ["10-04T15:45:00Z", "10-05T15:45:00Z"],
        ),
        (
            "*/10 * * * *",
            "Australia/Lord_Howe",
            "2025-10-04T15:15Z",
            ["10-04T15:20:00Z", "10-04T15:30:00Z", "10-04T15:40:00Z"],
        ),
    ],
)
def test_spring_forward_gap(expression: str, zone: str, after: str, expected: list[str]) -> None:
    """A wall time inside the gap fires once, at the instant the gap ends."""
    assert utc_times(expression, zone, after, len(expected)) == expected


@pytest.mark.parametrize(
    ("expression", "zone", "after", "expected"),
    [
        # A fixed hour fires at the first 01:30 (EDT) only.
        (
            "30 1 * * *",
            "America/New_York",
            "2025-11-01T12:00Z",
            ["11-02T05:30:00Z", "11-03T06:30:00Z"],
        ),
        (
            "*/30 1 * * *",
            "America/New_York",
            "2025-11-02T04:50Z",
            ["11-02T05:00:00Z", "11-02T05:30:00Z", "11-03T06:00:00Z"],
        ),
        (
            "30 1 * * *",
            "Europe/London",
            "2025-10-25T12:00Z",
            ["10-26T00:30:00Z", "10-27T01:30:00Z"],
        ),
        (
            "45 1 * * *",
            "Australia/Lord_Howe",
            "2025-04-05T00:00Z",
            ["04-05T14:45:00Z", "04-06T15:15:00Z"],
        ),
    ],
)
def test_fall_back_fixed_hour_fires_once(
    expression: str, zone: str, after: str, expected: list[str]
) -> None:
    """A repeated wall time fires once, at its first occurrence, when the hour is fixed."""
    assert utc_times(expression, zone, after, len(expected)) == expected


@pytest.mark.parametrize(
    ("expression", "zone", "after", "expected"),
    [
        # Hourly keeps firing through the repeated hour: 00:00 EDT, 01:00 EDT, 01:00 EST, 02:00 EST.
        (
            "0 * * * *",
            "America/New_York",
            "2025-11-02T03:30Z",
            ["11-02T04:00:00Z", "11-02T05:00:00Z", "11-02T06:00:00Z", "11-02T07:00:00Z"],
        ),
        (
            "@hourly",
            "America/New_York",
            "2025-11-02T03:30Z",
            ["11-02T04:00:00Z", "11-02T05:00:00Z", "11-02T06:00:00Z", "11-02T07:00:00Z"],
        ),
        (
            "30 * * * *",
            "Europe/London",
            "2025-10-25T23:00Z",
            ["10-25T23:30:00Z", "10-26T00:30:00Z", "10-26T01:30:00Z", "10-26T02:30:00Z"],
        ),
        # A step in the hour field counts too: 1-3/1 fires at both 01:00s.
        (
            "0 1-3/1 * * *",
            "America/New_York",
            "2025-11-02T04:30Z",
            ["11-02T05:00:00Z", "11-02T06:00:00Z", "11-02T07:00:00Z", "11-02T08:00:00Z"],
        ),
        # */2 hours: 1 is not in the set, so the repeated hour does not matter.
        (
            "0 */2 * * *",
            "America/New_York",
            "2025-11-02T03:30Z",
            ["11-02T04:00:00Z", "11-02T07:00:00Z", "11-02T09:00:00Z"],
        ),
        # Lord Howe repeats 01:30-02:00: minute 45 fires at +11:00 and again at +10:30.
        (
            "45 * * * *",
            "Australia/Lord_Howe",
            "2025-04-05T13:00Z",
            ["04-05T13:45:00Z", "04-05T14:45:00Z", "04-05T15:15:00Z", "04-05T16:15:00Z"],
        ),
        # Every 20 seconds keeps an even spacing in UTC across the fold.
        (
            "*/20 * * * * *",
            "America/New_York",
            "2025-11-02T05:59:20Z",
            ["11-02T05:59:40Z", "11-02T06:00:00Z", "11-02T06:00:20Z"],
        ),
    ],
)
def test_fall_back_wildcard_hour_fires_twice(
    expression: str, zone: str, after: str, expected: list[str]
) -> None:
    """With the hour field * or a step, both occurrences of a repeated wall time fire."""
    assert utc_times(expression, zone, after, len(expected)) == expected


def test_start_inside_the_second_occurrence() -> None:
    """Starting inside the repeated hour's second pass skips what already fired in the first."""
    cron = CronExpression.parse("*/20 1 * * *", timezone="America/New_York")
    second_pass = datetime.fromisoformat("2025-11-02T06:10:00Z")  # 01:10 EST
    assert cron.next(second_pass) == datetime.fromisoformat("2025-11-03T06:00:00Z")
    hourly = CronExpression.parse("*/20 * * * *", timezone="America/New_York")
    assert hourly.next(second_pass) == datetime.fromisoformat("2025-11-02T06:20:00Z")


def test_start_inside_the_first_occurrence() -> None:
    """From the first pass, the rest of the first pass comes before the second pass."""
    hourly = CronExpression.parse("*/20 * * * *", timezone="America/New_York")
    first_pass = datetime.fromisoformat("2025-11-02T05:50:00Z")  # 01:50 EDT
    times = list(itertools.islice(hourly.iter(first_pass), 4))
    assert [f"{moment:%H:%M}" for moment in times] == ["06:00", "06:20", "06:40", "07:00"]


@pytest.mark.parametrize(
    ("zone", "transition"),
    [
        ("America/New_York", "2025-03-09T07:00Z"),
        ("America/New_York", "2025-11-02T06:00Z"),
        ("Europe/London", "2025-03-30T01:00Z"),
        ("Europe/London", "2025-10-26T01:00Z"),
        ("Australia/Lord_Howe", "2025-04-05T15:00Z"),
        ("Australia/Lord_Howe", "2025-10-04T15:30Z"),
    ],
)
def test_every_minute_stays_regular_across_transitions(zone: str, transition: str) -> None:
    """Every minute across a transition: one fire per UTC minute, none skipped or doubled."""
    cron = CronExpression.parse("* * * * *", timezone=zone)
    start = datetime.fromisoformat(transition) - timedelta(hours=3)
    times = list(itertools.islice(cron.iter(start), 6 * 60))
    assert times[0] == start + timedelta(minutes=1)
    assert {later - earlier for earlier, later in itertools.pairwise(times)} == {
        timedelta(minutes=1)
    }


def test_repeated_interval_across_midnight() -> None:
    """A fold that straddles midnight (Goose Bay fell back at 00:01 in 2010) is handled."""
    # 2010-11-07 03:01Z: 00:01 ADT became 23:01 AST, so 23:01-00:00 of Nov 6-7 repeated.
    every_minute = CronExpression.parse("* * * * *", timezone="America/Goose_Bay")
    start = datetime.fromisoformat("2010-11-07T02:30:00Z")
    times = list(itertools.islice(every_minute.iter(start), 120))
    assert {later - earlier for earlier, later in itertools.pairwise(times)} == {
        timedelta(minutes=1)
    }
    assert utc_times("30 23 * * *", "America/Goose_Bay", "2010-11-06T12:00Z", 2) == [
        "11-07T02:30:00Z",  # the first 23:30 (ADT); the second (AST, 03:30Z) does not fire
        "11-08T03:30:00Z",
    ]
