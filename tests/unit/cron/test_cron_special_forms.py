"""Special characters, names, macros, H and the day-of-month / day-of-week OR.

Every expected date below was checked against a calendar (weekday noted in comments).
"""

from __future__ import annotations

import itertools
from datetime import datetime

import pytest

from symbiont.cron import CronError, CronExpression


def at(text: str) -> datetime:
    """Parse an ISO 8601 instant written with a Z."""
    return datetime.fromisoformat(text)


def dates(expression: str, after: str, count: int, seed: str | None = None) -> list[str]:
    """The next *count* fire times after *after* (UTC), as 'YYYY-MM-DD HH:MM:SS'."""
    cron = CronExpression.parse(expression, seed=seed)
    times = itertools.islice(cron.iter(at(after)), count)
    return [moment.strftime("%Y-%m-%d %H:%M:%S") for moment in times]


def days(expression: str, after: str, count: int) -> list[str]:
    """The dates of the next *count* fire times after *after* (UTC)."""
    return [text[:10] for text in dates(expression, after, count)]


def test_last_day_of_month() -> None:
    """L is the last day of each month, leap years included."""
    assert days("0 0 12 L * ?", "2024-01-31T13:00:00Z", 3) == [
        "2024-02-29",
        "2024-03-31",
        "2024-04-30",
    ]
    assert days("0 0 12 L 2 ?", "2025-01-01T00:00:00Z", 1) == ["2025-02-28"]


def test_days_before_the_last() -> None:
    """L-3 is three days before the last day of the month."""
    assert days("0 0 12 L-3 * ?", "2025-01-01T00:00:00Z", 3) == [
        "2025-01-28",
        "2025-02-25",
        "2025-03-28",
    ]


def test_nearest_weekday() -> None:
    """15W is the 15th, or the nearest Monday-to-Friday day to it."""
    assert days("0 0 8 15W * ?", "2025-01-01T00:00:00Z", 6) == [
        "2025-01-15",  # Wednesday: itself
        "2025-02-14",  # 15th is Saturday: Friday
        "2025-03-14",  # 15th is Saturday: Friday
        "2025-04-15",
        "2025-05-15",
        "2025-06-16",  # 15th is Sunday: Monday
    ]


def test_nearest_weekday_does_not_cross_the_month_start() -> None:
    """1W in a month that starts on a Saturday is Monday the 3rd, not Friday the 31st before."""
    assert days("0 0 8 1W * ?", "2025-02-15T00:00:00Z", 1) == ["2025-03-03"]  # Mar 1 is Sat
    assert days("0 0 8 1W 11 ?", "2025-01-01T00:00:00Z", 1) == ["2025-11-03"]  # Nov 1 is Sat


def test_nearest_weekday_does_not_cross_the_month_end() -> None:
    """31W on a Sunday the 31st is Friday the 29th; months without a 31st are skipped."""
    assert days("0 0 8 31W * ?", "2025-08-01T00:00:00Z", 2) == ["2025-08-29", "2025-10-31"]


def test_last_weekday_of_month() -> None:
    """LW is the last Monday-to-Friday day of the month."""
    assert days("0 0 17 LW * ?", "2025-04-30T18:00:00Z", 4) == [
        "2025-05-30",  # 31st is Saturday
        "2025-06-30",
        "2025-07-31",
        "2025-08-29",  # 31st is Sunday
    ]


def test_nth_weekday() -> None:
    """5#3 is the third Friday; MON#1 the first Monday."""
    assert days("0 0 10 ? * 5#3", "2025-01-01T00:00:00Z", 3) == [
        "2025-01-17",
        "2025-02-21",
        "2025-03-21",
    ]
    assert days("0 0 10 ? * MON#1", "2025-01-01T00:00:00Z", 2) == ["2025-01-06", "2025-02-03"]


