"""The public API of symbiont.cron and the spec's cron examples."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

import symbiont.cron
from symbiont.core.errors import CronError as CoreCronError
from symbiont.cron import CronError, CronExpression


def at(text: str) -> datetime:
    """Parse an ISO 8601 instant written with a Z."""
    return datetime.fromisoformat(text)


def fire_times(expression: str, after: str, count: int, zone: str = "UTC") -> list[str]:
    """The next *count* fire times after *after*, as ISO strings in UTC."""
    cron = CronExpression.parse(expression, timezone=zone)
    return [moment.isoformat() for moment in itertools.islice(cron.iter(at(after)), count)]


def test_exports_are_the_public_names() -> None:
    """symbiont.cron exports exactly CronExpression and CronError, as a tuple."""
    assert isinstance(symbiont.cron.__all__, tuple)
    assert sorted(symbiont.cron.__all__) == ["CronError", "CronExpression"]
    public = {name for name in dir(symbiont.cron) if not name.startswith("_")}
    assert set(symbiont.cron.__all__) <= public


def test_cron_error_is_the_core_error() -> None:
    """The re-exported CronError is the one defined in symbiont.core.errors."""
    assert CronError is CoreCronError


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("0 0 9 * * *", "2025-01-15T08:59:59Z", ["2025-01-15T09:00:00", "2025-01-16T09:00:00"]),
        ("0 0 9 * * *", "2025-01-15T09:00:00Z", ["2025-01-16T09:00:00", "2025-01-17T09:00:00"]),
        ("0 0 18 * * 1", "2025-01-15T10:00:00Z", ["2025-01-20T18:00:00", "2025-01-27T18:00:00"]),
        ("0 */15 * * * *", "2025-01-15T10:07:30Z", ["2025-01-15T10:15:00", "2025-01-15T10:30:00"]),
        ("0 */15 * * * *", "2025-01-15T23:45:00Z", ["2025-01-16T00:00:00", "2025-01-16T00:15:00"]),
        ("0 0 0 1 * *", "2025-01-15T10:00:00Z", ["2025-02-01T00:00:00", "2025-03-01T00:00:00"]),
        ("0 0 0 1 * *", "2025-12-31T23:00:00Z", ["2026-01-01T00:00:00", "2026-02-01T00:00:00"]),
    ],
)
def test_spec_examples(expression: str, after: str, expected: list[str]) -> None:
    """The spec's four examples fire at the expected UTC instants."""
    assert fire_times(expression, after, 2) == [f"{moment}+00:00" for moment in expected]


def test_parse_keeps_text_and_zone() -> None:
    """An expression keeps its original text and zone name as attributes."""
    cron = CronExpression.parse("0 0 9 * * MON-FRI", timezone="Europe/Berlin")
    assert cron.expression == "0 0 9 * * MON-FRI"
    assert cron.timezone == "Europe/Berlin"
    assert CronExpression.parse("* * * * *").timezone == "UTC"


def test_describe_matches_the_contract_example() -> None:
    """describe() reads the fields in plain English and names the zone."""
    cron = CronExpression.parse("0 0 9 * * MON-FRI", timezone="Europe/Berlin")
    assert cron.describe() == "At 09:00:00, Monday through Friday (Europe/Berlin)"


def test_next_returns_aware_utc_in_the_zone() -> None:
    """A wall time in a zone is returned as the matching aware UTC instant."""
    cron = CronExpression.parse("0 0 9 * * MON-FRI", timezone="Europe/Berlin")
    found = cron.next(at("2025-01-15T10:00:00Z"))
    assert found == at("2025-01-16T08:00:00Z")
    assert found is not None
    assert found.tzinfo is UTC


def test_next_is_strictly_after() -> None:
    """next() never returns its own argument, even when it is a fire time."""
    cron = CronExpression.parse("0 * * * *")
    assert cron.next(at("2025-01-15T10:00:00Z")) == at("2025-01-15T11:00:00Z")
    assert cron.next(at("2025-01-15T09:59:59.999999Z")) == at("2025-01-15T10:00:00Z")


