"""Configuration: the settings tree and the composition root (the only readers of env and files)."""

from __future__ import annotations

from symbiont.config.settings import Settings, load_settings

__all__ = ("Settings", "load_settings")
