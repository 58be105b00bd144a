"""`ModelRuntime`: LLM agents over the OpenAI chat-completions or Anthropic messages API."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from symbiont.core.errors import AgentRunError
from symbiont.dsl import AgentSpec
from symbiont.dsl.model import Provider
from symbiont.runtime._base import resolve_for, text_reply
from symbiont.runtime._http import Exchange, json_body, post_json, raise_for_status
from symbiont.runtime.base import AgentContext, AgentReply, RuntimeSettings

__all__ = (
    "ANTHROPIC_VERSION",
    "DEFAULT_BASE_URLS",
    "DEFAULT_KEY_VARS",
    "DEFAULT_MODEL_TIMEOUT",
    "ModelRuntime",
    "provider_for",
)

DEFAULT_BASE_URLS: Mapping[Provider, str] = {
    "openai": "https://api.openai.com/v1",
    "anthropic": "https://api.anthropic.com",
}
"""Where each dialect is sent when the agent has no ``base_url``."""

DEFAULT_KEY_VARS: Mapping[Provider, str] = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
}
"""The variable read for the key when the agent has no ``api_key``."""

ANTHROPIC_VERSION = "2023-06-01"
"""The ``anthropic-version`` header sent with every Anthropic request."""

DEFAULT_MODEL_TIMEOUT = timedelta(seconds=120)
"""The HTTP timeout of a model agent without ``timeout``."""

_SUMMARY_HEADING = "Summary of your previous turn:"
_ROLES = frozenset({"user", "assistant"})


def provider_for(agent: AgentSpec) -> Provider:
    """The agent's ``provider``, else ``anthropic`` for ``claude*`` models, else ``openai``."""
    if agent.provider is not None:
        return agent.provider
    return "anthropic" if (agent.model or "").lower().startswith("claude") else "openai"


class ModelRuntime:
    """Sends one chat turn to an LLM and returns its text (a last line ``sleep`` ends a heartbeat).

    The conversation is the system prompt (plus the previous summary, when the context
    carries one), the shared messages, then the run's input as the user turn. The key
    comes from ``api_key`` (a placeholder), else from ``OPENAI_API_KEY`` /
    ``ANTHROPIC_API_KEY``; without one, only an agent with its own ``base_url`` (a local
    server) may run, and it is sent no credentials.

    Args:
        agent: a model agent (``agent.model`` is set).
        settings: the output cap and the variables placeholders resolve against.
        max_tokens: Anthropic's required ``max_tokens``.
    """

    def __init__(
        self, agent: AgentSpec, settings: RuntimeSettings, *, max_tokens: int = 4096
    ) -> None:
        if agent.model is None:
            raise ValueError(f"agent {agent.name!r} is not a model agent")
        self._agent = agent
        self._model = agent.model
        self._settings = settings
        self._max_tokens = max_tokens
        self._provider = provider_for(agent)

    async def invoke(self, context: AgentContext) -> AgentReply:  # noqa: D102 - see AgentRuntime
        key = self._api_key()
        exchange = self._exchange(key)
        system = _system_text(self._agent.system_prompt, context.previous_summary)
        turns = [*_history(context.messages), {"role": "user", "content": _user_text(context)}]
        if self._provider == "anthropic":
            payload, headers = self._anthropic(system, turns, key)
        else:
            payload, headers = self._openai(system, turns, key)
        reply = await post_json(exchange, payload, headers)
        raise_for_status(exchange, reply)
        data = json_body(exchange, reply)
        text = _anthropic_text(data) if self._provider == "anthropic" else _openai_text(data)
        if text is None:
            raise AgentRunError(
                self._agent.name,
                f"malformed {self._provider} reply from {exchange.shown_url}: no text content",
                retryable=True,
            )
        return text_reply(text, self._settings.max_output_bytes)

    def _api_key(self) -> str | None:
        environ = self._settings.environ
        if self._agent.api_key is not None:
            key = resolve_for(self._agent.name, "api_key", self._agent.api_key, environ)
        else:
            key = environ.get(DEFAULT_KEY_VARS[self._provider], "")
        if not key and self._agent.base_url is None:
            var = DEFAULT_KEY_VARS[self._provider]
            raise AgentRunError(
                self._agent.name,
                f'no API key for {self._provider}: add api_key: "${{{var}}}" to the agent '
                f"and set {var}",
            )
        return key or None

    def _exchange(self, key: str | None) -> Exchange:
        written = self._agent.base_url or DEFAULT_BASE_URLS[self._provider]
        base = resolve_for(self._agent.name, "base_url", written, self._settings.environ)
        path = "/chat/completions" if self._provider == "openai" else "/v1/messages"
        if self._provider == "anthropic" and base.rstrip("/").endswith("/v1"):
            path = "/messages"
        shown = written.rstrip("/") + path
        return Exchange(
            agent=self._agent.name,
            url=base.rstrip("/") + path,
            shown_url=shown,
            timeout_s=(self._agent.timeout or DEFAULT_MODEL_TIMEOUT).total_seconds(),
            limit=self._settings.max_output_bytes * 8 + 64 * 1024,
            secret=key,
        )

    def _openai(
        self, system: str, turns: list[dict[str, str]], key: str | None
    ) -> tuple[dict[str, Any], dict[str, str]]:
        messages = [{"role": "system", "content": system}] if system else []
        payload = {"model": self._model, "messages": [*messages, *turns]}
        headers = {"content-type": "application/json"}
        if key is not None:
            headers["authorization"] = f"Bearer {key}"
        return payload, headers

    def _anthropic(
        self, system: str, turns: list[dict[str, str]], key: str | None
    ) -> tuple[dict[str, Any], dict[str, str]]:
        payload: dict[str, Any] = {
            "model": self._model,
            "max_tokens": self._max_tokens,
            "messages": turns,
        }
        if system:
            payload["system"] = system
        headers = {"content-type": "application/json", "anthropic-version": ANTHROPIC_VERSION}
        if key is not None:
            headers["x-api-key"] = key
        return payload, headers


