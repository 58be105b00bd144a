"""The ``slack`` channel against a local server speaking Slack's Web API and webhook protocol."""

from __future__ import annotations

import pytest

from symbiont.core.enums import RunStatus
from symbiont.delivery import DefaultDeliveryRouter, SlackChannel, SlackSettings
from symbiont.delivery.slack import slack_message
from tests.unit.delivery.helpers import (
    Answer,
    InstantClock,
    Recorded,
    json_answer,
    make_job,
    make_run,
    receiver,
    settings,
    text_answer,
)

pytestmark = pytest.mark.anyio
TOKEN = "xoxb-test-token-42"
TOKEN_TEMPLATE = "${SLACK_API_TOKEN}"
WRONG_TOKEN = "xoxb-wrong-token"
CHANNELS = {"#ops", "#security", "C0123"}


def slack_api(request: Recorded) -> Answer:
    """Answer ``chat.postMessage`` as Slack does: HTTP 200, ``ok`` true or false."""
    if request.path != "/api/chat.postMessage":
        return text_answer(404, "unknown method")
    if request.headers.get("authorization") != f"Bearer {TOKEN}":
        return json_answer(200, {"ok": False, "error": "invalid_auth"})
    body = request.json()
    if not isinstance(body.get("text"), str):
        return json_answer(200, {"ok": False, "error": "no_text"})
    if body.get("channel") not in CHANNELS:
        return json_answer(200, {"ok": False, "error": "channel_not_found"})
    return json_answer(200, {"ok": True, "channel": body["channel"], "ts": "1.2"})


def router(slack: SlackSettings, **kwargs: object) -> DefaultDeliveryRouter:
    """A router with the Slack channel only (token from the environment)."""
    built = settings(slack=slack, environ={"SLACK_API_TOKEN": TOKEN}, **kwargs)
    return DefaultDeliveryRouter({"slack": SlackChannel(built)}, built, clock=InstantClock())


def api(url: str, **fields: object) -> SlackSettings:
    """Slack settings for ``chat.postMessage`` on the local server at *url*."""
    return SlackSettings(api_url=f"{url}/api", api_token=TOKEN_TEMPLATE, **fields)  # type: ignore[arg-type]


async def test_chat_post_message_sends_channel_and_readable_text() -> None:
    """The bot token goes as Bearer; the JSON names the job's channel and a readable text."""
    with receiver(slack_api) as server:
        job = make_job(delivery=("slack",), slack_channel="#security")
        result = await router(api(server.url), public_url="https://symbi.example.com").route(
            "slack", job, make_run(), "3 disks ok"
        )
    assert (result.status, result.attempts) == ("delivered", 1)
    [request] = server.requests
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    body = request.json()
    assert body["channel"] == "#security"
    assert body["text"] == (
        ":white_check_mark: *disk-check* succeeded\n"
        "Run `run-7f3a` · schedule · attempt 1 · took 2.4 s\n"
        "<https://symbi.example.com/runs/run-7f3a|View run>\n"
        "```3 disks ok```"
    )


async def test_the_default_channel_is_used_when_the_job_names_none() -> None:
    """Without ``slack_channel`` the message goes to ``slack_default_channel``."""
    with receiver(slack_api) as server:
        result = await router(api(server.url, default_channel="#ops")).route(
            "slack", make_job(), make_run(), "out"
        )
    assert result.status == "delivered"
    assert server.requests[0].json()["channel"] == "#ops"


async def test_ok_false_is_a_failed_delivery_with_slack_s_error() -> None:
    """HTTP 200 with ``ok: false, error: channel_not_found`` fails, unretried, with a hint."""
    with receiver(slack_api) as server:
        job = make_job(slack_channel="#nowhere")
        result = await router(api(server.url)).route("slack", job, make_run(), "out")
    assert (result.status, result.attempts) == ("failed", 1)
    assert result.error == (
        "Slack refused the message to #nowhere: channel_not_found "
        "(check the job's slack_channel (or slack_default_channel))"
    )


