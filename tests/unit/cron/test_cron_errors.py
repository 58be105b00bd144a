"""Error messages: each names the field, the offending token and what is allowed."""

from __future__ import annotations

import pytest

from symbiont.cron import CronError, CronExpression

FIELD_COUNTS = "5 (minute hour day-of-month month day-of-week), 6 (second first) or 7 (+ year)"


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("0 61 * * *", "hour field: value out of range (got '61'; allowed: 0-23)"),
        ("61 0 * * *", "minute field: value out of range (got '61'; allowed: 0-59)"),
        ("0 61 0 * * *", "minute field: value out of range (got '61'; allowed: 0-59)"),
        ("60 * * * * *", "second field: value out of range (got '60'; allowed: 0-59)"),
        ("0 0 32 * *", "day of month field: value out of range (got '32'; allowed: 1-31)"),
        ("0 0 * 13 *", "month field: value out of range (got '13'; allowed: 1-12)"),
        ("0 0 * * 8", "day of week field: value out of range (got '8'; allowed: 0-7)"),
        ("0 0 0 1 1 * 1969", "year field: value out of range (got '1969'; allowed: 1970-2199)"),
        ("1-60 * * * *", "minute field: value out of range (got '60'; allowed: 0-59)"),
    ],
)
def test_value_out_of_range(expression: str, message: str) -> None:
    """A value outside its field's range is rejected with the field and the range."""
    with pytest.raises(CronError) as caught:
        CronExpression.parse(expression)
    assert str(caught.value) == f"invalid cron expression {expression!r}: {message}"


def test_error_keeps_structured_data() -> None:
    """The error carries the expression, field, token and allowed range as attributes."""
    with pytest.raises(CronError) as caught:
        CronExpression.parse("61 0 * * *")
    error = caught.value
    assert (error.expression, error.field, error.token, error.allowed) == (
        "61 0 * * *",
        "minute",
        "61",
        "0-59",
    )
    assert isinstance(error, ValueError)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("* * *", f"wrong number of fields (got '3 fields'; allowed: {FIELD_COUNTS})"),
        ("* * * * * * * *", f"wrong number of fields (got '8 fields'; allowed: {FIELD_COUNTS})"),
        ("", f"empty expression (allowed: {FIELD_COUNTS} fields)"),
        ("   ", f"empty expression (allowed: {FIELD_COUNTS} fields)"),
        (
            "@every",
            (
                "unknown macro (got '@every'; "
                "allowed: @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly)"
            ),
        ),
    ],
)
def test_expression_shape(expression: str, message: str) -> None:
    """Wrong field counts, empty text and unknown macros say what shapes are allowed."""
    with pytest.raises(CronError) as caught:
        CronExpression.parse(expression)
    assert str(caught.value) == f"invalid cron expression {expression!r}: {message}"
    assert caught.value.field is None


DOW = "0-7 or SUN-SAT"
ONLY_DAYS = "is only allowed in day of month and day of week"
HASH_FORMS = "H(a-b) with a <= b"


