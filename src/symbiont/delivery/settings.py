"""`DeliverySettings`: the typed values every delivery channel and the router receive.

The composition root builds them once from ``[scheduler.delivery]`` with
`DeliverySettings.from_config`; channels never read the environment or files themselves.
Values that may hold ``${ENV}`` templates (tokens, passwords, URLs) are kept as written and
resolved at send time against `DeliverySettings.environ`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Literal, Protocol

__all__ = (
    "DeliveryConfigLike",
    "DeliverySettings",
    "EmailSettings",
    "LogFileSettings",
    "RetrySettings",
    "SlackSettings",
    "SmtpTls",
    "WebhookSettings",
)

SmtpTls = Literal["starttls", "tls", "none"]
"""How the email channel secures its SMTP connection."""

_IMPLICIT_TLS_PORT = 465


@dataclass(frozen=True, slots=True, kw_only=True)
class RetrySettings:
    """How the router retries a failure that its channel marked ``retryable``."""

    attempts: int = 3
    """Retries after the first attempt (``webhook_retry_attempts``); 0 never retries."""
    backoff: timedelta = timedelta(seconds=1)
    """Delay before the first retry; it doubles for each next one (with jitter)."""
    max_backoff: timedelta = timedelta(seconds=30)
    """Longest delay between two attempts, a ``Retry-After`` included."""
    attempt_timeout: timedelta = timedelta(minutes=5)
    """An attempt still running after this long is cancelled and counts as a retryable
    failure: a guard against channels (custom ones above all) that never return."""


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookSettings:
    """The ``webhook`` channel."""

    timeout: timedelta = timedelta(seconds=30)
    """httpx timeout for connecting, each read and each write."""
    allowed_hosts: tuple[str, ...] = ()
    """Hosts a webhook may target (``example.com``, ``*.example.com``); empty allows any."""
    auth_header: str | None = None
    """``SYMBI_WEBHOOK_AUTH_HEADER``: ``Authorization`` of webhooks whose job sets none."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SlackSettings:
    """The ``slack`` channel: an incoming webhook, or ``chat.postMessage`` with a bot token."""

    webhook_url: str | None = None
    """Incoming-webhook URL (may be a template); when set, it is used instead of the API."""
    api_token: str | None = None
    """Bot token for ``chat.postMessage`` (may be a template)."""
    default_channel: str | None = None
    """Channel used when a job sets no ``slack_channel``."""
    api_url: str = "https://slack.com/api"
    """Base URL of the Slack Web API (a local server in tests)."""
    timeout: timedelta = timedelta(seconds=30)
    """httpx timeout for connecting, each read and each write."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EmailSettings:
    """The ``email`` channel's SMTP server and sender."""

    host: str | None = None
    """SMTP server; the channel fails with a clear error while it is unset."""
    port: int = 587
    username: str | None = None
    """Log in when set (may be a template)."""
    password: str | None = None
    """May be a template."""
    sender: str | None = None
    """The ``From`` address (``email_from``)."""
    tls: SmtpTls = "starttls"
    """``starttls`` (port 587), ``tls`` (implicit, port 465) or ``none`` (local relays)."""
    ca_file: Path | None = None
    """PEM bundle to verify the server's certificate with, instead of the system's."""
    timeout: timedelta = timedelta(seconds=30)
    """Timeout of each SMTP command."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LogFileSettings:
    """The ``log_file`` channel: one JSON-lines file per job, rotated by size."""

    folder: Path | None = None
    """Where the files go (``SYMBI_LOG_DIR``); the channel fails while it is unset."""
    max_bytes: int = 10 * 1024 * 1024
    """Rotate a file that would grow past this size; 0 never rotates."""
    backups: int = 5
    """Rotated files kept (``job.log.1`` ... ``job.log.N``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliverySettings:
    """Everything the delivery channels and the router are configured with."""

    environ: Mapping[str, str] = field(default_factory=dict)
    """Variables ``${ENV}`` templates resolve against, at send time."""
    retry: RetrySettings = RetrySettings()
    webhook: WebhookSettings = WebhookSettings()
    slack: SlackSettings = SlackSettings()
    email: EmailSettings = EmailSettings()
    log_file: LogFileSettings = LogFileSettings()
    public_url: str | None = None
    """The dashboard's public address; messages link to ``{public_url}/runs/{run_id}``."""
    custom_channels: Mapping[str, str] = field(default_factory=dict)
    """``custom:NAME`` channels from the config: ``NAME`` -> ``"pkg.module:Class"``."""

    def run_url(self, run_id: str) -> str | None:
        """The link to a run in the dashboard, or ``None`` without a public URL."""
        if not self.public_url:
            return None
        return f"{self.public_url.rstrip('/')}/runs/{run_id}"

    @classmethod
    def from_config(
        cls,
        config: DeliveryConfigLike,
        environ: Mapping[str, str],
        log_dir: Path | str | None = None,
        public_url: str | None = None,
    ) -> DeliverySettings:
        """Translate ``[scheduler.delivery]`` into typed settings.

        Args:
            config: the ``[scheduler.delivery]`` section (``config.settings.DeliveryConfig``).
            environ: the variables templates resolve against.
            log_dir: the ``log_file`` folder (``SYMBI_LOG_DIR`` / ``[logging] dir``).
            public_url: overrides ``config.public_url`` when given.

        Returns:
            The settings; nothing is resolved or contacted yet.
        """
        return cls(
            environ=dict(environ),
            retry=RetrySettings(
                attempts=config.webhook_retry_attempts,
                backoff=timedelta(seconds=config.retry_backoff_seconds),
                max_backoff=timedelta(seconds=config.retry_max_backoff_seconds),
            ),
            webhook=WebhookSettings(
                timeout=timedelta(seconds=config.webhook_timeout_seconds),
                allowed_hosts=tuple(config.webhook_allowed_hosts),
                auth_header=config.webhook_auth_header,
            ),
            slack=SlackSettings(
                webhook_url=config.slack_webhook_url,
                api_token=config.slack_api_token,
                default_channel=config.slack_default_channel,
                api_url=config.slack_api_url,
                timeout=timedelta(seconds=config.webhook_timeout_seconds),
            ),
            email=_email_settings(config),
            log_file=LogFileSettings(
                folder=Path(log_dir).expanduser() if log_dir else None,
                max_bytes=config.log_max_bytes,
                backups=config.log_backups,
            ),
            public_url=public_url or config.public_url,
            custom_channels=dict(config.custom_channels),
        )


def _email_settings(config: DeliveryConfigLike) -> EmailSettings:
    tls = config.smtp_tls or ("tls" if config.smtp_port == _IMPLICIT_TLS_PORT else "starttls")
    return EmailSettings(
        host=config.smtp_host,
        port=config.smtp_port,
        username=config.smtp_username,
        password=config.smtp_password,
        sender=config.email_from,
        tls=_smtp_tls(tls),
        ca_file=Path(config.smtp_ca_file).expanduser() if config.smtp_ca_file else None,
        timeout=timedelta(seconds=config.smtp_timeout_seconds),
    )


def _smtp_tls(value: str) -> SmtpTls:
    if value == "tls":
        return "tls"
    if value == "none":
        return "none"
    return "starttls"


class DeliveryConfigLike(Protocol):
    """The shape of ``[scheduler.delivery]`` that `DeliverySettings.from_config` reads.

    A protocol rather than the pydantic model itself: ``config`` sits above ``delivery``
    in the layers, so delivery may not import it.
    """

    @property
    def webhook_timeout_seconds(self) -> float: ...  # noqa: D102
    @property
    def webhook_retry_attempts(self) -> int: ...  # noqa: D102
    @property
    def retry_backoff_seconds(self) -> float: ...  # noqa: D102
    @property
    def retry_max_backoff_seconds(self) -> float: ...  # noqa: D102
    @property
    def webhook_allowed_hosts(self) -> Sequence[str]: ...  # noqa: D102
    @property
    def webhook_auth_header(self) -> str | None: ...  # noqa: D102
    @property
    def slack_webhook_url(self) -> str | None: ...  # noqa: D102
    @property
    def slack_api_token(self) -> str | None: ...  # noqa: D102
    @property
    def slack_default_channel(self) -> str | None: ...  # noqa: D102
    @property
    def slack_api_url(self) -> str: ...  # noqa: D102
    @property
    def smtp_host(self) -> str | None: ...  # noqa: D102
    @property
    def smtp_port(self) -> int: ...  # noqa: D102
    @property
    def smtp_username(self) -> str | None: ...  # noqa: D102
    @property
    def smtp_password(self) -> str | None: ...  # noqa: D102
    @property
    def smtp_tls(self) -> str | None: ...  # noqa: D102
    @property
    def smtp_ca_file(self) -> str | None: ...  # noqa: D102
    @property
    def smtp_timeout_seconds(self) -> float: ...  # noqa: D102
    @property
    def email_from(self) -> str | None: ...  # noqa: D102
    @property
    def log_max_bytes(self) -> int: ...  # noqa: D102
    @property
    def log_backups(self) -> int: ...  # noqa: D102
    @property
    def public_url(self) -> str | None: ...  # noqa: D102
    @property
    def custom_channels(self) -> Mapping[str, str]: ...  # noqa: D102
