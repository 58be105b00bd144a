"""`HttpRuntime`: URL agents, one JSON POST per invocation."""

from __future__ import annotations

from datetime import timedelta

from symbiont.core.errors import AgentRunError
from symbiont.dsl import AgentSpec
from symbiont.runtime._base import context_json, reply_from_value, resolve_for, text_reply
from symbiont.runtime._http import Exchange, json_body, post_json, raise_for_status
from symbiont.runtime.base import AgentContext, AgentReply, RuntimeSettings

__all__ = ("DEFAULT_HTTP_TIMEOUT", "JSON_READ_FACTOR", "HttpRuntime")

DEFAULT_HTTP_TIMEOUT = timedelta(seconds=60)
"""The HTTP timeout of a URL agent without ``timeout``."""

JSON_READ_FACTOR = 8
"""A JSON reply may be this many times ``max_output_bytes`` (escapes make JSON longer)."""


class HttpRuntime:
    """POSTs the `AgentContext` as JSON to a URL agent and reads its reply.

    The body has the fields ``job_id job_name run_id attempt iteration trigger
    scheduled_for input previous_summary messages session_mode capabilities``. The reply
    is either JSON ``{"output": str, "summary"?: str, "sleep"?: bool}`` (by its
    Content-Type) or any other text, whose body is the output (a last line ``sleep``
    ends a heartbeat).

    Args:
        agent: a URL agent (``agent.url`` is set; placeholders resolved per call).
        settings: the output cap and the variables placeholders resolve against.
    """

    def __init__(self, agent: AgentSpec, settings: RuntimeSettings) -> None:
        if agent.url is None:
            raise ValueError(f"agent {agent.name!r} is not a URL agent")
        self._agent = agent
        self._url = agent.url
        self._settings = settings

    async def invoke(self, context: AgentContext) -> AgentReply:  # noqa: D102 - see AgentRuntime
        name = self._agent.name
        limit = self._settings.max_output_bytes
        exchange = Exchange(
            agent=name,
            url=resolve_for(name, "url", self._url, self._settings.environ),
            shown_url=self._url,
            timeout_s=(self._agent.timeout or DEFAULT_HTTP_TIMEOUT).total_seconds(),
            limit=limit * JSON_READ_FACTOR + 64 * 1024,
        )
        headers = {"accept": "application/json, text/plain;q=0.9, */*;q=0.5"}
        reply = await post_json(exchange, context_json(context), headers)
        raise_for_status(exchange, reply)
        if not reply.is_json():
            # The read limit is above the cap, so a cut body is always flagged here.
            return text_reply(reply.text(), limit)
        value = json_body(exchange, reply)
        if isinstance(value, str | dict):
            return reply_from_value(value, name, limit, source=self._url)
        raise AgentRunError(
            name,
            f"malformed reply from {self._url}: expected a JSON object "
            f'{{"output": ..., "summary": ..., "sleep": ...}}, got {type(value).__name__}',
        )
