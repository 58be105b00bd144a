"""The dashboard in a real browser against a live `symbi up`: login, jobs, runs, approvals."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.dashboard.conftest import XSS, screenshot

try:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import expect
except ImportError:  # the `chromium` fixture skips (or fails under CI) with the reason
    pass

pytestmark = pytest.mark.slow


def _reload_until(page: Any, locator: Any, timeout_s: float = 20) -> None:
    """Reload *page* until *locator* is visible (for pages that do not poll the server)."""
    deadline = page.evaluate("Date.now()") + timeout_s * 1000
    while True:
        try:
            locator.first.wait_for(timeout=500)
        except PlaywrightError:
            if page.evaluate("Date.now()") > deadline:
                raise
            page.reload()
        else:
            return


def _job_page(page: Any, name: str) -> None:
    page.goto("/")
    page.get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)


def test_a_wrong_key_is_refused(page: Any) -> None:
    """Without a session the dashboard sends you to the login form, which refuses a bad key."""
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=/$"))
    page.get_by_label("API key").fill("not-the-key")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text("That API key is not valid.")
    page.goto("/approvals")
    expect(page).to_have_url(re.compile(r"/login"))
    refused = page.request.post("/jobs/echo-every-second/pause", form={"csrf": "x"})
    assert refused.status == 401


def test_login_sets_a_signed_httponly_cookie_and_forms_need_csrf(logged_in: Any) -> None:
    """The cookie holds no key, is HttpOnly and SameSite=Strict; a post without CSRF fails."""
    (cookie,) = logged_in.context.cookies()
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Strict"
    assert "dashboard-t3st-key" not in cookie["value"]
    forged = logged_in.request.post("/jobs/echo-every-second/pause", form={"csrf": "forged"})
    assert forged.status == 401
    expect(logged_in.locator("#health")).to_contain_text("healthy")


def test_jobs_table_lists_jobs_with_run_strips_and_filters(logged_in: Any) -> None:
    """The jobs table shows each job's schedule and recent runs, and filters by name and status."""
    row = logged_in.locator("tr[data-job='echo-every-second']")
    expect(row).to_contain_text("Every second")
    _reload_until(logged_in, row.locator(".strip a.s-succeeded"))
    expect(logged_in.locator("#health [data-stat='runs']")).not_to_have_text("0 (0 / 0)")
    screenshot(logged_in, "jobs")
    logged_in.get_by_label("Name").fill("echo")
    logged_in.get_by_role("button", name="Filter").click()
    expect(logged_in.locator("#jobs tbody tr")).to_have_count(1)
    logged_in.goto("/?status=paused")
    expect(logged_in.locator("#jobs tbody")).to_have_text("No jobs match.")


def test_job_page_shows_new_runs_and_pauses_and_resumes(logged_in: Any) -> None:
    """A job's history gains runs live; pause and resume change its status."""
    _job_page(logged_in, "echo-every-second")
    first = logged_in.locator("#history tbody tr").first
    expect(first).to_contain_text("succeeded")
    screenshot(logged_in, "job")
    seen = first.locator("a").inner_text()
    expect(first.locator("a")).not_to_have_text(seen)  # the fragment polls in a newer run
    expect(logged_in.locator("ol.next li")).to_have_count(10)
    expect(logged_in.locator("svg.chart rect").first).to_be_attached()
    logged_in.get_by_role("button", name="Pause").click()
    expect(logged_in.get_by_role("status")).to_have_text("Job paused.")
    expect(logged_in.get_by_role("heading", level=1)).to_contain_text("paused")
    logged_in.get_by_role("button", name="Resume").click()
    expect(logged_in.get_by_role("status")).to_have_text("Job resumed.")
    expect(logged_in.get_by_role("heading", level=1)).to_contain_text("active")


def test_run_page_shows_untrusted_output_escaped(logged_in: Any) -> None:
    """A run's output containing a script tag is shown as text and never executed."""
    _job_page(logged_in, "echo-every-second")
    logged_in.locator("#history tbody tr a").first.click()
    expect(logged_in.locator("#output")).to_contain_text(XSS)
    expect(logged_in.get_by_role("heading", level=1)).to_contain_text("succeeded")
    assert logged_in.evaluate("window.pwned") is None
    screenshot(logged_in, "run")


