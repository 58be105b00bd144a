"""Opening the local store for a CLI command, and who the CLI user is."""

from __future__ import annotations

import getpass
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from symbiont.config import load_settings
from symbiont.config.build import build_store
from symbiont.core.clock import SystemClock
from symbiont.service import JobService, ServiceSettings


def cli_actor() -> str:
    """The actor of CLI changes: ``SYMBI_ACTOR``, else the operating-system user."""
    return os.environ.get("SYMBI_ACTOR") or getpass.getuser()


@asynccontextmanager
async def local_service(
    config: Path | None = None, db: Path | None = None, store_url: str | None = None
) -> AsyncIterator[JobService]:
    """Open the store named by flags, environment or config, and a service over it."""
    settings = load_settings(
        config,
        overrides={"store.path": None if db is None else str(db), "store.url": store_url},
    )
    async with build_store(settings, dict(os.environ)) as store:
        retries = settings.scheduler.default_max_retries
        yield JobService(store, SystemClock(), ServiceSettings(default_max_retries=retries))
