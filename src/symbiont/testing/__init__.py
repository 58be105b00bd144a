"""Public test helpers for symbiont and for code built on it."""

from __future__ import annotations

from symbiont.testing.clock import FakeClock

__all__ = ("FakeClock",)
