"""Observability: structured logging (and, later, metrics), fed by events."""

from __future__ import annotations

from symbiont.observability.logging import configure_logging

__all__ = ("configure_logging",)
