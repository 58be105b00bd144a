"""The ``email`` channel against a real aiosmtpd server: plain, STARTTLS, implicit TLS, auth."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from symbiont.core.enums import RunStatus
from symbiont.core.errors import DeliveryError
from symbiont.delivery import DefaultDeliveryRouter, EmailChannel, EmailSettings
from tests.unit.delivery.helpers import (
    InstantClock,
    certificates,
    free_port,
    make_job,
    make_run,
    settings,
    smtp_server,
)

pytestmark = pytest.mark.anyio
RECIPIENTS = ("ops@example.com", "${SECURITY_TEAM}")
LOGIN = {"username": "${SMTP_USER}", "password": "${SMTP_PASS}"}
"""The SMTP login, as templates resolved from `ENVIRON`."""
ENVIRON = {"SECURITY_TEAM": "security@example.com", "SMTP_USER": "bot", "SMTP_PASS": "pa55-w0rd"}


def email_job(**fields: object) -> object:
    """A job mailing its runs to two recipients (one from the environment)."""
    return make_job(**{"delivery": ("email",), "email_recipients": RECIPIENTS, **fields})


def channel(port: int, **fields: object) -> EmailChannel:
    """An email channel for the local server on *port*."""
    smtp = replace(
        EmailSettings(
            host="127.0.0.1",
            port=port,
            sender="Symbiont <symbiont@example.com>",
            tls="none",
            timeout=timedelta(seconds=5),
        ),
        **fields,
    )
    return EmailChannel(
        settings(email=smtp, environ=ENVIRON, public_url="https://symbi.example.com"),
        clock=InstantClock(),
    )


def parsed(content: bytes) -> EmailMessage:
    """A received message (CRLF line ends made LF), parsed."""
    message = message_from_bytes(content.replace(b"\r\n", b"\n"), policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


async def test_the_report_reaches_every_recipient() -> None:
    """A plain local relay gets the run from email_from, to each recipient, with the facts."""
    with smtp_server() as server:
        await channel(server.port).deliver(email_job(), make_run(), "3 disks ok\n")
    [mail] = server.mails
    assert mail.sender == "symbiont@example.com"
    assert mail.recipients == ["ops@example.com", "security@example.com"]
    message = parsed(mail.content)
    assert message["Subject"] == "[symbiont] disk-check succeeded"
    assert message["From"] == "Symbiont <symbiont@example.com>"
    assert message["To"] == "ops@example.com, security@example.com"
    assert message["Date"] == "Mon, 02 Mar 2026 08:30:00 +0000"
    assert message["X-Symbiont-Run-Id"] == "run-7f3a"
    assert message["Message-ID"].endswith("@example.com>")
    body = message.get_content()
    assert body == (
        "Job:       disk-check (agent disk-agent)\n"
        "Run:       run-7f3a\n"
        "Status:    succeeded\n"
        "Trigger:   schedule, attempt 1\n"
        "Scheduled: 2026-03-02T08:30:00Z\n"
        "Started:   2026-03-02T08:30:01Z\n"
        "Finished:  2026-03-02T08:30:03.400000Z\n"
        "Duration:  2.4 s\n"
        "Link:      https://symbi.example.com/runs/run-7f3a\n"
        "\n"
        "Output:\n"
        "3 disks ok\n"
    )


async def test_a_failed_run_has_its_error_in_the_body() -> None:
    """The subject says ``failed`` and the body carries the error and non-ASCII output."""
    with smtp_server() as server:
        await channel(server.port).deliver(email_job(), make_run(RunStatus.failed), "naïve ✓")
    message = parsed(server.mails[0].content)
    assert message["Subject"] == "[symbiont] disk-check failed"
    assert "\nError:\nexit status 2\n\nOutput:\nnaïve ✓\n" in message.get_content()


async def test_starttls_with_login(tmp_path: Path) -> None:
    """On a STARTTLS server that requires AUTH, the channel upgrades, logs in and sends."""
    certs = certificates(tmp_path)
    with smtp_server(users={"bot": "pa55-w0rd"}, starttls=certs.server_context) as server:
        await channel(
            server.port,
            tls="starttls",
            ca_file=certs.ca_file,
            **LOGIN,
        ).deliver(email_job(), make_run(), "secure")
    [mail] = server.mails
    assert (mail.login, mail.tls) == ("bot", True)


async def test_implicit_tls(tmp_path: Path) -> None:
    """On an implicit-TLS server (as on port 465) the session is encrypted from the start."""
    certs = certificates(tmp_path)
    with smtp_server(implicit_tls=certs.server_context) as server:
        await channel(server.port, tls="tls", ca_file=certs.ca_file).deliver(
            email_job(), make_run(), "tls"
        )
    assert server.mails[0].tls is True


async def test_an_untrusted_certificate_is_refused(tmp_path: Path) -> None:
    """A server certificate from an unknown CA fails the delivery (no fallback to plain text)."""
    certs = certificates(tmp_path)
    with smtp_server(starttls=certs.server_context) as server:
        with pytest.raises(DeliveryError) as caught:
            await channel(server.port, tls="starttls").deliver(email_job(), make_run(), "x")
        assert server.mails == []
    assert "CERTIFICATE_VERIFY_FAILED" in caught.value.reason


async def test_a_wrong_password_is_refused_without_retry(tmp_path: Path) -> None:
    """A refused login fails at once, saying which settings to check, without the password."""
    certs = certificates(tmp_path)
    with smtp_server(users={"bot": "another"}, starttls=certs.server_context) as server:
        built = channel(
            server.port,
            tls="starttls",
            ca_file=certs.ca_file,
            **LOGIN,
        )
        result = await DefaultDeliveryRouter({"email": built}, settings()).route(
            "email", email_job(), make_run(), "x"
        )
    assert (result.status, result.attempts) == ("failed", 1)
    assert result.error is not None
    assert result.error.startswith(f"127.0.0.1:{server.port} refused the login (535")
    assert result.error.endswith("check smtp_username and smtp_password")
    assert "pa55-w0rd" not in result.error


async def test_refused_recipients_fail_the_delivery() -> None:
    """A server refusing the recipients (550) is a failed delivery naming them, not retried."""
    with smtp_server() as server:
        server.refuse = "550 5.1.1 mailbox unavailable"
        result = await DefaultDeliveryRouter({"email": channel(server.port)}, settings()).route(
            "email", email_job(), make_run(), "x"
        )
    assert (result.status, result.attempts) == ("failed", 1)
    assert result.error == (
        f"127.0.0.1:{server.port} refused ops@example.com (550 5.1.1 mailbox unavailable); "
        "security@example.com (550 5.1.1 mailbox unavailable)"
    )


async def test_a_partly_refused_message_is_failed_but_not_resent() -> None:
    """One refused recipient out of two: the other gets it, and the failure is not retried."""
    with smtp_server() as server:
        server.refuse_addresses["security@example.com"] = "550 5.1.1 no such user"
        deliveries = DefaultDeliveryRouter(
            {"email": channel(server.port)}, settings(), clock=InstantClock()
        )
        result = await deliveries.route("email", email_job(), make_run(), "x")
    assert (result.status, result.attempts) == ("failed", 1)
    assert result.error == (
        f"sent to 1 of 2 recipients; 127.0.0.1:{server.port} refused "
        "security@example.com (550 5.1.1 no such user)"
    )
    assert [mail.recipients for mail in server.mails] == [["ops@example.com"]]


async def test_a_temporary_refusal_is_retried() -> None:
    """A 451 for every recipient is retryable: the router tries again."""
    with smtp_server() as server:
        server.refuse = "451 4.3.0 try later"
        deliveries = DefaultDeliveryRouter(
            {"email": channel(server.port)}, settings(), clock=InstantClock()
        )
        result = await deliveries.route("email", email_job(), make_run(), "x")
    assert (result.status, result.attempts) == ("failed", 4)


async def test_no_server_listening_is_retryable() -> None:
    """A refused connection is a retryable failure."""
    with pytest.raises(DeliveryError) as caught:
        await channel(free_port()).deliver(email_job(), make_run(), "x")
    assert caught.value.retryable is True
    assert caught.value.reason.startswith("cannot send through 127.0.0.1:")


async def test_starttls_on_a_server_without_it_says_how_to_fix_it() -> None:
    """Asking for STARTTLS from a plain relay fails, pointing at smtp_tls."""
    with smtp_server() as server, pytest.raises(DeliveryError) as caught:
        await channel(server.port, tls="starttls").deliver(email_job(), make_run(), "x")
    assert caught.value.retryable is False
    assert "check smtp_tls" in caught.value.reason


async def test_missing_configuration_is_reported() -> None:
    """No smtp_host, no email_from, no recipients, an unset variable: each is a clear error."""
    cases = [
        (channel(25, host=None), email_job(), "no SMTP server is configured: set smtp_host"),
        (channel(25, sender=None), email_job(), "no sender is configured: set email_from"),
        (channel(25), make_job(), "job 'disk-check' has no email_recipients"),
    ]
    for mailer, job, reason in cases:
        with pytest.raises(DeliveryError) as caught:
            await mailer.deliver(job, make_run(), "x")
        assert caught.value.reason == reason
    with pytest.raises(DeliveryError, match="'NOBODY' is not set"):
        await channel(25).deliver(email_job(email_recipients=("${NOBODY}",)), make_run(), "x")