def test_next_accepts_any_aware_zone() -> None:
    """The argument may be in any zone: only the instant matters."""
    cron = CronExpression.parse("0 0 12 * * *")
    tokyo = datetime(2025, 1, 15, 20, 0, tzinfo=ZoneInfo("Asia/Tokyo"))  # 11:00 UTC
    minus_five = datetime(2025, 1, 15, 6, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert cron.next(tokyo) == at("2025-01-15T12:00:00Z")
    assert cron.next(minus_five) == at("2025-01-15T12:00:00Z")


def test_naive_datetime_is_rejected() -> None:
    """A naive datetime raises TypeError instead of guessing its zone."""
    cron = CronExpression.parse("* * * * *")
    with pytest.raises(TypeError, match="aware datetime"):
        cron.next(datetime(2025, 1, 1))
    with pytest.raises(TypeError, match="aware datetime"):
        cron.next("2025-01-01T00:00:00Z")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="aware datetime"):
        cron.next(None)  # type: ignore[arg-type]


def test_next_of_the_previous_fire_time_in_any_form() -> None:
    """next(previous) is the same for the returned object, a copy, or another zone's view."""
    cron = CronExpression.parse("0 30 9 * * MON-FRI", timezone="America/New_York")
    first = cron.next(at("2025-01-15T00:00:00Z"))
    assert first is not None
    expected = at("2025-01-16T14:30:00Z")
    assert cron.next(first) == expected
    assert cron.next(at(first.isoformat())) == expected
    assert cron.next(first.astimezone(ZoneInfo("Asia/Tokyo"))) == expected
    assert CronExpression.parse(cron.expression, "America/New_York").next(first) == expected


def test_iter_yields_increasing_times_and_ends() -> None:
    """iter() yields strictly increasing times and stops when the schedule is exhausted."""
    cron = CronExpression.parse("0 0 12 1 1 ? 2026-2028")
    times = list(cron.iter(at("2025-06-01T00:00:00Z")))
    assert times == [at(f"{year}-01-01T12:00:00Z") for year in (2026, 2027, 2028)]


def test_fixed_offset_zone_needs_no_dst_handling() -> None:
    """An Etc/ zone is a fixed offset: local 09:00 in Etc/GMT-2 is 07:00 UTC."""
    cron = CronExpression.parse("0 9 * * *", timezone="Etc/GMT-2")
    assert cron.next(at("2025-06-01T00:00:00Z")) == at("2025-06-01T07:00:00Z")


def test_equality_and_repr() -> None:
    """Expressions compare by text, zone and seed; repr shows how to rebuild one."""
    first = CronExpression.parse("H * * * *", timezone="UTC", seed="a")
    assert first == CronExpression.parse("H * * * *", seed="a")
    assert first != CronExpression.parse("H * * * *", seed="b")
    assert len({first, CronExpression.parse("H * * * *", seed="a")}) == 1
    assert repr(first) == "CronExpression('H * * * *', timezone='UTC', seed='a')"


def test_extra_whitespace_is_tolerated() -> None:
    """Leading, trailing and repeated whitespace between fields is ignored."""
    cron = CronExpression.parse("  0\t9   *  * \n *  ")
    assert cron.next(at("2025-01-15T10:00:00Z")) == at("2025-01-16T09:00:00Z")


def test_end_of_time_returns_none() -> None:
    """Near datetime.max the search ends with None rather than an OverflowError."""
    assert CronExpression.parse("* * * * *").next(datetime.max.replace(tzinfo=UTC)) is None
    late = datetime(9999, 12, 31, 23, 0, tzinfo=UTC)
    assert CronExpression.parse("0 0 * * *", timezone="America/New_York").next(late) is None
