"""Delivery destinations misbehave: a webhook that hangs, one that answers 500, SMTP refusals.

Real receivers on 127.0.0.1 (a TCP server that accepts and never answers, an HTTP server that
answers 500, an aiosmtpd server that refuses with 550, a port where nothing listens) and a real
`symbi up` daemon. A delivery failure is bounded by the channel's timeout and retries, written
on the run (``deliveries``: status, error, attempts; shown by the API and counted in
``/metrics``) and never changes the run's own status; the job's other channels still deliver,
and the daemon stays healthy and on time.
"""

from __future__ import annotations

import json
import shutil
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.daemon_util import DaemonProcess
from tests.reliability._faults_util import (
    SilentServer,
    free_port,
    health,
    poll,
    refusing_smtp,
    rows,
    write_agents,
    write_config,
)
from tests.unit.delivery.helpers import receiver, text_answer

pytestmark = pytest.mark.slow

ECHO = shutil.which("echo") or "/bin/echo"
TIMEOUT_S = 0.5
DELIVERY = f"""
    [scheduler.delivery]
    webhook_timeout_seconds = {TIMEOUT_S}
    webhook_retry_attempts = 1
    retry_backoff_seconds = 0.1
    retry_max_backoff_seconds = 0.2
    smtp_host = "127.0.0.1"
    smtp_tls = "none"
    smtp_timeout_seconds = 2
    email_from = "symbi@example.com"
    """
TO_MAIL_AND_LOG = 'delivery: ["email", "log_file"]'


def _schedule(name: str, cron: str, *fields: str) -> str:
    lines = "".join(f"  {field}\n" for field in fields)
    return f'schedule {{\n  name: "{name}"\n  agent: "echo"\n  cron: "{cron}"\n{lines}}}\n'


def _finished(db: Path, job: str) -> list[dict[str, Any]]:
    found = rows(
        db,
        "SELECT id, status, output, scheduled_for, started_at, finished_at, deliveries"
        " FROM runs WHERE job_name = ? AND finished_at IS NOT NULL ORDER BY scheduled_for",
        (job,),
    )
    keys = ("id", "status", "output", "scheduled_for", "started_at", "finished_at")
    return [
        {**dict(zip(keys, row[:6], strict=True)), "deliveries": _by_channel(row[6])}
        for row in found
    ]


def _by_channel(text: str) -> dict[str, dict[str, Any]]:
    return {d["channel"]: d for d in json.loads(text)}


def _seconds(micros: int) -> float:
    return micros / 1e6


def test_failing_webhooks_are_bounded_recorded_and_runs_stay_on_time(tmp_path: Path) -> None:
    """Hanging and 500 webhooks, and SMTP with nothing listening: recorded, bounded, on time."""
    with (
        SilentServer() as silent,
        receiver(lambda _: text_answer(500, "database down")) as failing,
    ):
        hooks = '"webhook", "log_file"'
        agents = write_agents(
            tmp_path / "agents",
            f'agent echo {{\n  command: "{ECHO} done"\n}}\n'
            + _schedule(
                "hung", "*/2 * * * * *", f"delivery: [{hooks}]", f'webhook_url: "{silent.url}"'
            )
            + _schedule(
                "err500",
                "*/2 * * * * *",
                f"delivery: [{hooks}]",
                f'webhook_url: "{failing.url}/in"',
            )
            + _schedule(
                "mailer", "*/2 * * * * *", TO_MAIL_AND_LOG, 'email_recipients: ["ops@example.com"]'
            )
            + _schedule("steady", "* * * * * *"),
        )
        config = write_config(tmp_path / "symbi.toml", DELIVERY + f"smtp_port = {free_port()}\n")
        db = tmp_path / "symbi.db"
        daemon = DaemonProcess(
            tmp_path, "--db", str(db), "--agents-dir", str(agents), "--config", str(config)
        )
        try:
            url = daemon.wait_ready()
            hung = poll(lambda: len(runs := _finished(db, "hung")) >= 2 and runs, "two hung runs")
            err500 = poll(lambda: _finished(db, "err500"), "a run delivered to the 500 hook")
            mailer = poll(lambda: _finished(db, "mailer"), "a run mailed to a closed port")
            status = health(daemon)
            metrics = httpx.get(f"{url}/metrics", timeout=10).text
            shown = httpx.get(f"{url}/api/v1/runs/{hung[0]['id']}", timeout=10).json()
        finally:
            code = daemon.stop(signal.SIGTERM)
    assert code == 0, daemon.log_path.read_text()

    for run in hung:
        # the run succeeded; its webhook failed after two attempts, each cut at the timeout
        assert (run["status"], run["output"]) == ("succeeded", "done\n")
        webhook = run["deliveries"]["webhook"]
        assert (webhook["status"], webhook["attempts"]) == ("failed", 2)
        assert f"{TIMEOUT_S:g}" in webhook["error"]
        assert run["deliveries"]["log_file"]["status"] == "delivered"
        held = _seconds(run["finished_at"] - run["started_at"])
        assert 2 * TIMEOUT_S <= held < 10, held  # waited for both timeouts, and no longer
    assert silent.accepted >= 4  # two connections per run: the attempts really happened
    first, second = hung[0], hung[1]
    assert second["scheduled_for"] - first["scheduled_for"] == 2_000_000  # no occurrence lost
    assert _seconds(second["started_at"] - second["scheduled_for"]) < 1.5  # and on time

    webhook = err500[0]["deliveries"]["webhook"]
    assert (err500[0]["status"], webhook["status"], webhook["attempts"]) == (
        "succeeded",
        "failed",
        2,
    )
    assert "500" in webhook["error"]
    assert "database down" in webhook["error"]
    assert err500[0]["deliveries"]["log_file"]["status"] == "delivered"
    assert len(failing.requests) >= 2

    email = mailer[0]["deliveries"]["email"]
    assert (mailer[0]["status"], email["status"], email["attempts"]) == ("succeeded", "failed", 2)
    assert "Connect" in email["error"] or "refused" in email["error"], email["error"]
    assert mailer[0]["deliveries"]["log_file"]["status"] == "delivered"

    assert {(d["channel"], d["status"]) for d in shown["deliveries"]} == {
        ("webhook", "failed"),
        ("log_file", "delivered"),
    }
    assert 'symbiont_cron_deliveries_total{channel="webhook",status="failed"}' in metrics
    assert 'symbiont_cron_deliveries_total{channel="email",status="failed"}' in metrics
    assert (status["status"], status["store_errors"]) == ("healthy", 0)
    steady = _finished(db, "steady")
    late = [_seconds(r["started_at"] - r["scheduled_for"]) for r in steady]
    assert len(steady) >= 3
    assert max(late) < 1.5, late  # other jobs kept their time while deliveries hung
    log = (tmp_path / "logs" / "hung.log").read_text().splitlines()
    assert len(log) >= 2  # the other channel of the same job delivered every run


