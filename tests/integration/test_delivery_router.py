"""`build_router`: every built-in channel at once, against real local servers."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from symbiont.config.settings import DeliveryConfig
from symbiont.core.enums import DeliverOn, RunStatus
from symbiont.delivery import DeliverySettings, build_router
from tests.unit.delivery.helpers import (
    InstantClock,
    RecordingChannel,
    free_port,
    json_answer,
    make_job,
    make_run,
    receiver,
    smtp_server,
)

pytestmark = pytest.mark.anyio
TOKEN_TEMPLATE = "${SLACK_API_TOKEN}"
ENVIRON = {"SLACK_API_TOKEN": "xoxb-1", "HOOK_TOKEN": "tok-9"}


def delivery_settings(
    log_dir: Path, *, slack: str = "http://127.0.0.1:9", smtp_port: int = 25
) -> DeliverySettings:
    """Settings as the daemon builds them from ``[scheduler.delivery]``."""
    config = DeliveryConfig(
        webhook_timeout_seconds=5,
        webhook_retry_attempts=1,
        retry_backoff_seconds=0.001,
        slack_api_token=TOKEN_TEMPLATE,
        slack_api_url=f"{slack}/api",
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        smtp_tls="none",
        email_from="symbiont@example.com",
        webhook_allowed_hosts=("127.0.0.1",),
    )
    return DeliverySettings.from_config(
        config, ENVIRON, log_dir=log_dir, public_url="https://symbi.example.com"
    )


async def test_every_channel_receives_the_run(tmp_path: Path) -> None:
    """stdout, log_file, webhook, slack and email all get one run, concurrently."""
    stdout = io.StringIO()
    with (
        receiver() as hook,
        receiver(lambda _: json_answer(200, {"ok": True})) as slack,
        smtp_server() as smtp,
    ):
        built = delivery_settings(tmp_path, slack=slack.url, smtp_port=smtp.port)
        router = build_router(built, clock=InstantClock(), stdout=stdout)
        job = make_job(
            delivery=("stdout", "log_file", "webhook", "slack", "email"),
            webhook_url=f"{hook.url}/in",
            webhook_headers={"Authorization": "Bearer ${HOOK_TOKEN}"},
            slack_channel="#ops",
            email_recipients=("ops@example.com",),
        )
        results = await router.deliver_all(job, make_run(), "3 disks ok")
    assert [(r.channel, r.status, r.error) for r in results] == [
        ("stdout", "delivered", None),
        ("log_file", "delivered", None),
        ("webhook", "delivered", None),
        ("slack", "delivered", None),
        ("email", "delivered", None),
    ]
    assert "3 disks ok" in stdout.getvalue()
    log_line = json.loads((tmp_path / "disk-check.log").read_text())
    assert log_line["output"] == "3 disks ok"
    assert hook.requests[0].headers["authorization"] == "Bearer tok-9"
    assert slack.requests[0].headers["authorization"] == "Bearer xoxb-1"
    assert smtp.mails[0].recipients == ["ops@example.com"]


async def test_one_failing_channel_does_not_stop_the_others(tmp_path: Path) -> None:
    """An unreachable webhook fails (after its retry) while the log file is still written."""
    built = delivery_settings(tmp_path)
    router = build_router(built, clock=InstantClock(), stdout=io.StringIO())
    job = make_job(
        delivery=("webhook", "log_file"),
        webhook_url=f"http://127.0.0.1:{free_port()}/down",
    )
    webhook, log_file = await router.deliver_all(job, make_run(RunStatus.failed), "boom")
    assert (webhook.status, webhook.attempts) == ("failed", 2)
    assert (log_file.status, log_file.attempts) == ("delivered", 1)
    assert json.loads((tmp_path / "disk-check.log").read_text())["status"] == "failed"


async def test_deliver_on_success_skips_failed_runs(tmp_path: Path) -> None:
    """A failed run of a ``deliver_on: success`` job writes nothing and reports ``skipped``."""
    built = delivery_settings(tmp_path)
    router = build_router(built, clock=InstantClock(), stdout=io.StringIO())
    job = make_job(delivery=("log_file", "stdout"), deliver_on=DeliverOn.success)
    results = await router.deliver_all(job, make_run(RunStatus.failed), "boom")
    assert [(r.channel, r.status) for r in results] == [
        ("log_file", "skipped"),
        ("stdout", "skipped"),
    ]
    assert not (tmp_path / "disk-check.log").exists()


async def test_extra_channels_and_environ_override(tmp_path: Path) -> None:
    """``extra`` channels are routed to, and ``environ`` replaces the settings' variables."""
    built = delivery_settings(tmp_path)
    extra = RecordingChannel(name="custom:audit")
    router = build_router(built, {"X": "1"}, {"custom:audit": extra}, clock=InstantClock())
    assert router.settings.environ == {"X": "1"}
    assert set(router.channels) >= {"stdout", "log_file", "webhook", "slack", "email"}
    result = await router.route("custom:audit", make_job(), make_run(), "out")
    assert result.status == "delivered"
    assert len(extra.calls) == 1
