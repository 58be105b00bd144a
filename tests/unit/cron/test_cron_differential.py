"""Differential tests against croniter and cronsim, on the subset where we agree.

A seeded generator (deterministic) builds thousands of expressions and start times; the
first fire times of our engine must equal croniter's and cronsim's. The generator stays
inside the subset where the three engines mean the same thing. Known differences, each
pinned by a test below (and listed in docs/cron.md):

croniter 7.0
  * An equal-endpoint range such as ``5-5`` means the whole field, not just 5.
  * ``a/n`` in day of week stops at Saturday; ours runs to 7 (Sunday), as Vixie cron does.
  * A repeated wall time (DST fall back) with a fixed hour fires at both occurrences.
  * ``nW`` ignores a restricted day of week instead of ORing with it; no ``LW`` or
    ``L-n``; the last Friday is spelled ``L5``; its year field fails with seconds first.
croniter and cronsim
  * ``H`` hashes differently (croniter) or does not exist (cronsim).
cronsim 2.8
  * Day of month and day of week are ANDed when either field starts with ``*`` (``*/2``),
    the Debian rule; ours ORs them whenever neither is exactly ``*`` or ``?``.
  * ``a-a/n`` is read as ``a/n`` (``5-5/10`` = 5, 15, 25...).
  * Its DST rules apply only to 5-field expressions whose minute and hour do not start with
    ``*``; other expressions skip wall times in a gap and fire repeated ones twice.
  * No ``?``, ``W``, ``L-n``, year field, or wrapping ranges.

DST zones are compared only away from transitions (the peers disagree with us there).
"""

from __future__ import annotations

import itertools
import random
import zlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter
from cronsim import CronSim

from symbiont.cron import CronExpression

FIRE_TIMES = 5
Peer = Callable[[str, str, datetime], list[datetime]]
DAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


class Generator:
    """Random expressions in the subset where croniter, cronsim and symbiont agree."""

    def __init__(self, seed: int, *, cronsim: bool) -> None:
        """Seed the generator so every run draws the same expressions."""
        self.rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
        self.last_weekday = cronsim  # croniter has no LW, and ORs no # or L with a day

    def item(self, low: int, high: int, *, start_step: bool = True) -> str:
        """One list item: a value, a range, or a step (never an equal-endpoint range)."""
        rng = self.rng
        first, last = sorted(rng.sample(range(low, high + 1), 2))
        step = rng.randint(1, high - low + 1)
        forms = [
            str(first),
            f"{first}-{last}",
            f"*/{step}",
            f"{first}-{last}/{rng.randint(1, 6)}",
        ]
        if start_step:
            forms.append(f"{first}/{step}")
        return rng.choice(forms)

    def field(self, low: int, high: int, *, star: float = 0.3, start_step: bool = True) -> str:
        """A whole field: * or a list of one to three items."""
        if self.rng.random() < star:
            return "*"
        count = self.rng.choice([1, 1, 2, 3])
        return ",".join(self.item(low, high, start_step=start_step) for _ in range(count))

    def day_fields(self) -> tuple[str, str]:
        """Day of month and day of week; never a restricted field starting with ``*``."""
        rng = self.rng
        dom = rng.choice(["*", "*", self.field(1, 28, star=0), "L", "15", "1,15"])
        if self.last_weekday and rng.random() < 0.1:
            dom = "LW"
        dow = rng.choice(
            ["*", "*", self.field(0, 6, star=0, start_step=False), "MON-FRI", "5#3", "1#1", "5L"]
        )
        if dom != "*" and dow != "*":
            dom = dom.replace("*/", "1-28/")
            dow = dow.replace("*/", "0-6/")
        special = "#" in dow or "L" in dow
        if rng.random() < 0.3 and not special:
            dow = ",".join(
                DAY_NAMES[int(part)] if part.isdigit() else part for part in dow.split(",")
            )
        if special and not self.last_weekday:
            dom = "*"  # croniter ANDs (or fails) a restricted day of month with # and L
        return dom, dow

    def expression(self) -> str:
        """A 5- or 6-field expression."""
        dom, dow = self.day_fields()
        month = self.rng.choice(["*", "*", self.field(1, 12, star=0), "JAN-JUN", "MAR,SEP"])
        fields = [self.field(0, 59), self.field(0, 23), dom, month, dow]
        if self.rng.random() < 0.4:
            fields.insert(0, self.field(0, 59))
        return " ".join(fields)

    def start(self, zone: str) -> datetime:
        """A start instant; in DST zones, well inside a stretch without transitions."""
        rng = self.rng
        year = rng.randint(2001, 2060)
        if zone == "UTC":
            return datetime(year, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randint(0, 364 * 86400))
        month = rng.choice([1, 6])  # January or June: two months before any transition
        local = datetime(year, month, rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59))
        return local.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def croniter_text(expression: str) -> str:
    """Translate for croniter, which spells the last Friday ``L5`` where we write ``5L``."""
    parts = expression.split()
    parts[-1] = ",".join(
        f"L{part[:-1]}" if part.endswith("L") and part[:-1].isdigit() else part
        for part in parts[-1].split(",")
    )
    return " ".join(parts)


