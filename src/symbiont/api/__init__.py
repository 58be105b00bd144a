"""The HTTP API (FastAPI): the only package that imports FastAPI."""

from __future__ import annotations

from symbiont.api.app import AppState, create_app

__all__ = ("AppState", "create_app")
