"""`EmailChannel`: mails a plain-text report of each run over SMTP (aiosmtplib).

STARTTLS (port 587), implicit TLS (port 465) or a plain connection for local relays;
``AUTH`` when ``smtp_username`` is set. Templates in the username, password and
recipients are resolved at send time.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

import aiosmtplib

from symbiont.core.clock import Clock, SystemClock
from symbiont.core.errors import DeliveryError
from symbiont.core.models import Job, Run
from symbiont.delivery._base import duration_text, excerpt, resolve, rfc3339
from symbiont.delivery.settings import DeliverySettings, EmailSettings

__all__ = ("EmailChannel", "email_body", "email_subject")

_TRANSIENT = range(400, 500)
"""SMTP reply codes that mean "try again later"."""


def email_subject(job: Job, run: Run) -> str:
    """``[symbiont] <job> <status>``."""
    return f"[symbiont] {job.name} {run.status}"


def email_body(job: Job, run: Run, output: str, link: str | None = None) -> str:
    """The plain-text body: the run's facts, its error, then its output."""
    facts = [
        ("Job", f"{job.name} (agent {job.agent_id})"),
        ("Run", run.id),
        ("Status", str(run.status)),
        ("Trigger", f"{run.trigger}, attempt {run.attempt}"),
        ("Scheduled", rfc3339(run.scheduled_for)),
        ("Started", rfc3339(run.started_at)),
        ("Finished", rfc3339(run.finished_at)),
        ("Duration", duration_text(run)),
        ("Link", link),
    ]
    lines = [f"{label + ':':<11}{value}" for label, value in facts if value is not None]
    if run.error_message:
        lines += ["", "Error:", run.error_message]
    lines += ["", "Output:", output.rstrip("\n") or "(no output)"]
    return "\n".join(lines) + "\n"


class EmailChannel:
    """The ``email`` channel.

    Args:
        settings: the delivery settings (``settings.email`` and ``settings.environ``).
        clock: dates the message.
    """

    name = "email"

    def __init__(self, settings: DeliverySettings, *, clock: Clock | None = None) -> None:
        self._settings = settings
        self._clock = clock or SystemClock()

    async def deliver(self, job: Job, run: Run, output: str) -> None:  # noqa: D102 - see Channel
        smtp = self._settings.email
        if not smtp.host:
            raise DeliveryError(self.name, "no SMTP server is configured: set smtp_host")
        if not smtp.sender:
            raise DeliveryError(self.name, "no sender is configured: set email_from")
        recipients = self._recipients(job)
        message = self._message(job, run, output, smtp.sender, recipients)
        where = f"{smtp.host}:{smtp.port}"
        errors = await self._send(message, smtp.sender, recipients, where)
        if errors:
            refused = "; ".join(f"{who} ({code} {text})" for who, (code, text) in errors.items())
            raise DeliveryError(
                self.name,
                f"sent to {len(recipients) - len(errors)} of {len(recipients)} recipients;"
                f" {where} refused {refused}",
            )

    async def _send(
        self, message: EmailMessage, sender: str, recipients: Sequence[str], where: str
    ) -> Mapping[str, aiosmtplib.SMTPResponse]:
        """Send *message*; return the recipients the server refused (others got it)."""
        smtp = self._settings.email
        username, password = self._login()
        try:
            errors, _ = await aiosmtplib.send(
                message,
                sender=parseaddr(sender)[1] or sender,
                recipients=[parseaddr(to)[1] or to for to in recipients],
                hostname=smtp.host,
                port=smtp.port,
                username=username,
                password=password,
                use_tls=smtp.tls == "tls",
                start_tls=smtp.tls == "starttls",
                tls_context=_tls_context(smtp) if smtp.tls != "none" else None,
                timeout=smtp.timeout.total_seconds(),
            )
        except aiosmtplib.SMTPException as exc:
            raise _smtp_failure(self.name, where, exc) from None
        except (OSError, ValueError) as exc:  # a missing CA file, a TLS handshake, a bad address
            raise DeliveryError(
                self.name,
                f"cannot send through {where}: {type(exc).__name__}: {exc}",
                retryable=isinstance(exc, ConnectionError),
            ) from None
        return errors

    def _login(self) -> tuple[str | None, str | None]:
        """The resolved username and password, or ``(None, None)`` without a username."""
        smtp = self._settings.email
        if not smtp.username:
            return None, None
        environ = self._settings.environ
        username = resolve(self.name, "smtp_username", smtp.username, environ)
        password = resolve(self.name, "smtp_password", smtp.password or "", environ)
        return username, password

    def _recipients(self, job: Job) -> tuple[str, ...]:
        if not job.email_recipients:
            raise DeliveryError(self.name, f"job {job.name!r} has no email_recipients")
        environ = self._settings.environ
        return tuple(
            resolve(self.name, f"recipient {written!r}", written, environ).strip()
            for written in job.email_recipients
        )

    def _message(
        self, job: Job, run: Run, output: str, sender: str, recipients: Sequence[str]
    ) -> EmailMessage:
        message = EmailMessage()
        try:
            message["From"] = sender
            message["To"] = ", ".join(recipients)
            message["Subject"] = email_subject(job, run)
        except ValueError as exc:  # a header value with a line break
            raise DeliveryError(self.name, f"cannot build the message: {exc}") from None
        message["Date"] = format_datetime(self._clock.now())
        message["Message-ID"] = make_msgid("symbiont", domain=_domain(sender))
        message["Auto-Submitted"] = "auto-generated"
        message["X-Symbiont-Run-Id"] = run.id
        message.set_content(email_body(job, run, output, self._settings.run_url(run.id)))
        return message


def _domain(address: str) -> str:
    domain = parseaddr(address)[1].rpartition("@")[2]
    return domain or "localhost"


def _tls_context(smtp: EmailSettings) -> ssl.SSLContext:
    if smtp.ca_file is None:
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=str(smtp.ca_file))


def _smtp_failure(channel: str, where: str, exc: aiosmtplib.SMTPException) -> DeliveryError:
    """The `DeliveryError` of an SMTP failure: 4xx replies and lost connections retry."""
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return DeliveryError(
            channel,
            f"{where} refused the login ({exc.code} {excerpt(exc.message, 200)}): "
            "check smtp_username and smtp_password",
        )
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        refused = "; ".join(
            f"{item.recipient} ({item.code} {excerpt(item.message, 200)})"
            for item in exc.recipients
        )
        transient = all(item.code in _TRANSIENT for item in exc.recipients)
        return DeliveryError(channel, f"{where} refused {refused}", retryable=transient)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return DeliveryError(
            channel,
            f"{where} answered {exc.code} {excerpt(exc.message, 200)}",
            retryable=exc.code in _TRANSIENT,
        )
    if isinstance(exc, aiosmtplib.SMTPNotSupported) or "not supported" in str(exc):
        return DeliveryError(
            channel, f"{where}: {exc}; check smtp_tls (starttls, tls or none) and smtp_port"
        )
    retryable = isinstance(exc, aiosmtplib.SMTPTimeoutError | ConnectionError)
    return DeliveryError(channel, f"cannot send through {where}: {exc}", retryable=retryable)
