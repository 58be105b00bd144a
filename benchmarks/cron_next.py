"""Benchmark: parse and next-fire-time speed of symbiont's cron engine against its peers.

Runs one fixed corpus of expressions (5, 6 and 7 fields, every special character, UTC and
DST zones) through symbiont, croniter, cronsim and APScheduler 3's ``CronTrigger``. A peer
is timed on an expression only if it can express it and its first fire times agree with
ours; every skip is listed with its reason. For each engine the script reports the median,
over the corpus, of the per-expression median time of one ``parse`` and one ``next``.

Usage: ``python benchmarks/cron_next.py [--quick]`` (``--quick``: a smoke run of seconds).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from croniter import croniter
from cronsim import CronSim

from symbiont.cron import CronExpression

if TYPE_CHECKING:
    from collections.abc import Callable

START = datetime(2025, 3, 1, 6, 7, 8, tzinfo=UTC)
DST_START = datetime(2025, 3, 7, tzinfo=UTC)  # just before the northern spring transitions
CORPUS: tuple[tuple[str, str], ...] = (
    ("0 0 9 * * *", "UTC"),
    ("0 0 18 * * 1", "UTC"),
    ("0 */15 * * * *", "UTC"),
    ("0 0 0 1 * *", "Europe/Berlin"),
    ("*/5 * * * *", "UTC"),
    ("0 9 * * 1-5", "America/New_York"),
    ("30 2 * * *", "America/New_York"),
    ("30 1 * * *", "America/New_York"),
    ("0 * * * *", "Europe/London"),
    ("*/10 * * * *", "Australia/Lord_Howe"),
    ("0 0 12 L * ?", "UTC"),
    ("0 0 12 L-3 * ?", "Europe/Paris"),
    ("0 0 8 15W * ?", "UTC"),
    ("0 0 8 1W * ?", "America/Chicago"),
    ("0 0 17 LW * ?", "Asia/Tokyo"),
    ("0 0 10 ? * 5#3", "UTC"),
    ("0 0 10 ? * 5L", "Europe/Berlin"),
    ("0 0 10 ? * FRIL", "UTC"),
    ("0 30 9 ? JAN-MAR MON-FRI", "America/Los_Angeles"),
    ("0 0 0 1 1 ? 2030", "UTC"),
    ("0 0 12 * * ? 2025-2030", "Europe/Berlin"),
    ("0 0 6 1,15 * ? 2026/2", "UTC"),
    ("@daily", "UTC"),
    ("@hourly", "America/New_York"),
    ("@weekly", "Europe/London"),
    ("@monthly", "UTC"),
    ("@yearly", "Asia/Kolkata"),
    ("H H * * *", "UTC"),
    ("H/15 * * * *", "Europe/Berlin"),
    ("H(0-29) 3 * * 1-5", "UTC"),
    ("0 0 22-2 * * *", "UTC"),
    ("0 0 9 * * FRI-MON", "Europe/Berlin"),
    ("15,45 8-18/2 * * 1-5", "America/New_York"),
    ("0 0 0 1,15 * 1", "UTC"),
    ("0 0 0 29 2 *", "UTC"),
    ("* * * * * *", "UTC"),
    ("*/30 * * * * *", "Australia/Lord_Howe"),
    ("0 0 0 * * 0", "UTC"),
    ("0 0 0 * * 7", "America/Sao_Paulo"),
    ("0 5 4 * * sun", "Pacific/Auckland"),
    ("0 0 12 13 * 5", "UTC"),
    ("0 0/20 9-17 * * MON-FRI", "Europe/Amsterdam"),
    ("59 23 31 12 *", "UTC"),
    ("0 0 3 ? * 1#1,3#2", "Europe/Berlin"),
    ("0 15 10 ? * 6L 2025-2035", "UTC"),
    ("0 0 4 L * *", "America/New_York"),
    ("0 0 2 * 3,9 0", "Australia/Lord_Howe"),
    ("0 0 12 ? * MON#2", "UTC"),
)
MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
APS_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
ORDINALS = ("1st", "2nd", "3rd", "4th", "5th")
AGREEMENT = 6  # fire times compared before a peer is timed on an expression


class Unsupported(Exception):
    """The peer cannot express this expression."""


@dataclass
class Engine:
    """One engine under test: how to build its iterator and how to step it."""

    name: str
    build: Callable[[str, str, datetime], Callable[[], datetime]]
    """Returns a step function that yields the next fire time (any zone) on each call."""
    parse: Callable[[str, str, datetime], object]
    cold: Callable[[str, str], Callable[[datetime], object]] | None = None
    """Returns a function computing the next fire time after any instant (no chaining)."""
    parse_ms: list[float] = field(default_factory=list)
    cold_ms: list[float] = field(default_factory=list)
    next_ms: list[float] = field(default_factory=list)
    timed: list[int] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def six_fields(expression: str) -> list[str]:
    parts = MACROS.get(expression.lower(), expression).split()
    return ["0", *parts] if len(parts) == 5 else parts


def uses_hash(expression: str) -> bool:
    """Whether a field uses ``H``, which every peer hashes differently or not at all."""
    items = (item for part in six_fields(expression) for item in part.upper().split(","))
    return any(item.startswith("H") for item in items)


# --- symbiont ---------------------------------------------------------------------------
def ours_parse(expression: str, zone: str, _start: datetime) -> CronExpression:
    return CronExpression.parse(expression, timezone=zone, seed="benchmark")


def ours_build(expression: str, zone: str, start: datetime) -> Callable[[], datetime]:
    cron = CronExpression.parse(expression, timezone=zone, seed="benchmark")
    return cron.iter(start).__next__


def ours_cold(expression: str, zone: str) -> Callable[[datetime], object]:
    return CronExpression.parse(expression, timezone=zone, seed="benchmark").next


# --- croniter ---------------------------------------------------------------------------
def croniter_parse(expression: str, zone: str, start: datetime) -> croniter:
    if uses_hash(expression):
        raise Unsupported("croniter hashes H differently")
    parts = six_fields(expression)
    # croniter spells "last Friday" L5 where we (and Quartz) write 5L or FRIL.
    parts[5] = ",".join(
        f"L{cron_day(item[:-1].lower()) % 7}" if item.upper().endswith("L") else item
        for item in parts[5].split(",")
    )
    text = " ".join(parts)
    return croniter(text, start.astimezone(ZoneInfo(zone)), second_at_beginning=True)


def croniter_cold(expression: str, zone: str) -> Callable[[datetime], object]:
    it = croniter_parse(expression, zone, START)

    def step(after: datetime) -> object:
        it.set_current(after, force=True)
        return it.get_next(datetime)

    return step


def croniter_build(expression: str, zone: str, start: datetime) -> Callable[[], datetime]:
    it = croniter_parse(expression, zone, start)
    return lambda: it.get_next(datetime)


# --- cronsim ----------------------------------------------------------------------------
def cronsim_parse(expression: str, zone: str, start: datetime) -> CronSim:
    parts = six_fields(expression)
    if len(parts) != 6:
        raise Unsupported("no year field in cronsim")
    if uses_hash(expression):
        raise Unsupported("no H in cronsim")
    # Pass 5-field expressions as they are: cronsim applies its DST rules to those only.
    original = MACROS.get(expression.lower(), expression).split()
    text = " ".join("*" if part == "?" else part for part in original)
    return CronSim(text, start.astimezone(ZoneInfo(zone)))


def cronsim_build(expression: str, zone: str, start: datetime) -> Callable[[], datetime]:
    it = cronsim_parse(expression, zone, start)
    return lambda: next(it)


# --- APScheduler 3 ----------------------------------------------------------------------
def aps_day_of_week(text: str) -> str:
    """Translate a plain cron day-of-week list (Sunday = 0) into APScheduler's names."""
    names: list[str] = []
    for item in text.lower().split(","):
        base, _, step_text = item.partition("/")
        step = int(step_text) if step_text else 1
        first_text, _, last_text = base.partition("-")
        first = 0 if base == "*" else cron_day(first_text)
        last = 6 if base == "*" else cron_day(last_text or first_text)
        if last < first:
            raise Unsupported("wrapping day-of-week range")
        names.extend(APS_DAYS[day % 7] for day in range(first, last + 1, step))
    return ",".join(dict.fromkeys(names))