def _system_text(prompt: str | None, summary: str | None) -> str:
    parts = [part.strip() for part in (prompt,) if part and part.strip()]
    if summary:
        parts.append(f"{_SUMMARY_HEADING}\n{summary}")
    return "\n\n".join(parts)


def _user_text(context: AgentContext) -> str:
    if context.input:
        return context.input
    when = context.scheduled_for.isoformat().replace("+00:00", "Z")
    return (
        f"Run of job {context.job_name!r} scheduled for {when} "
        f"({context.trigger}, iteration {context.iteration})."
    )


def _history(messages: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """User/assistant turns with text, starting with a user turn, roles alternating.

    Blank turns are left out and consecutive turns of one role merged: Anthropic
    rejects empty text and requires alternation.
    """
    turns: list[dict[str, str]] = []
    for message in messages:
        role, content = message.get("role"), message.get("content")
        if role not in _ROLES or not isinstance(content, str) or not content.strip():
            continue
        if not turns and role != "user":
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"] += "\n\n" + content
        else:
            turns.append({"role": str(role), "content": content})
    if turns and turns[-1]["role"] == "user":
        # The run's input follows as a user turn; keep the roles alternating.
        turns.append({"role": "assistant", "content": "(no reply)"})
    return turns


def _openai_text(data: object) -> str | None:
    if not isinstance(data, dict):
        return None
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return None
    message = choices[0].get("message")
    content = message.get("content") if isinstance(message, dict) else None
    return content if isinstance(content, str) else None


def _anthropic_text(data: object) -> str | None:
    if not isinstance(data, dict) or not isinstance(data.get("content"), list):
        return None
    return "".join(
        block["text"]
        for block in data["content"]
        if isinstance(block, dict)
        and block.get("type") == "text"
        and isinstance(block.get("text"), str)
    )
