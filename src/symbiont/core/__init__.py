"""The shared kernel: models, errors and the clock, with no I/O."""

from __future__ import annotations

from symbiont.core.errors import CronError, DslError, SymbiontError

__all__ = ("CronError", "DslError", "SymbiontError")