def cron_day(text: str) -> int:
    if text.isdigit():
        return int(text)
    if text in APS_DAYS:
        return APS_DAYS.index(text)
    raise Unsupported(f"day of week {text!r}")


def aps_days(dom: str, dow: str) -> tuple[str, str]:
    """Return APScheduler's (day, day_of_week) for cron's day of month and day of week."""
    dom_any, dow_any = dom in {"*", "?"}, dow in {"*", "?"}
    if not dom_any and not dow_any:
        raise Unsupported("day of month OR day of week (APScheduler ANDs its fields)")
    if not dom_any:
        if dom.upper() == "L":
            return "last", "*"
        if any(letter in dom.upper() for letter in "LW"):
            raise Unsupported("W and L-n in day of month")
        return dom, "*"
    if dow_any:
        return "*", "*"
    if "#" in dow or dow.upper().endswith("L"):
        days = []
        for item in dow.lower().split(","):
            if "#" in item:
                day, _, nth = item.partition("#")
                days.append(f"{ORDINALS[int(nth) - 1]} {APS_DAYS[cron_day(day) % 7]}")
            else:
                days.append(f"last {APS_DAYS[cron_day(item[:-1]) % 7]}")
        return ",".join(days), "*"
    return "*", aps_day_of_week(dow)


