"""Helpers every agent runtime shares: output caps, ``sleep`` detection, reply parsing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from symbiont.core.errors import AgentRunError
from symbiont.runtime.base import AgentContext, AgentReply
from symbiont.runtime.templates import TemplateError, resolve_template

SLEEP_WORD = "sleep"
"""A last non-empty output line equal to this ends a heartbeat."""

ERROR_BODY_CHARS = 300
"""How much of a failing HTTP reply's body goes into the error message."""

_MAX_CONTINUATION = 3
"""A UTF-8 sequence has at most three continuation bytes after its lead byte."""
_CONTINUATION_MASK = 0xC0
_CONTINUATION_BITS = 0x80


def utf8_prefix(data: bytes, limit: int) -> bytes:
    """Return at most *limit* bytes of *data*, never cutting a UTF-8 sequence in two."""
    if len(data) <= limit:
        return data
    end = limit
    # Back off over continuation bytes (10xxxxxx) to the lead byte of the cut sequence.
    while (
        end > 0
        and limit - end < _MAX_CONTINUATION
        and data[end] & _CONTINUATION_MASK == _CONTINUATION_BITS
    ):
        end -= 1
    return data[:end]


def cap_text(text: str, max_bytes: int) -> tuple[str, bool]:
    """Cut *text* to at most *max_bytes* of UTF-8; return it and whether it was cut."""
    data = text.encode("utf-8", "surrogatepass")
    if len(data) <= max_bytes:
        return text, False
    return utf8_prefix(data, max_bytes).decode("utf-8", "replace"), True


def split_sleep(text: str) -> tuple[str, bool]:
    """Strip a last non-empty line that reads ``sleep``; return the rest and whether it did.

    For ``"disk ok"``, a newline, then ``"sleep"``, the rest is ``"disk ok"`` plus its
    newline. Blanks around the word are ignored; any other text on that line is not.
    """
    lines = text.splitlines(keepends=True)
    for index in range(len(lines) - 1, -1, -1):
        stripped = lines[index].strip()
        if stripped:
            if stripped == SLEEP_WORD:
                return "".join(lines[:index]), True
            return text, False
    return text, False


def text_reply(text: str, max_bytes: int, *, summary: str | None = None) -> AgentReply:
    """Build the reply of an agent whose output is plain text (``sleep`` line detected)."""
    output, sleep = split_sleep(text)
    output, truncated = cap_text(output, max_bytes)
    return AgentReply(output=output, summary=summary, sleep=sleep, output_truncated=truncated)


def reply_from_value(value: object, agent: str, max_bytes: int, *, source: str) -> AgentReply:
    """Turn what a handler or an HTTP agent returned into an `AgentReply`.

    Accepted: a ``str`` (plain text, ``sleep`` line detected), an `AgentReply`, or a
    mapping ``{"output": str, "summary": str | None, "sleep": bool}`` (``summary`` and
    ``sleep`` optional; an explicit ``sleep`` field is taken as given).

    Raises:
        AgentRunError: the value has another shape; the message says what *source* returned.
    """
    if isinstance(value, str):
        return text_reply(value, max_bytes)
    if isinstance(value, AgentReply):
        # len() counts characters, each at most 4 UTF-8 bytes: short outputs need no encoding
        if len(value.output) * 4 <= max_bytes:
            return value
        output, truncated = cap_text(value.output, max_bytes)
        return AgentReply(
            output=output,
            summary=value.summary,
            sleep=value.sleep,
            output_truncated=truncated or value.output_truncated,
        )
    if isinstance(value, Mapping):
        return _reply_from_mapping(value, agent, max_bytes, source=source)
    raise AgentRunError(
        agent,
        f"{source} returned {type(value).__name__}; return a str, an AgentReply or a dict "
        '{"output": str, "summary": str, "sleep": bool}',
    )


def _reply_from_mapping(
    value: Mapping[Any, Any], agent: str, max_bytes: int, *, source: str
) -> AgentReply:
    output = value.get("output")
    summary = value.get("summary")
    sleep = value.get("sleep", False)
    problems = []
    if not isinstance(output, str):
        problems.append(f'"output" must be a string (got {type(output).__name__})')
    if summary is not None and not isinstance(summary, str):
        problems.append(f'"summary" must be a string or null (got {type(summary).__name__})')
    if not isinstance(sleep, bool):
        problems.append(f'"sleep" must be true or false (got {type(sleep).__name__})')
    if problems or not isinstance(output, str):
        raise AgentRunError(agent, f"{source} returned a malformed reply: {'; '.join(problems)}")
    capped, truncated = cap_text(output, max_bytes)
    return AgentReply(output=capped, summary=summary, sleep=sleep, output_truncated=truncated)


def context_json(context: AgentContext) -> dict[str, Any]:
    """The JSON form of *context*: the context file's and the HTTP agent's body."""
    return {
        "job_id": context.job_id,
        "job_name": context.job_name,
        "run_id": context.run_id,
        "attempt": context.attempt,
        "iteration": context.iteration,
        "trigger": context.trigger,
        "scheduled_for": context.scheduled_for.isoformat().replace("+00:00", "Z"),
        "input": context.input,
        "previous_summary": context.previous_summary,
        "messages": [dict(message) for message in context.messages],
        "session_mode": str(context.session_mode),
        "capabilities": list(context.capabilities),
    }


def resolve_for(agent: str, what: str, text: str, environ: Mapping[str, str]) -> str:
    """Resolve the placeholders of *text*, or fail the invocation naming *what* and the variable.

    Raises:
        AgentRunError: a variable is unset or a placeholder malformed (not retryable).
    """
    try:
        return resolve_template(text, environ)
    except TemplateError as exc:
        raise AgentRunError(agent, f"cannot resolve {what}: {exc}") from None


def body_excerpt(body: str, *, secret: str | None = None) -> str:
    """Return the start of an HTTP error body, on one line, with *secret* masked."""
    text = " ".join(body.split())
    if secret:
        text = text.replace(secret, "***")
    if len(text) > ERROR_BODY_CHARS:
        text = text[:ERROR_BODY_CHARS] + "..."
    return text or "(empty body)"