async def test_a_wrong_token_fails_and_is_never_shown() -> None:
    """A refused token is a failed delivery whose error does not contain the token."""
    with receiver(slack_api) as server:
        built = settings(
            slack=SlackSettings(api_url=f"{server.url}/api", api_token=WRONG_TOKEN),
        )
        result = await DefaultDeliveryRouter({"slack": SlackChannel(built)}, built).route(
            "slack", make_job(slack_channel="#ops"), make_run(), "out"
        )
    assert result.error == "Slack refused the message to #ops: invalid_auth (check slack_api_token)"
    assert "xoxb" not in (result.error or "")


async def test_ratelimited_is_retried() -> None:
    """``ok: false, error: ratelimited`` is retried, and the next success is delivered."""
    answers = [json_answer(200, {"ok": False, "error": "ratelimited"})]

    def respond(request: Recorded) -> Answer:
        return answers.pop(0) if answers else slack_api(request)

    with receiver(respond) as server:
        result = await router(api(server.url)).route(
            "slack", make_job(slack_channel="#ops"), make_run(), "out"
        )
    assert (result.status, result.attempts) == ("delivered", 2)


async def test_http_429_is_retried() -> None:
    """An HTTP 429 from the Web API is retried."""
    answers = [(429, {"retry-after": "1"}, b"")]

    def respond(request: Recorded) -> Answer:
        return answers.pop(0) if answers else slack_api(request)

    with receiver(respond) as server:
        result = await router(api(server.url)).route(
            "slack", make_job(slack_channel="#ops"), make_run(), "out"
        )
    assert (result.status, result.attempts) == ("delivered", 2)


async def test_incoming_webhook_gets_the_message() -> None:
    """With ``slack_webhook_url`` the text is POSTed there (and no token is needed)."""
    with receiver(lambda _: text_answer(200, "ok")) as server:
        hook = SlackSettings(webhook_url=f"{server.url}/services/T0/B0/${{HOOK_KEY}}")
        built = settings(slack=hook, environ={"HOOK_KEY": "xyz"})
        job = make_job(slack_channel="#ops")
        result = await DefaultDeliveryRouter({"slack": SlackChannel(built)}, built).route(
            "slack", job, make_run(RunStatus.failed), "Traceback <boom> & co"
        )
    assert result.status == "delivered"
    [request] = server.requests
    assert request.path == "/services/T0/B0/xyz"
    assert "authorization" not in request.headers
    body = request.json()
    assert body["channel"] == "#ops"
    assert body["text"].startswith(":x: *disk-check* failed\n")
    assert "Error: exit status 2" in body["text"]
    assert body["text"].endswith("```Traceback &lt;boom&gt; &amp; co```")


async def test_incoming_webhook_errors_hide_the_url() -> None:
    """A webhook refusing the message fails without showing its (secret) URL."""
    with receiver(lambda _: text_answer(404, "no_service")) as server:
        hook = SlackSettings(webhook_url=f"{server.url}/services/T0/B0/secret-part")
        built = settings(slack=hook)
        result = await DefaultDeliveryRouter({"slack": SlackChannel(built)}, built).route(
            "slack", make_job(), make_run(), "out"
        )
    assert (result.status, result.attempts) == ("failed", 1)
    assert result.error == "HTTP 404 from the Slack incoming webhook: no_service"


async def test_nothing_configured_is_a_clear_error() -> None:
    """Without a webhook URL or token, or without a channel, the error says what to set."""
    result = await router(SlackSettings()).route("slack", make_job(), make_run(), "out")
    assert result.error == (
        "no Slack destination is configured: set [scheduler.delivery] slack_webhook_url, "
        "or slack_api_token (SYMBI_SLACK_TOKEN)"
    )
    result = await router(SlackSettings(api_token=TOKEN)).route("slack", make_job(), make_run(), "")
    assert result.error == (
        "job 'disk-check' has no slack_channel and [scheduler.delivery] "
        "slack_default_channel is not set"
    )


def test_long_output_is_cut_and_code_fences_are_neutralised() -> None:
    """Output longer than the excerpt is cut, and backtick fences cannot close the block."""
    text = slack_message(make_job(), make_run(), "```" + "x" * 5000)
    assert text.endswith("x\n...```")
    assert text.count("```") == 2
    assert len(text) < 2700