def ours(expression: str, zone: str, start: datetime) -> list[datetime]:
    """Our first fire times."""
    cron = CronExpression.parse(expression, timezone=zone)
    return list(itertools.islice(cron.iter(start), FIRE_TIMES))


def by_croniter(expression: str, zone: str, start: datetime) -> list[datetime]:
    """Croniter's first fire times, in UTC."""
    it = croniter(
        croniter_text(expression), start.astimezone(ZoneInfo(zone)), second_at_beginning=True
    )
    return [it.get_next(datetime).astimezone(UTC) for _ in range(FIRE_TIMES)]


def by_cronsim(expression: str, zone: str, start: datetime) -> list[datetime]:
    """Cronsim's first fire times, in UTC."""
    it = CronSim(expression, start.astimezone(ZoneInfo(zone)))
    return [next(it).astimezone(UTC) for _ in range(FIRE_TIMES)]


def before(times: list[datetime], limit: datetime) -> list[datetime]:
    """The times before *limit*."""
    return [moment for moment in times if moment < limit]


def stable_until(zone: str, start: datetime) -> datetime:
    """The end of the stretch without transitions that *start* lies in (March or September)."""
    if zone == "UTC":
        return datetime.max.replace(tzinfo=UTC)
    return datetime(start.year, 3 if start.month < 6 else 9, 1, tzinfo=UTC)


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Europe/Berlin"])
@pytest.mark.parametrize("peer", [by_croniter, by_cronsim], ids=["croniter", "cronsim"])
def test_agrees_with_peer(zone: str, peer: Peer) -> None:
    """On 1000 generated expressions per zone, the first fire times equal the peer's."""
    seed = zlib.crc32(f"{peer.__name__} {zone}".encode())
    generator = Generator(seed, cronsim=peer is by_cronsim)
    compared = 0
    for _ in range(1000):
        expression = generator.expression()
        start = generator.start(zone)
        expected = peer(expression, zone, start)
        limit = stable_until(zone, start)
        assert before(ours(expression, zone, start), limit) == before(expected, limit), (
            expression,
            zone,
            start,
        )
        compared += 1
    assert compared == 1000


def test_known_difference_equal_range() -> None:
    """Croniter reads 5-5 as every minute; we read it as minute 5."""
    start = datetime(2025, 1, 1, tzinfo=UTC)
    assert ours("5-5 * * * *", "UTC", start)[0] == datetime(2025, 1, 1, 0, 5, tzinfo=UTC)
    assert by_croniter("5-5 * * * *", "UTC", start)[0] == datetime(2025, 1, 1, 0, 1, tzinfo=UTC)


def test_known_difference_weekday_start_step() -> None:
    """1/2 in day of week includes Sunday for us and cronsim, not for croniter."""
    start = datetime(2025, 1, 10, 12, tzinfo=UTC)  # a Friday
    sunday = datetime(2025, 1, 12, tzinfo=UTC)
    assert ours("0 0 * * 1/2", "UTC", start)[0] == sunday
    assert by_cronsim("0 0 * * 1/2", "UTC", start)[0] == sunday
    assert by_croniter("0 0 * * 1/2", "UTC", start)[0] == sunday + timedelta(days=1)


def test_known_difference_fall_back_fixed_hour() -> None:
    """Croniter fires a fixed-hour job twice in the repeated hour; we fire it once."""
    start = datetime(2025, 11, 1, 12, tzinfo=UTC)
    first, second = (
        datetime(2025, 11, 2, 5, 30, tzinfo=UTC),
        datetime(2025, 11, 2, 6, 30, tzinfo=UTC),
    )
    assert ours("30 1 * * *", "America/New_York", start)[:2] == [first, second + timedelta(days=1)]
    assert by_croniter("30 1 * * *", "America/New_York", start)[:2] == [first, second]


def test_known_difference_star_step_day_field() -> None:
    """Cronsim ANDs */2 in day of month with a day of week; we OR them (Vixie)."""
    start = datetime(2025, 1, 1, tzinfo=UTC)
    assert ours("0 0 */2 * 1", "UTC", start)[0] == datetime(2025, 1, 3, tzinfo=UTC)
    assert by_cronsim("0 0 */2 * 1", "UTC", start)[0] == datetime(2025, 1, 13, tzinfo=UTC)


def test_known_difference_six_field_gap() -> None:
    """Cronsim skips a 6-field wall time in a DST gap; we fire it when the gap ends."""
    start = datetime(2025, 3, 8, 12, tzinfo=UTC)
    assert ours("0 30 2 * * *", "America/New_York", start)[0] == datetime(2025, 3, 9, 7, tzinfo=UTC)
    assert by_cronsim("0 30 2 * * *", "America/New_York", start)[0] == datetime(
        2025, 3, 10, 6, 30, tzinfo=UTC
    )