def aps_parse(expression: str, zone: str, _start: datetime) -> CronTrigger:
    parts = six_fields(expression)
    if uses_hash(expression):
        raise Unsupported("no H in APScheduler")
    for part in (parts[1], parts[2]):
        first, _, last = part.partition("/")[0].partition("-")
        if last.isdigit() and first.isdigit() and int(last) < int(first):
            raise Unsupported("wrapping range")
    day, day_of_week = aps_days(parts[3], parts[5])
    return CronTrigger(
        year=parts[6] if len(parts) == 7 else "*",
        month=parts[4],
        day=day,
        day_of_week=day_of_week,
        hour=parts[2],
        minute=parts[1],
        second=parts[0],
        timezone=ZoneInfo(zone),
    )


def aps_cold(expression: str, zone: str) -> Callable[[datetime], object]:
    trigger = aps_parse(expression, zone, START)
    tick = timedelta(microseconds=1)
    return lambda after: trigger.get_next_fire_time(None, after + tick)


def aps_build(expression: str, zone: str, start: datetime) -> Callable[[], datetime]:
    trigger = aps_parse(expression, zone, start)
    state = [start.astimezone(ZoneInfo(zone))]
    tick = timedelta(microseconds=1)

    def step() -> datetime:
        found = trigger.get_next_fire_time(state[0], state[0] + tick)
        if found is None:
            raise StopIteration
        state[0] = found
        return found

    return step


ENGINES = (
    Engine("symbiont", ours_build, ours_parse, ours_cold),
    Engine("croniter", croniter_build, croniter_parse, croniter_cold),
    Engine("cronsim", cronsim_build, cronsim_parse),  # its only API is an iterator
    Engine("APScheduler 3", aps_build, aps_parse, aps_cold),
)


def first_times(build: Callable[[], Callable[[], datetime]]) -> list[datetime]:
    step = build()
    times = []
    for _ in range(AGREEMENT):
        try:
            times.append(step().astimezone(UTC))
        except StopIteration:
            break
    return times


def median_us(run: Callable[[], object], rounds: int, loops: int) -> float:
    """Median over *rounds* of the mean time of one call in a loop of *loops* calls, in µs."""
    samples = []
    for _ in range(rounds):
        began = time.perf_counter_ns()
        for _ in range(loops):
            run()
        samples.append((time.perf_counter_ns() - began) / loops / 1000)
    return statistics.median(samples)


def median_next_us(build: Callable[[], Callable[[], datetime]], rounds: int, loops: int) -> float:
    samples = []
    for _ in range(rounds):
        step = build()  # a fresh iterator each round, built outside the timed loop
        began = time.perf_counter_ns()
        for _ in range(loops):
            step()
        samples.append((time.perf_counter_ns() - began) / loops / 1000)
    return statistics.median(samples)


def median_cold_us(
    step: Callable[[datetime], object], starts: list[datetime], rounds: int
) -> float:
    samples = []
    for _ in range(rounds):
        began = time.perf_counter_ns()
        for start in starts:
            step(start)
        samples.append((time.perf_counter_ns() - began) / len(starts) / 1000)
    return statistics.median(samples)


def start_for(zone: str) -> datetime:
    return START if zone == "UTC" else DST_START


def unrelated_starts(zone: str, count: int) -> list[datetime]:
    """Instants spread over two months (in the expression's zone), unrelated to fire times."""
    first = start_for(zone)
    return [
        (first + timedelta(seconds=index * 130_003)).astimezone(ZoneInfo(zone))
        for index in range(count)
    ]


