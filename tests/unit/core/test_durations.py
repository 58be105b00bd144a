"""Durations written by people, to and from ``timedelta``."""

from __future__ import annotations

import contextlib
import re
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from symbiont.core.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5m", timedelta(minutes=5)),
        ("90s", timedelta(seconds=90)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("2d", timedelta(days=2)),
        ("1w", timedelta(weeks=1)),
        ("500ms", timedelta(milliseconds=500)),
        ("250us", timedelta(microseconds=250)),
        ("1d2h3m4s5ms6us", timedelta(days=1, hours=2, minutes=3, seconds=4, microseconds=5006)),
        ("90", timedelta(seconds=90)),
        ("0", timedelta(0)),
        ("0s", timedelta(0)),
        (" 5m ", timedelta(minutes=5)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    """Units and plain seconds are read into the matching timedelta."""
    assert parse_duration(text) == expected


HELP = "write a whole number with a unit (us, ms, s, m, h, d, w), e.g. '90s', '5m', '1h30m'"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", f"empty duration: {HELP}"),
        ("   ", f"empty duration: {HELP}"),
        ("5x", f"invalid duration '5x': {HELP}"),
        ("1.5h", f"invalid duration '1.5h': {HELP}"),
        ("-5m", f"invalid duration '-5m': {HELP}"),
        ("5 m", f"invalid duration '5 m': {HELP}"),
        ("m", f"invalid duration 'm': {HELP}"),
        ("5M", f"invalid duration '5M': {HELP}"),
        ("\u0665m", f"invalid duration '\u0665m': {HELP}"),
        (
            "30m1h",
            (
                "invalid duration '30m1h': units must go from largest to smallest, each at most "
                "once (e.g. '1h30m')"
            ),
        ),
        (
            "1m1m",
            (
                "invalid duration '1m1m': units must go from largest to smallest, each at most "
                "once (e.g. '1h30m')"
            ),
        ),
        ("99999999999999999999d", "duration '99999999999999999999d' is too large"),
        ("99999999999999999999", "duration '99999999999999999999' is too large"),
    ],
)
def test_parse_duration_errors(text: str, message: str) -> None:
    """Bad durations raise ValueError with a message that says what to write."""
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("duration", "text"),
    [
        (timedelta(0), "0s"),
        (timedelta(seconds=90), "1m30s"),
        (timedelta(minutes=5), "5m"),
        (timedelta(hours=1, minutes=30), "1h30m"),
        (timedelta(weeks=1), "7d"),
        (timedelta(milliseconds=500), "500ms"),
        (timedelta(seconds=1, microseconds=1500), "1s1ms500us"),
    ],
)
def test_format_duration(duration: timedelta, text: str) -> None:
    """Durations are written largest unit first, without zero parts."""
    assert format_duration(duration) == text


def test_format_negative_duration() -> None:
    """A negative duration cannot be written."""
    with pytest.raises(ValueError, match="cannot format a negative duration"):
        format_duration(timedelta(seconds=-1))


@given(st.timedeltas(min_value=timedelta(0)))
def test_format_then_parse_round_trips(duration: timedelta) -> None:
    """``parse_duration(format_duration(d)) == d`` for every non-negative duration."""
    assert parse_duration(format_duration(duration)) == duration


@given(st.text(max_size=30))
def test_parse_duration_only_raises_value_error(text: str) -> None:
    """Any text is a duration or a ValueError, never another exception."""
    with contextlib.suppress(ValueError):
        parse_duration(text)
