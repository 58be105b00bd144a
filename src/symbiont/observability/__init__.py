"""Observability: structured logging (and, later, metrics), fed by events."""

from __future__ import annotations

from symbiont.observability.logging import configure_logging
from symbiont.observability.runlog import log_runs

__all__ = ("configure_logging", "log_runs")