def test_fifth_weekday_skips_months_without_one() -> None:
    """5#5 fires only in months with five Fridays."""
    assert days("0 0 10 ? * 5#5", "2025-01-01T00:00:00Z", 3) == [
        "2025-01-31",
        "2025-05-30",
        "2025-08-29",
    ]


def test_last_weekday_of_kind() -> None:
    """5L and FRIL are the last Friday of the month."""
    expected = ["2025-01-31", "2025-02-28", "2025-03-28"]
    assert days("0 0 10 ? * 5L", "2025-01-01T00:00:00Z", 3) == expected
    assert days("0 0 10 ? * FRIL", "2025-01-01T00:00:00Z", 3) == expected
    assert days("0 0 10 ? * fril", "2025-01-01T00:00:00Z", 3) == expected


def test_names_are_case_insensitive_also_in_ranges() -> None:
    """Month and day names work in any case, alone and in ranges."""
    upper = dates("0 30 9 ? JAN-MAR MON-FRI", "2025-03-28T10:00:00Z", 2)
    lower = dates("0 30 9 ? jan-mar mon-fri", "2025-03-28T10:00:00Z", 2)
    assert upper == lower == ["2025-03-31 09:30:00", "2026-01-01 09:30:00"]


def test_question_mark_is_a_wildcard() -> None:
    """? in day of month or day of week means the same as *."""
    assert dates("0 0 9 ? * *", "2025-01-01T00:00:00Z", 3) == dates(
        "0 0 9 * * *", "2025-01-01T00:00:00Z", 3
    )


def test_sunday_is_zero_and_seven() -> None:
    """Day of week 0 and 7 both mean Sunday, also inside ranges."""
    sundays = ["2025-01-05", "2025-01-12"]
    assert days("0 0 0 * * 0", "2025-01-01T00:00:00Z", 2) == sundays
    assert days("0 0 0 * * 7", "2025-01-01T00:00:00Z", 2) == sundays
    assert days("0 0 0 * * SUN", "2025-01-01T00:00:00Z", 2) == sundays
    assert days("0 0 0 * * 6-7", "2025-01-01T00:00:00Z", 2) == ["2025-01-04", "2025-01-05"]


def test_step_forms() -> None:
    """*/n, a/n and a-b/n step through the field."""
    assert dates("*/20 * * * * *", "2025-01-01T00:00:00Z", 3) == [
        "2025-01-01 00:00:20",
        "2025-01-01 00:00:40",
        "2025-01-01 00:01:00",
    ]
    assert [text[11:16] for text in dates("50/5 * * * *", "2025-01-01T00:00:00Z", 3)] == [
        "00:50",
        "00:55",
        "01:50",
    ]
    assert [text[11:13] for text in dates("0 8-18/4 * * *", "2025-01-01T00:00:00Z", 4)] == [
        "08",
        "12",
        "16",
        "08",
    ]


def test_day_of_week_start_step_runs_to_sunday() -> None:
    """In day of week, 1/2 means Monday, Wednesday, Friday and Sunday (7), as in Vixie cron."""
    assert days("0 0 0 * * 1/2", "2025-01-05T00:00:00Z", 4) == [
        "2025-01-06",  # Monday
        "2025-01-08",
        "2025-01-10",
        "2025-01-12",  # Sunday
    ]


def test_wrapping_ranges() -> None:
    """A range whose end is below its start wraps: 22-2 hours, FRI-MON days."""
    hours = [text[11:13] for text in dates("0 0 22-2 * * *", "2025-01-01T12:00:00Z", 5)]
    assert hours == ["22", "23", "00", "01", "02"]
    assert days("0 0 9 * * FRI-MON", "2025-01-01T12:00:00Z", 4) == [
        "2025-01-03",
        "2025-01-04",
        "2025-01-05",
        "2025-01-06",
    ]