def run_engine(engine: Engine, reference: list[list[datetime]], rounds: int, loops: int) -> None:
    for index, (expression, zone) in enumerate(CORPUS):
        start = start_for(zone)
        try:
            times = first_times(lambda e=expression, z=zone, s=start: engine.build(e, z, s))
        except Unsupported as exc:
            engine.skipped.append(f"`{expression}` ({zone}): cannot express: {exc}")
            continue
        except Exception as exc:
            engine.skipped.append(f"`{expression}` ({zone}): rejected: {type(exc).__name__}")
            continue
        if times != reference[index]:
            engine.skipped.append(f"`{expression}` ({zone}): different fire times")
            continue
        chain = loops if len(times) == AGREEMENT else max(len(times), 1)
        engine.parse_ms.append(
            median_us(lambda e=expression, z=zone, s=start: engine.parse(e, z, s), rounds, loops)
        )
        engine.next_ms.append(
            median_next_us(
                lambda e=expression, z=zone, s=start: engine.build(e, z, s), rounds, chain
            )
        )
        if engine.cold is not None:
            starts = unrelated_starts(zone, loops)
            engine.cold_ms.append(median_cold_us(engine.cold(expression, zone), starts, rounds))
        engine.timed.append(index)


def subset_median(values: list[float], indexes: list[int], wanted: list[int]) -> float:
    by_index = dict(zip(indexes, values, strict=True))
    return statistics.median(by_index[index] for index in wanted)


def report(engines: tuple[Engine, ...]) -> tuple[str, bool]:
    ours = engines[0]
    header = "| engine | expressions timed | parse median (µs) | next median (µs) "
    header += "| parse: peer / ours | next: peer / ours |"
    ours_row = f"| {ours.name} | {len(ours.timed)}/{len(CORPUS)} "
    ours_row += f"| {statistics.median(ours.parse_ms):.2f} | {statistics.median(ours.next_ms):.2f} "
    lines = [header, "|---|---|---|---|---|---|", ours_row + "| 1.0 | 1.0 |"]
    ratios: dict[str, tuple[float, float]] = {}
    for peer in engines[1:]:
        our_parse = subset_median(ours.parse_ms, ours.timed, peer.timed)
        our_next = subset_median(ours.next_ms, ours.timed, peer.timed)
        parse_ratio = statistics.median(peer.parse_ms) / our_parse
        next_ratio = statistics.median(peer.next_ms) / our_next
        ratios[peer.name] = (parse_ratio, next_ratio)
        lines.append(
            f"| {peer.name} | {len(peer.timed)}/{len(CORPUS)} "
            f"| {statistics.median(peer.parse_ms):.2f} | {statistics.median(peer.next_ms):.2f} "
            f"| {parse_ratio:.1f}x | {next_ratio:.1f}x |"
        )
    targets = [
        ("next >= 20x faster than croniter", ratios["croniter"][1] >= 20),
        ("next >= 10x faster than cronsim", ratios["cronsim"][1] >= 10),
        ("parse >= 5x faster than croniter", ratios["croniter"][0] >= 5),
    ]
    lines.append("")
    lines.extend(f"- {name}: {'met' if ok else 'MISSED'}" for name, ok in targets)
    lines.extend(["", *cold_report(engines)])
    return "\n".join(lines), all(ok for _, ok in targets)


def cold_report(engines: tuple[Engine, ...]) -> list[str]:
    """The table of next() from unrelated instants (no chaining, no state to reuse)."""
    ours = engines[0]
    lines = [
        "next from unrelated instants (not the previous fire time):",
        "",
        "| engine | expressions | next median (µs) | peer / ours (same expressions) |",
        "|---|---|---|---|",
        f"| {ours.name} | {len(ours.timed)} | {statistics.median(ours.cold_ms):.2f} | 1.0 |",
    ]
    for peer in engines[1:]:
        if not peer.cold_ms:
            lines.append(f"| {peer.name} | - | - | (iterator only) |")
            continue
        ratio = statistics.median(peer.cold_ms) / subset_median(
            ours.cold_ms, ours.timed, peer.timed
        )
        lines.append(
            f"| {peer.name} | {len(peer.timed)} | {statistics.median(peer.cold_ms):.2f} "
            f"| {ratio:.1f}x |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    args = parser.parse_args(argv)
    rounds, loops = (3, 3) if args.quick else (15, 40)
    reference = [
        first_times(lambda e=expression, z=zone: ours_build(e, z, start_for(z)))
        for expression, zone in CORPUS
    ]
    for engine in ENGINES:
        run_engine(engine, reference, rounds, loops)
    table, met = report(ENGINES)
    print(f"# cron engine benchmark ({'quick' if args.quick else 'full'} run)")
    print(f"{datetime.now(UTC):%Y-%m-%d}, Python {platform.python_version()}, {platform.machine()}")
    print(f"corpus: {len(CORPUS)} expressions; medians over per-expression medians\n")
    print(table)
    print(f"\nall targets met: {'yes' if met else 'no'}\n\nskipped:")
    for engine in ENGINES[1:]:
        for line in engine.skipped:
            print(f"- {engine.name}: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
