"""`SlackChannel`: posts a readable message per run through an incoming webhook or the Web API.

With ``[scheduler.delivery] slack_webhook_url`` set, the message goes to that incoming
webhook. Otherwise it goes through ``chat.postMessage`` with ``slack_api_token`` (a bot
token, sent as ``Authorization: Bearer``) to the job's ``slack_channel`` or
``slack_default_channel``. The Web API answers HTTP 200 with ``{"ok": false, "error": ...}``
when it refuses a message: that is a failed delivery (retried for ``ratelimited`` and
Slack-side outages).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from symbiont.core.enums import RunStatus
from symbiont.core.errors import DeliveryError
from symbiont.core.models import Job, Run
from symbiont.delivery._base import RetryLater, duration_text, excerpt, resolve, secret_parts
from symbiont.delivery._http import Post, Reply, post, raise_for_status
from symbiont.delivery.settings import DeliverySettings

__all__ = ("SlackChannel", "slack_message")

OUTPUT_CHARS = 2500
"""Most characters of output quoted in a message (Slack truncates long messages)."""

_EMOJI = {
    RunStatus.succeeded: ":white_check_mark:",
    RunStatus.failed: ":x:",
    RunStatus.timed_out: ":hourglass:",
    RunStatus.denied: ":no_entry:",
    RunStatus.interrupted: ":warning:",
    RunStatus.cancelled: ":warning:",
}
_RETRYABLE_ERRORS = frozenset(
    {"ratelimited", "service_unavailable", "internal_error", "fatal_error", "request_timeout"}
)
_HINTS = {
    "not_authed": "set [scheduler.delivery] slack_api_token (or SYMBI_SLACK_TOKEN)",
    "invalid_auth": "check slack_api_token",
    "token_revoked": "slack_api_token was revoked; issue a new bot token",
    "account_inactive": "slack_api_token belongs to a deactivated account",
    "channel_not_found": "check the job's slack_channel (or slack_default_channel)",
    "not_in_channel": "invite the bot to the channel",
    "is_archived": "the channel is archived",
    "missing_scope": "give the bot the chat:write scope",
}


def _escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_message(job: Job, run: Run, output: str, link: str | None = None) -> str:
    """The message text (Slack mrkdwn): status, job, run facts, link, error and output."""
    emoji = _EMOJI.get(run.status, ":information_source:")
    lines = [
        f"{emoji} *{_escape(job.name)}* {run.status}",
        f"Run `{run.id}` · {run.trigger} · attempt {run.attempt} · took {duration_text(run)}",
    ]
    if link is not None:
        lines.append(f"<{link}|View run>")
    if run.error_message:
        lines.append(f"Error: {_escape(excerpt(run.error_message, 500))}")
    if output:
        quoted = output if len(output) <= OUTPUT_CHARS else output[:OUTPUT_CHARS] + "\n..."
        lines.append("```" + _escape(quoted.replace("```", "'''")) + "```")
    return "\n".join(lines)


class SlackChannel:
    """The ``slack`` channel.

    Args:
        settings: the delivery settings (``settings.slack`` and ``settings.environ``).
    """

    name = "slack"

    def __init__(self, settings: DeliverySettings) -> None:
        self._settings = settings

    async def deliver(self, job: Job, run: Run, output: str) -> None:  # noqa: D102 - see Channel
        text = slack_message(job, run, output, self._settings.run_url(run.id))
        if self._settings.slack.webhook_url:
            await self._incoming_webhook(job, text, self._settings.slack.webhook_url)
        else:
            await self._post_message(job, text)

    async def _incoming_webhook(self, job: Job, text: str, written_url: str) -> None:
        url = resolve(self.name, "slack_webhook_url", written_url, self._settings.environ)
        payload: dict[str, Any] = {"text": text}
        if job.slack_channel:
            payload["channel"] = job.slack_channel
        secrets = secret_parts(written_url, url, self._settings.environ)
        request = self._request(url, "the Slack incoming webhook", payload, {}, secrets)
        raise_for_status(request, await post(request))

    async def _post_message(self, job: Job, text: str) -> None:
        slack = self._settings.slack
        if not slack.api_token:
            raise DeliveryError(
                self.name,
                "no Slack destination is configured: set [scheduler.delivery] "
                "slack_webhook_url, or slack_api_token (SYMBI_SLACK_TOKEN)",
            )
        channel = job.slack_channel or slack.default_channel
        if not channel:
            raise DeliveryError(
                self.name,
                f"job {job.name!r} has no slack_channel and [scheduler.delivery] "
                "slack_default_channel is not set",
            )
        token = resolve(self.name, "slack_api_token", slack.api_token, self._settings.environ)
        url = f"{slack.api_url.rstrip('/')}/chat.postMessage"
        payload = {"channel": channel, "text": text, "unfurl_links": False, "unfurl_media": False}
        secrets = secret_parts(slack.api_token, token, self._settings.environ)
        request = self._request(url, url, payload, {"Authorization": f"Bearer {token}"}, secrets)
        reply = await post(request)
        raise_for_status(request, reply)
        self._check_api_answer(reply, channel)

    def _request(
        self,
        url: str,
        shown: str,
        payload: dict[str, Any],
        headers: dict[str, str],
        secrets: Sequence[str],
    ) -> Post:
        return Post(
            channel=self.name,
            url=url,
            shown_url=shown,
            body=json.dumps(payload, ensure_ascii=False).encode(),
            headers={"Content-Type": "application/json; charset=utf-8", **headers},
            timeout_s=self._settings.slack.timeout.total_seconds(),
            secrets=secrets,
        )

    def _check_api_answer(self, reply: Reply, channel: str) -> None:
        answer = reply.json()
        if not isinstance(answer, dict):
            raise DeliveryError(
                self.name,
                f"chat.postMessage answered with something other than a JSON object: "
                f"{excerpt(reply.text(), 100)}",
                retryable=True,
            )
        if answer.get("ok") is True:
            return
        error = str(answer.get("error", "unknown_error"))
        message = f"Slack refused the message to {channel}: {error}"
        if hint := _HINTS.get(error):
            message += f" ({hint})"
        if error in _RETRYABLE_ERRORS:
            raise RetryLater(self.name, message)
        raise DeliveryError(self.name, message)
