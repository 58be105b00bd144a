"""The service: the one door into the store for the API, the CLI and the DSL loader."""

from __future__ import annotations

from symbiont.service.jobs import JobService, ServiceSettings

__all__ = ("JobService", "ServiceSettings")
