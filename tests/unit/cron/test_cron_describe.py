"""Plain-English descriptions of cron expressions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from symbiont.cron import CronExpression


@pytest.mark.parametrize(
    ("expression", "description"),
    [
        ("0 0 9 * * *", "At 09:00:00, every day"),
        ("0 0 18 * * 1", "At 18:00:00, only on Monday"),
        ("0 */15 * * * *", "Every 15 minutes"),
        ("0 0 0 1 * *", "At 00:00:00, on day 1 of the month"),
        ("* * * * *", "Every minute"),
        ("* * * * * *", "Every second"),
        ("30 * * * *", "At minute 30, every hour"),
        ("0 9-17 * * *", "At minute 0, hours 9 through 17"),
        ("0 0 9,17 * * *", "At 09:00:00 and 17:00:00, every day"),
        ("0 30 9 ? JAN-MAR MON-FRI", "At 09:30:00, Monday through Friday, January through March"),
        ("0 0 0 1 1 ? 2030", "At 00:00:00, on day 1 of the month, only in January, only in 2030"),
        ("0 0 12 * * ? 2025-2030", "At 12:00:00, every day, years 2025 through 2030"),
        ("@hourly", "At minute 0, every hour"),
        ("@weekly", "At 00:00:00, only on Sunday"),
        ("0 0 0 13 * 5", "At 00:00:00, on day 13 of the month or on Friday"),
        ("0 0 22-2 * * *", "At minute 0, hours 22 through 2"),
        ("0 0 9 * * FRI-MON", "At 09:00:00, Friday through Monday"),
        (
            "15,45 8-18/2 * * 1-5",
            "At minutes 15 and 45, every 2 hours from 8 through 18, Monday through Friday",
        ),
        ("0 0 1,15 */3 *", "At 00:00:00, on days 1 and 15 of the month, every 3 months"),
        ("0 0 12 L * ?", "At 12:00:00, on the last day of the month"),
        ("0 0 12 L-3 * ?", "At 12:00:00, 3 days before the last day of the month"),
        ("0 0 8 15W * ?", "At 08:00:00, on the weekday nearest day 15 of the month"),
        ("0 0 17 LW * ?", "At 17:00:00, on the last weekday of the month"),
        ("0 0 10 ? * 5#3", "At 10:00:00, on the third Friday of the month"),
        ("0 0 10 ? * FRIL", "At 10:00:00, on the last Friday of the month"),
    ],
)
def test_descriptions(expression: str, description: str) -> None:
    """Each expression reads as the expected sentence, with the zone in parentheses."""
    assert CronExpression.parse(expression).describe() == f"{description} (UTC)"


def test_description_names_the_zone() -> None:
    """The zone closes the description."""
    cron = CronExpression.parse("0 0 9 * * MON-FRI", timezone="Europe/Berlin")
    assert cron.describe() == "At 09:00:00, Monday through Friday (Europe/Berlin)"


def test_hash_is_described_by_its_values() -> None:
    """H reads as the values it picked for the seed."""
    cron = CronExpression.parse("H H * * *", seed="nightly")
    moment = cron.next(datetime(2025, 1, 1, tzinfo=UTC))
    assert moment is not None
    assert cron.describe() == f"At {moment:%H:%M}:00, every day (UTC)"
