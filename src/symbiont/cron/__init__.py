"""Cron expressions: parse them, compute their fire times in a time zone, describe them."""

from __future__ import annotations

from symbiont.core.errors import CronError
from symbiont.cron.expression import CronExpression

__all__ = ("CronError", "CronExpression")
