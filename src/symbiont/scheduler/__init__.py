"""The scheduler: pure planning of occurrences and the tick loop that applies it."""

from __future__ import annotations

from symbiont.scheduler.planner import OccurrencePlanner, next_fire_time

__all__ = ("OccurrencePlanner", "next_fire_time")