def test_approve_a_pending_run_then_it_succeeds(logged_in: Any) -> None:
    """Run now on a job needing approval waits in the inbox; approving it lets it succeed."""
    _job_page(logged_in, "needs-approval")
    logged_in.get_by_label("Input (optional)").fill("<b>please</b>")
    logged_in.get_by_role("button", name="Run now").click()
    expect(logged_in.get_by_role("heading", level=1)).to_contain_text(
        "pending approval", timeout=20_000
    )
    run_url = logged_in.url.split("?")[0]
    logged_in.get_by_role("link", name="Approvals").click()
    row = logged_in.locator("#approvals tbody tr").filter(has_text="needs-approval")
    expect(row).to_contain_text("<b>please</b>")
    screenshot(logged_in, "approvals")
    row.get_by_role("button", name="Approve").click()
    expect(logged_in.get_by_role("status")).to_have_text("Run approved; it starts shortly.")
    logged_in.goto(run_url)
    expect(logged_in.get_by_role("heading", level=1)).to_contain_text("succeeded", timeout=20_000)
    expect(logged_in.locator("#output")).to_contain_text("<b>please</b>")


def test_reject_a_pending_run_with_a_reason(logged_in: Any) -> None:
    """Rejecting a waiting run cancels it and records the reason."""
    _job_page(logged_in, "needs-approval")
    logged_in.get_by_role("button", name="Run now").click()
    expect(logged_in.get_by_role("heading", level=1)).to_contain_text(
        "pending approval", timeout=20_000
    )
    logged_in.get_by_label("Reason").fill("not today")
    logged_in.get_by_role("button", name="Reject").click()
    expect(logged_in.get_by_role("heading", level=1)).to_contain_text("cancelled")
    expect(logged_in.locator("pre.error")).to_have_text("rejected by default: not today")


def test_reset_the_dead_lettered_job_and_see_it_audited(logged_in: Any) -> None:
    """The failing job reaches the dead-letter list; reset brings it back, audited by key name."""
    logged_in.get_by_role("link", name="Dead letter").click()
    _reload_until(logged_in, logged_in.locator("tr[data-job='always-fails']"))
    logged_in.get_by_role("button", name="Reset always-fails").click()
    expect(logged_in.get_by_role("status")).to_have_text("Job reset to active.")
    logged_in.get_by_role("link", name="Audit").click()
    logged_in.get_by_label("Type").select_option("CronJobReset")
    logged_in.get_by_label("Job (name or id)").fill("always-fails")
    logged_in.get_by_role("button", name="Filter").click()
    row = logged_in.locator("#audit tbody tr").first
    expect(row).to_contain_text("CronJobReset")
    expect(row).to_contain_text("default")


def test_delete_asks_for_confirmation(logged_in: Any) -> None:
    """Delete does nothing when the confirmation is dismissed, and deletes when accepted."""
    _job_page(logged_in, "always-fails")
    logged_in.once("dialog", lambda dialog: dialog.dismiss())
    logged_in.get_by_role("button", name="Delete").click()
    expect(logged_in.get_by_role("heading", level=1)).to_contain_text("always-fails")
    logged_in.once("dialog", lambda dialog: dialog.accept())
    logged_in.get_by_role("button", name="Delete").click()
    expect(logged_in.get_by_role("status")).to_have_text("Job deleted.")
    expect(logged_in.locator("tr[data-job='always-fails']")).to_have_count(0)


def test_keyboard_and_phone_layout(logged_in: Any) -> None:
    """The first Tab reaches the skip link, and on a phone nothing overflows sideways."""
    logged_in.keyboard.press("Tab")
    expect(logged_in.locator(":focus")).to_have_text("Skip to content")
    logged_in.set_viewport_size({"width": 390, "height": 844})
    logged_in.reload()
    overflow = logged_in.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    screenshot(logged_in, "jobs-phone")
