"""`DeliverySettings.from_config`: ``[scheduler.delivery]`` into typed settings."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from symbiont.config.settings import DeliveryConfig, load_settings
from symbiont.delivery import DeliverySettings

TOKEN_TEMPLATE = "${SLACK_API_TOKEN}"
PASSWORD_TEMPLATE = "${SMTP_PASS}"


def test_defaults_follow_the_spec() -> None:
    """Default config gives 30 s timeouts, 3 retries, STARTTLS on 587 and no log folder."""
    built = DeliverySettings.from_config(DeliveryConfig(), {"A": "1"})
    assert built.environ == {"A": "1"}
    assert built.retry.attempts == 3
    assert built.webhook.timeout == timedelta(seconds=30)
    assert built.webhook.allowed_hosts == ()
    assert (built.email.port, built.email.tls) == (587, "starttls")
    assert built.slack.api_url == "https://slack.com/api"
    assert built.log_file.folder is None
    assert built.public_url is None


def test_every_key_is_carried_over(tmp_path: Path) -> None:
    """Each ``[scheduler.delivery]`` key lands in its typed setting."""
    config = DeliveryConfig(
        webhook_timeout_seconds=5,
        webhook_retry_attempts=7,
        retry_backoff_seconds=0.5,
        retry_max_backoff_seconds=10,
        webhook_allowed_hosts=("hooks.example.com",),
        slack_webhook_url="${SLACK_HOOK}",
        slack_api_token=TOKEN_TEMPLATE,
        slack_default_channel="#ops",
        slack_api_url="http://127.0.0.1:9/api",
        smtp_host="smtp.example.com",
        smtp_port=465,
        smtp_username="${SMTP_USER}",
        smtp_password=PASSWORD_TEMPLATE,
        smtp_ca_file=str(tmp_path / "ca.pem"),
        smtp_timeout_seconds=9,
        email_from="symbiont@example.com",
        log_max_bytes=1000,
        log_backups=2,
        public_url="https://symbi.example.com",
        custom_channels={"pager": "acme.pager:Pager"},
    )
    built = DeliverySettings.from_config(config, {}, log_dir=tmp_path, public_url=None)
    assert (built.retry.attempts, built.retry.backoff, built.retry.max_backoff) == (
        7,
        timedelta(seconds=0.5),
        timedelta(seconds=10),
    )
    assert built.webhook.allowed_hosts == ("hooks.example.com",)
    assert built.slack.webhook_url == "${SLACK_HOOK}"
    assert built.slack.api_token == TOKEN_TEMPLATE
    assert built.slack.timeout == timedelta(seconds=5)
    assert (built.email.tls, built.email.ca_file) == ("tls", tmp_path / "ca.pem")
    assert built.email.timeout == timedelta(seconds=9)
    assert built.email.password == PASSWORD_TEMPLATE
    assert (built.log_file.folder, built.log_file.max_bytes, built.log_file.backups) == (
        tmp_path,
        1000,
        2,
    )
    assert built.run_url("r1") == "https://symbi.example.com/runs/r1"
    assert built.custom_channels == {"pager": "acme.pager:Pager"}


def test_an_explicit_smtp_tls_wins_over_the_port() -> None:
    """``smtp_tls = "none"`` on port 25 is a plain connection; the public URL argument wins."""
    config = DeliveryConfig(smtp_port=25, smtp_tls="none", public_url="https://a.example")
    built = DeliverySettings.from_config(config, {}, public_url="https://b.example/")
    assert built.email.tls == "none"
    assert built.run_url("r1") == "https://b.example/runs/r1"


def test_the_keys_load_from_a_toml_file(tmp_path: Path) -> None:
    """The new keys are accepted in ``symbi.toml`` under ``[scheduler.delivery]``."""
    path = tmp_path / "symbi.toml"
    path.write_text(
        "[scheduler.delivery]\n"
        'webhook_allowed_hosts = ["hooks.example.com"]\n'
        'smtp_tls = "starttls"\n'
        "log_backups = 9\n"
        "[scheduler.delivery.custom_channels]\n"
        'pager = "acme.pager:Pager"\n'
    )
    config = load_settings(path, environ={}).scheduler.delivery
    built = DeliverySettings.from_config(config, {})
    assert built.webhook.allowed_hosts == ("hooks.example.com",)
    assert built.log_file.backups == 9
    assert built.custom_channels == {"pager": "acme.pager:Pager"}