def test_smtp_refusals_are_recorded_and_the_daemon_stays_healthy(tmp_path: Path) -> None:
    """550 on RCPT TO and on DATA: the email delivery fails (not retried), the run succeeds."""
    with refusing_smtp("nobody@example.com", "blocked@example.com") as (port, smtp):
        agents = write_agents(
            tmp_path / "agents",
            f'agent echo {{\n  command: "{ECHO} done"\n}}\n'
            + _schedule(
                "no-mailbox",
                "* * * * * *",
                TO_MAIL_AND_LOG,
                'email_recipients: ["nobody@example.com"]',
            )
            + _schedule(
                "refused-data",
                "* * * * * *",
                TO_MAIL_AND_LOG,
                'email_recipients: ["blocked@example.com"]',
            )
            + _schedule(
                "partly",
                "* * * * * *",
                'delivery: ["email"]',
                'email_recipients: ["ops@example.com", "nobody@example.com"]',
            ),
        )
        config = write_config(tmp_path / "symbi.toml", DELIVERY + f"smtp_port = {port}\n")
        db = tmp_path / "symbi.db"
        daemon = DaemonProcess(
            tmp_path, "--db", str(db), "--agents-dir", str(agents), "--config", str(config)
        )
        try:
            daemon.wait_ready()
            no_mailbox = poll(lambda: _finished(db, "no-mailbox"), "a run mailed to nobody")
            refused = poll(lambda: _finished(db, "refused-data"), "a run whose DATA is refused")
            partly = poll(lambda: _finished(db, "partly"), "a run mailed to two, one refused")
            poll(lambda: len(_finished(db, "partly")) >= 2, "the next occurrence runs too")
            status = health(daemon)
        finally:
            code = daemon.stop(signal.SIGTERM)
    assert code == 0, daemon.log_path.read_text()

    email = no_mailbox[0]["deliveries"]["email"]
    assert (no_mailbox[0]["status"], email["status"], email["attempts"]) == (
        "succeeded",
        "failed",
        1,
    )
    assert "nobody@example.com (550" in email["error"]
    assert no_mailbox[0]["deliveries"]["log_file"]["status"] == "delivered"
    email = refused[0]["deliveries"]["email"]
    assert (refused[0]["status"], email["status"], email["attempts"]) == ("succeeded", "failed", 1)
    assert "550" in email["error"]
    assert "refused by policy" in email["error"]
    assert refused[0]["deliveries"]["log_file"]["status"] == "delivered"
    email = partly[0]["deliveries"]["email"]
    assert (email["status"], email["attempts"]) == ("failed", 1)
    assert "sent to 1 of 2 recipients" in email["error"]
    assert ["ops@example.com"] in smtp.accepted  # the accepted recipient did get it
    assert (status["status"], status["store_errors"]) == ("healthy", 0)
