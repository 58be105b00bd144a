"""One router per noun."""

from __future__ import annotations