@pytest.mark.parametrize(
    ("expression", "field", "problem", "token", "allowed"),
    [
        ("*/0 * * * *", "minute", "step out of range", "*/0", "1-60"),
        ("*/61 * * * *", "minute", "step out of range", "*/61", "1-60"),
        ("0 0 * 1/0 *", "month", "step out of range", "1/0", "1-12"),
        ("*/x * * * *", "minute", "invalid step", "*/x", "1-60"),
        ("0 0 * * FOO", "day of week", "unknown name", "FOO", DOW),
        ("0 0 * janx *", "month", "unknown name", "janx", "1-12 or JAN-DEC"),
        ("0 0 * * mon-fox", "day of week", "unknown name", "fox", DOW),
        ("MON * * * *", "minute", "unknown name", "MON", "0-59"),
        ("1- * * * *", "minute", "invalid range", "1-", "0-59"),
        ("1,,2 * * * *", "minute", "empty item in a list", "1,,2", "0-59"),
        ("0 0 * * 5#6", "day of week", "occurrence out of range", "5#6", "1-5"),
        ("0 0 * * 5#0", "day of week", "occurrence out of range", "5#0", "1-5"),
        ("0 0 * * 5W", "day of week", "'W' is only allowed in day of month", "5W", DOW),
        ("L * * * *", "minute", f"'L' {ONLY_DAYS}", "L", "0-59"),
        ("0 0 * L *", "month", f"'L' {ONLY_DAYS}", "L", "1-12 or JAN-DEC"),
        ("0 15W * * *", "hour", "'W' is only allowed in day of month", "15W", "0-23"),
        ("5#3 * * * *", "minute", "'#' is only allowed in day of week", "5#3", "0-59"),
        ("0 0 1#2 * *", "day of month", "'#' is only allowed in day of week", "1#2", "1-31"),
        (
            "0 0 * * L",
            "day of week",
            "'L' in day of week needs a day before it",
            "L",
            "dL such as 5L or FRIL",
        ),
        ("0 0 L-31 * *", "day of month", "offset from the last day out of range", "L-31", "0-30"),
        ("0 0 32W * *", "day of month", "day before 'W' out of range", "32W", "1-31"),
        ("0 0 1-5W * *", "day of month", "invalid day before 'W'", "1-5W", "1-31"),
        ("0 0 LX * *", "day of month", "invalid use of 'L' or 'W'", "LX", "L, L-n, nW or LW"),
        ("? * * * *", "minute", f"'?' {ONLY_DAYS}", "?", "0-59"),
        ("0 0 1,? * *", "day of month", "'?' must be the whole field", "?", "1-31"),
        ("0 0 0 1 1 * H", "year", "'H' is not allowed in the year field", "H", "1970-2199"),
        ("H(5) * * * *", "minute", "invalid hashed range", "H(5)", HASH_FORMS),
        ("H(9-3) * * * *", "minute", "reversed hashed range", "H(9-3)", HASH_FORMS),
        ("Hx * * * *", "minute", "invalid hashed value", "Hx", "H, H/n, H(a-b) or H(a-b)/n"),
    ],
)
def test_bad_tokens(expression: str, field: str, problem: str, token: str, allowed: str) -> None:
    """Bad steps, names, special characters in the wrong field: each says what is allowed."""
    with pytest.raises(CronError) as caught:
        CronExpression.parse(expression)
    assert str(caught.value) == (
        f"invalid cron expression {expression!r}: {field} field: {problem} "
        f"(got {token!r}; allowed: {allowed})"
    )
    assert (caught.value.field, caught.value.token) == (field, token)


@pytest.mark.parametrize(
    ("expression", "token", "allowed"),
    [
        ("0 0 30 2 *", "30", "1-29 in those months"),
        ("0 0 31 4 *", "31", "1-30 in those months"),
        ("0 0 0 31 2 * *", "31", "1-29 in those months"),
        ("0 0 30,31 2 *", "30,31", "1-29 in those months"),
        ("0 0 31 APR,JUN *", "31", "1-30 in those months"),
    ],
)
def test_impossible_day(expression: str, token: str, allowed: str) -> None:
    """A day of month that the allowed months never have is rejected at parse time."""
    with pytest.raises(CronError) as caught:
        CronExpression.parse(expression)
    assert str(caught.value) == (
        f"invalid cron expression {expression!r}: day of month field: "
        f"day never occurs in the allowed months (got {token!r}; allowed: {allowed})"
    )


@pytest.mark.parametrize("zone", ["Mars/Base", "", "../etc/passwd", "/etc/localtime"])
def test_bad_time_zone(zone: str) -> None:
    """An unknown zone name is a CronError that names the zone."""
    with pytest.raises(CronError) as caught:
        CronExpression.parse("* * * * *", timezone=zone)
    assert str(caught.value) == (
        f"invalid cron expression '* * * * *': unknown time zone (got {zone!r}; "
        "allowed: an IANA time zone name such as 'Europe/Berlin' or 'UTC')"
    )


def test_non_string_expression() -> None:
    """Passing something else than a string is a TypeError, not a CronError."""
    with pytest.raises(TypeError, match="a cron expression is a str, not int"):
        CronExpression.parse(5)  # type: ignore[arg-type]
