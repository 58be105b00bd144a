"""Public test helpers for symbiont and for code built on it."""

from __future__ import annotations

from symbiont.testing.channels import RecordingChannel
from symbiont.testing.clock import FakeClock
from symbiont.testing.dispatch import ScriptedDispatcher
from symbiont.testing.wait import wait_until

__all__ = ("FakeClock", "RecordingChannel", "ScriptedDispatcher", "wait_until")