def test_vixie_or_when_both_day_fields_restrict() -> None:
    """With day of month and day of week both restricted, either one matching is enough."""
    assert days("0 0 0 13 * 5", "2025-06-01T00:00:00Z", 4) == [
        "2025-06-06",  # Friday
        "2025-06-13",  # the 13th (also a Friday)
        "2025-06-20",
        "2025-06-27",
    ]
    assert days("0 0 0 1 * MON", "2025-01-01T00:00:00Z", 2) == ["2025-01-06", "2025-01-13"]


def test_one_star_leaves_the_other_day_field_alone() -> None:
    """With day of week *, only day of month restricts (and the other way round)."""
    assert days("0 0 0 13 * *", "2025-06-01T00:00:00Z", 2) == ["2025-06-13", "2025-07-13"]
    assert days("0 0 0 * * 5", "2025-06-01T00:00:00Z", 2) == ["2025-06-06", "2025-06-13"]


def test_impossible_day_of_month_is_rejected() -> None:
    """Feb 30, Apr 31 and Feb 31 (7 fields) can never happen and are rejected at parse."""
    for expression in ("0 0 30 2 *", "0 0 31 4 *", "0 0 0 31 2 * *", "0 0 L-29 2 *"):
        with pytest.raises(CronError, match="day never occurs in the allowed months"):
            CronExpression.parse(expression)


def test_impossible_day_of_month_rescued_by_day_of_week() -> None:
    """0 0 30 2 MON is fine: the OR makes it fire on Mondays in February."""
    cron = CronExpression.parse("0 0 30 2 MON")
    assert days("0 0 30 2 MON", "2025-01-01T00:00:00Z", 2) == ["2025-02-03", "2025-02-10"]
    assert cron.next(at("2025-01-01T00:00:00Z")) is not None


def test_leap_day_fires_every_four_years() -> None:
    """Feb 29 is possible: it fires in leap years only."""
    assert days("0 0 0 29 2 *", "2025-01-01T00:00:00Z", 2) == ["2028-02-29", "2032-02-29"]
    assert days("0 0 0 29 2 *", "2096-03-01T00:00:00Z", 1) == ["2104-02-29"]


def test_seven_fields_with_year() -> None:
    """The seventh field restricts the year; past the last year there is no fire time."""
    assert dates("0 0 0 1 1 ? 2030", "2025-06-01T00:00:00Z", 5) == ["2030-01-01 00:00:00"]
    assert dates("0 0 6 1,15 * ? 2026/2", "2026-12-20T00:00:00Z", 2) == [
        "2028-01-01 06:00:00",
        "2028-01-15 06:00:00",
    ]
    assert CronExpression.parse("0 0 0 1 1 ? 2020").next(at("2025-01-01T00:00:00Z")) is None


def test_year_without_the_day_returns_none() -> None:
    """Feb 29 in years without one gives None, quickly, instead of searching forever."""
    cron = CronExpression.parse("0 0 0 29 2 ? 2025-2027")
    assert cron.next(at("2024-06-01T00:00:00Z")) is None


@pytest.mark.parametrize(
    ("macro", "expected"),
    [
        ("@yearly", ["2026-01-01 00:00:00", "2027-01-01 00:00:00"]),
        ("@annually", ["2026-01-01 00:00:00", "2027-01-01 00:00:00"]),
        ("@monthly", ["2025-07-01 00:00:00", "2025-08-01 00:00:00"]),
        ("@weekly", ["2025-06-15 00:00:00", "2025-06-22 00:00:00"]),  # Sundays
        ("@daily", ["2025-06-11 00:00:00", "2025-06-12 00:00:00"]),
        ("@midnight", ["2025-06-11 00:00:00", "2025-06-12 00:00:00"]),
        ("@hourly", ["2025-06-10 13:00:00", "2025-06-10 14:00:00"]),
        ("@DAILY", ["2025-06-11 00:00:00", "2025-06-12 00:00:00"]),
    ],
)
def test_macros(macro: str, expected: list[str]) -> None:
    """Each macro means its classic five-field expression (second 0)."""
    assert dates(macro, "2025-06-10T12:30:00Z", 2) == expected


