"""Pure planning: which runs a due job gets, and where its schedule moves next.

No I/O and no awaits: `OccurrencePlanner` is called inside the store's claim transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from symbiont.core.enums import MisfirePolicy, RunStatus, RunTrigger
from symbiont.core.models import Job, JobSchedule
from symbiont.cron import CronExpression
from symbiont.store.base import ClaimPlan, PlannedRun


def expression_for(cron_expr: str, timezone: str, seed: str) -> CronExpression:
    """Parse (once, then from a cache) a job's expression, its ``H`` fields seeded by *seed*.

    The seed only matters for expressions that use ``H``; others share one cache entry, so
    thousands of jobs on the same schedule parse it once.
    """
    return _parse(cron_expr, timezone, seed if "H" in cron_expr.upper() else "")


@lru_cache(maxsize=4096)
def _parse(cron_expr: str, timezone: str, seed: str) -> CronExpression:
    return CronExpression.parse(cron_expr, timezone=timezone, seed=seed or None)


def next_fire_time(job: Job | JobSchedule, after: datetime) -> datetime | None:
    """Return the job's first occurrence strictly after *after* (UTC), or None.

    A one-shot job's only occurrence is its ``at`` time. A cron job's ``H`` fields are
    seeded with its name, so the hashed minute stays put across restarts.
    """
    if job.at is not None:
        return job.at if job.at > after else None
    if job.cron_expr is None:
        return None
    seed = job.name if "H" in job.cron_expr.upper() else ""
    return _cron_next(job.cron_expr, job.timezone, seed, after)


@lru_cache(maxsize=16384)
def _cron_next(cron_expr: str, timezone: str, seed: str, after: datetime) -> datetime | None:
    """The next occurrence, remembered: jobs sharing a schedule are due at the same instant.

    A claim of thousands of jobs on a few schedules computes each next time once.
    """
    return _parse(cron_expr, timezone, seed).next(after)


def next_fire_time_of(values: Mapping[str, Any], after: datetime) -> datetime | None:
    """`next_fire_time` for a definition given as field values (before the Job exists)."""
    cron_expr = values.get("cron_expr")
    if cron_expr is None:
        at = values.get("at")
        return at if at is not None and at > after else None
    zone, name = values.get("timezone", "UTC"), values["name"]
    return expression_for(cron_expr, zone, name).next(after)


@dataclass(frozen=True, slots=True, kw_only=True)
class OccurrencePlanner:
    """Decides the runs of a due job: on-time occurrences run, missed ones follow the policy.

    An occurrence is *missed* when it is more than ``grace`` behind ``now`` (the daemon was
    down or the job paused). Then the job's ``misfire_policy`` applies: ``run_once`` runs
    the latest missed occurrence once (``trigger=catchup``), ``run_all`` runs each of them
    (at most ``max_catchup``), ``skip`` runs none. Whatever is not run is written down as
    one ``skipped`` run with the count and the time range, so nothing disappears silently.
    """

    grace: timedelta = timedelta(seconds=5)
    """How late an occurrence may be and still run as a normal scheduled run."""
    max_catchup: int = 100
    """Most missed occurrences one claim enumerates and runs under ``run_all``."""
    catchup: bool = True
    """``enable_missed_run_catchup``; when false every job behaves as ``skip``."""

    def __call__(self, job: JobSchedule, now: datetime) -> ClaimPlan:
        """Plan the claim of *job*, whose ``next_run`` is at or before *now*."""
        due = job.next_run
        if due is None:
            return ClaimPlan(runs=(), next_run=None)
        if now - due <= self.grace:  # the common case: one on-time occurrence
            following = next_fire_time(job, due)
            if following is None or following > now:
                return ClaimPlan(runs=(PlannedRun(scheduled_for=due),), next_run=following)
        occurrences, following = self._due_occurrences(job, now)
        on_time = [o for o in occurrences if now - o <= self.grace]
        missed = [o for o in occurrences if now - o > self.grace]
        runs = [PlannedRun(scheduled_for=o) for o in on_time]
        if missed:
            runs = self._misfires(job, missed, following, covered=bool(on_time)) + runs
        return ClaimPlan(runs=tuple(runs), next_run=following)

    def _due_occurrences(
        self, job: JobSchedule, now: datetime
    ) -> tuple[list[datetime], datetime | None]:
        """List due occurrences (at most ``max_catchup + 1``) and the first one after now."""
        assert job.next_run is not None  # noqa: S101 - checked by the caller
        occurrences = [job.next_run]
        following = next_fire_time(job, job.next_run)
        while following is not None and following <= now:
            if len(occurrences) > self.max_catchup:
                following = next_fire_time(job, now)
                break
            occurrences.append(following)
            following = next_fire_time(job, following)
        return occurrences, following

    def _misfires(
        self, job: JobSchedule, missed: list[datetime], following: datetime | None, *, covered: bool
    ) -> list[PlannedRun]:
        policy = job.misfire_policy if self.catchup else MisfirePolicy.skip
        if policy is MisfirePolicy.run_all:
            ran = missed[: self.max_catchup]
            runs = [PlannedRun(scheduled_for=o, trigger=RunTrigger.catchup) for o in ran]
            if len(missed) > len(ran):
                runs.append(_skipped(missed[len(ran) :], following, "run_all is capped"))
            return runs
        if policy is MisfirePolicy.run_once and not covered:
            run = PlannedRun(scheduled_for=missed[-1], trigger=RunTrigger.catchup)
            return (
                [_skipped(missed[:-1], following, "run_once ran the latest"), run]
                if len(missed) > 1
                else [run]
            )
        why = "a later on-time run covers them" if covered else f"misfire_policy={policy}"
        return [_skipped(missed, following, why)]


def _skipped(missed: list[datetime], following: datetime | None, why: str) -> PlannedRun:
    first, last = missed[0], missed[-1]
    more = "" if following is None else f", before {following.isoformat()}"
    count = f"{len(missed)} occurrence" + ("s" if len(missed) != 1 else "")
    return PlannedRun(
        scheduled_for=last,
        trigger=RunTrigger.catchup,
        status=RunStatus.skipped,
        error_message=(
            f"{count} missed from {first.isoformat()} to {last.isoformat()}{more} "
            f"(daemon down or job paused); not run: {why}"
        ),
    )
