"""A live `symbi up` with an API key, and Debian's Chromium driven by Playwright.

The browser tests skip locally when Chromium or Playwright is missing, and fail under
``CI=true`` (where `.ci/run` installs both).
"""

from __future__ import annotations

import json
import os
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.daemon_util import DaemonProcess

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
API_KEY = "dashboard-t3st-key"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
XSS = "<script>window.pwned = 1</script>"
FAIL = f"{sys.executable} -c 'import sys; sys.exit(1)'"
AGENTS = textwrap.dedent(
    f"""
    agent echo {{
      handler: "symbiont.testing.agents:echo"
    }}

    agent fail {{
      command: {json.dumps(FAIL)}
    }}

    schedule {{
      name: "echo-every-second"
      agent: "echo"
      cron: "* * * * * *"
      input: {json.dumps(XSS)}
    }}

    schedule {{
      name: "needs-approval"
      agent: "echo"
      cron: "0 0 1 1 *"
      policy {{ require_approval: true }}
    }}

    schedule {{
      name: "always-fails"
      agent: "fail"
      cron: "* * * * * *"
      max_retries: 1
    }}
    """
)


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (required under CI=true)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium under Playwright, or a skip (a failure under CI) when missing.

    Module-scoped: Playwright's sync API keeps an event loop running while it is open,
    which would break the anyio tests of later modules.
    """
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing: `apt-get install -y chromium`")
    try:
        from playwright.sync_api import sync_playwright  # noqa: PLC0415 - optional test tool
    except ImportError:
        _unavailable("playwright is missing: `pip install playwright` (never `playwright install`)")
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A `symbi up` on SQLite with three jobs and an API key; yields its base URL."""
    workdir = tmp_path_factory.mktemp("dashboard")
    agents = workdir / "agents"
    agents.mkdir()
    (agents / "dashboard.symbi").write_text(AGENTS)
    process = DaemonProcess(
        workdir,
        "--db",
        str(workdir / "symbi.db"),
        "--agents-dir",
        str(agents),
        env={"SYMBI_API_KEY": API_KEY},
    )
    try:
        yield process.wait_ready().rstrip("/")
    finally:
        process.stop()


@pytest.fixture
def page(chromium: Any, daemon: str) -> Iterator[Any]:
    """A fresh browser context (no cookies) on a laptop-sized screen."""
    context = chromium.new_context(base_url=daemon, viewport={"width": 1280, "height": 860})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def logged_in(page: Any) -> Any:
    """The page after logging in with the daemon's API key."""
    page.goto("/login")
    page.get_by_label("API key").fill(API_KEY)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")
    return page


def screenshot(page: Any, name: str) -> None:
    """Save a full-page screenshot under docs/screenshots/ for the README."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