def test_hash_is_stable_per_seed() -> None:
    """H picks the same values for the same seed, every time."""
    first = dates("H H * * *", "2025-01-01T00:00:00Z", 2, seed="nightly-report")
    again = dates("H H * * *", "2025-01-01T00:00:00Z", 2, seed="nightly-report")
    assert first == again
    assert first[0][11:] == first[1][11:]  # the same time every day


def test_hash_differs_between_fields() -> None:
    """The field name is part of the hash, so H in minute and in second usually differ."""
    pairs = set()
    for index in range(50):
        cron = CronExpression.parse("H H * * * *", seed=f"job-{index}")
        moment = cron.next(at("2025-01-01T00:00:00Z"))
        assert moment is not None
        pairs.add(moment.second == moment.minute)
    assert False in pairs


def test_hash_spreads_across_seeds() -> None:
    """Different seeds spread H over the field's range."""
    minutes = set()
    for index in range(200):
        moment = CronExpression.parse("H * * * *", seed=f"job-{index}").next(
            at("2025-01-01T00:00:00Z")
        )
        assert moment is not None
        minutes.add(moment.minute)
    assert len(minutes) >= 45


def test_hash_step_and_range() -> None:
    """H/15 is a hashed offset below 15 stepped by 15; H(0-29) stays within 0-29."""
    for index in range(30):
        cron = CronExpression.parse("H/15 * * * *", seed=f"job-{index}")
        first = cron.next(at("2024-12-31T23:59:59Z"))
        assert first is not None
        assert first.minute < 15
        following = [moment.minute for moment in itertools.islice(cron.iter(first), 3)]
        assert following == [first.minute + 15, first.minute + 30, first.minute + 45]
        ranged = CronExpression.parse("H(0-29) 3 * * *", seed=f"job-{index}")
        found = ranged.next(at("2025-01-01T00:00:00Z"))
        assert found is not None
        assert found.minute <= 29
        assert found.hour == 3


def test_hash_day_of_month_stays_in_every_month() -> None:
    """H in day of month picks 1-28, so the job runs every month."""
    for index in range(40):
        cron = CronExpression.parse("0 0 H * *", seed=f"job-{index}")
        moments = list(itertools.islice(cron.iter(at("2025-01-01T00:00:00Z")), 12))
        assert len({moment.month for moment in moments}) == 12
        assert all(moment.day <= 28 for moment in moments)


def test_hash_without_seed_uses_the_expression_text() -> None:
    """Without a seed H hashes the whitespace-normalized expression text."""
    plain = CronExpression.parse("H 3 * * *").next(at("2025-01-01T00:00:00Z"))
    spaced = CronExpression.parse(" H  3 * * * ").next(at("2025-01-01T00:00:00Z"))
    seeded = CronExpression.parse("H 3 * * *", seed="H 3 * * *").next(at("2025-01-01T00:00:00Z"))
    assert plain == spaced == seeded


def test_day_names_with_w_and_l_are_names() -> None:
    """WED in ranges, lists, # and L is a day name, not the W or L special characters."""
    assert days("0 0 0 * * MON-WED", "2025-01-01T00:00:00Z", 3) == [
        "2025-01-06",
        "2025-01-07",
        "2025-01-08",
    ]
    assert days("0 0 0 * * SAT-WED/2", "2025-01-01T00:00:00Z", 3) == [
        "2025-01-04",  # Saturday, then Monday and Wednesday
        "2025-01-06",
        "2025-01-08",
    ]
    assert days("0 0 0 ? * WED#2,WEDL", "2025-01-01T00:00:00Z", 2) == ["2025-01-08", "2025-01-29"]
    assert days("0 0 0 * JUL-AUG,DEC *", "2025-01-01T00:00:00Z", 1) == ["2025-07-01"]
