"""``symbi cron next``: description, fire times, and one-line errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from typer.testing import CliRunner

from symbiont.cli.main import app

runner = CliRunner()


def test_prints_description_and_fire_times() -> None:
    """The description comes first, then one line per fire time: local ISO and UTC."""
    arguments = ["cron", "next", "0 0 9 * * MON-FRI", "--tz", "Europe/Berlin"]
    result = runner.invoke(app, [*arguments, "--after", "2025-01-15T10:00:00Z", "-n", "3"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "At 09:00:00, Monday through Friday (Europe/Berlin)",
        "2025-01-16T09:00:00+01:00  2025-01-16T08:00:00Z",
        "2025-01-17T09:00:00+01:00  2025-01-17T08:00:00Z",
        "2025-01-20T09:00:00+01:00  2025-01-20T08:00:00Z",
    ]


def test_defaults_to_five_times_in_utc() -> None:
    """Without -n and --tz, five fire times are printed, in UTC."""
    result = runner.invoke(
        app, ["cron", "next", "0 */15 * * * *", "--after", "2025-01-15T10:07:30Z"]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "Every 15 minutes (UTC)"
    assert lines[1] == "2025-01-15T10:15:00+00:00  2025-01-15T10:15:00Z"
    assert len(lines) == 6


def test_naive_after_is_read_in_the_zone() -> None:
    """A naive --after is a wall time in --tz."""
    arguments = ["cron", "next", "0 9 * * *", "--tz", "America/New_York"]
    result = runner.invoke(app, [*arguments, "--after", "2025-07-01T08:00", "-n", "1"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1] == "2025-07-01T09:00:00-04:00  2025-07-01T13:00:00Z"


def test_default_start_is_now() -> None:
    """Without --after the fire times start from the current time."""
    result = runner.invoke(app, ["cron", "next", "* * * * *", "-n", "1"])
    assert result.exit_code == 0, result.output
    printed = datetime.fromisoformat(result.stdout.splitlines()[1].split()[0])
    assert timedelta(0) < printed - datetime.now(UTC) <= timedelta(minutes=1)


def test_exhausted_schedule_says_so() -> None:
    """A schedule that ends prints what it has, then says there are no more."""
    result = runner.invoke(
        app, ["cron", "next", "0 0 0 1 1 ? 2030", "--after", "2025-01-01T00:00:00Z", "-n", "3"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1:] == [
        "2030-01-01T00:00:00+00:00  2030-01-01T00:00:00Z",
        "(no further fire times)",
    ]


def test_bad_expression_exits_2_with_one_line() -> None:
    """A bad expression prints one readable line on stderr, no traceback, and exits 2."""
    result = runner.invoke(app, ["cron", "next", "61 0 * * *"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "symbi cron next: invalid cron expression '61 0 * * *': "
        "minute field: value out of range (got '61'; allowed: 0-59)\n"
    )


def test_bad_zone_exits_2() -> None:
    """An unknown --tz is reported like a bad expression."""
    result = runner.invoke(app, ["cron", "next", "* * * * *", "--tz", "Mars/Base"])
    assert result.exit_code == 2
    assert "unknown time zone (got 'Mars/Base'" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_bad_after_exits_2() -> None:
    """An --after that is not ISO 8601 is reported on one line, before any output."""
    result = runner.invoke(app, ["cron", "next", "* * * * *", "--after", "yesterday"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert (
        result.stderr == "symbi cron next: --after is not an ISO 8601 date-time (got 'yesterday')\n"
    )
