"""The HTTP plumbing that URL and model agents share: one bounded POST, errors mapped."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from symbiont.core.errors import AgentRunError
from symbiont.runtime._base import body_excerpt

_UNAUTHORIZED = 401
_TOO_MANY_REQUESTS = 429
_RETRYABLE = frozenset({408, 409, _TOO_MANY_REQUESTS})
_SERVER_ERROR = 500


@dataclass(frozen=True, slots=True, kw_only=True)
class Exchange:
    """One POST: what was sent where, and how the answer may be read."""

    agent: str
    """The agent's name (for errors)."""
    url: str
    """The resolved URL (may hold a secret: never shown)."""
    shown_url: str
    """The URL as written in the definition, for messages."""
    timeout_s: float
    """httpx timeout for connecting, each read and each write."""
    limit: int
    """Most body bytes read; the rest is dropped."""
    secret: str | None = None
    """A value to mask wherever a message might echo it (the API key)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpReply:
    """The answer to one POST."""

    status: int
    headers: httpx.Headers
    body: bytes
    """The body, at most the exchange's limit."""
    truncated: bool
    """The body was longer than the limit."""

    def text(self) -> str:
        """The body decoded as UTF-8 (invalid bytes replaced)."""
        return self.body.decode("utf-8", "replace")

    def is_json(self) -> bool:
        """Whether the Content-Type says JSON."""
        kind = str(self.headers.get("content-type", "")).split(";")[0].strip().lower()
        return kind == "application/json" or kind.endswith("+json")


async def post_json(
    exchange: Exchange, payload: Mapping[str, Any], headers: Mapping[str, str]
) -> HttpReply:
    """POST *payload* as JSON and read the reply, at most ``exchange.limit`` bytes of it.

    The process environment is not consulted (no proxy variables, no netrc): agents
    reach exactly the URL they name.

    Raises:
        AgentRunError: no answer (timeout, refused connection, bad URL); retryable
            unless the URL itself is unusable.
    """
    try:
        async with (
            httpx.AsyncClient(timeout=exchange.timeout_s, trust_env=False) as client,
            client.stream("POST", exchange.url, json=payload, headers=dict(headers)) as response,
        ):
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > exchange.limit:
                    break
            return HttpReply(
                status=response.status_code,
                headers=response.headers,
                body=bytes(body[: exchange.limit]),
                truncated=len(body) > exchange.limit,
            )
    except httpx.TimeoutException:
        raise AgentRunError(
            exchange.agent,
            f"no reply from {exchange.shown_url} within {exchange.timeout_s:g}s",
            retryable=True,
        ) from None
    except (httpx.InvalidURL, httpx.UnsupportedProtocol):
        raise AgentRunError(exchange.agent, f"invalid URL {exchange.shown_url!r}") from None
    except httpx.HTTPError as exc:
        raise AgentRunError(
            exchange.agent,
            f"cannot reach {exchange.shown_url}: {_masked(exchange, exc)}",
            retryable=True,
        ) from None


def _masked(exchange: Exchange, exc: Exception) -> str:
    text = f"{type(exc).__name__}: {exc}".replace(exchange.url, exchange.shown_url)
    if exchange.secret:
        text = text.replace(exchange.secret, "***")
    return text


def raise_for_status(exchange: Exchange, reply: HttpReply) -> None:
    """Raise the `AgentRunError` for a non-2xx reply (429, 408 and 5xx are retryable).

    A 401 never quotes the body: some APIs echo part of the rejected key in it.
    """
    status = reply.status
    if 200 <= status < 300:  # noqa: PLR2004 - the 2xx range
        return
    where = f"HTTP {status} from {exchange.shown_url}"
    if status == _UNAUTHORIZED:
        raise AgentRunError(exchange.agent, f"authentication failed ({where}): check the API key")
    message = f"{where}: {error_detail(reply, exchange.secret)}"
    if status == _TOO_MANY_REQUESTS and (after := reply.headers.get("retry-after")):
        message += f" (retry after {body_excerpt(after)}s)"
    retryable = status in _RETRYABLE or status >= _SERVER_ERROR
    raise AgentRunError(exchange.agent, message, retryable=retryable)


def error_detail(reply: HttpReply, secret: str | None) -> str:
    """The error message of an API error body (``{"error": {"message": ...}}``), else its start."""
    text = reply.text()
    if reply.is_json():
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        error = data.get("error") if isinstance(data, dict) else None
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            text = error["message"]
        elif isinstance(error, str):
            text = error
    return body_excerpt(text, secret=secret)


def json_body(exchange: Exchange, reply: HttpReply) -> object:
    """Decode a reply that must be JSON.

    Raises:
        AgentRunError: the body is not JSON, or was cut by the read limit.
    """
    if reply.truncated:
        raise AgentRunError(
            exchange.agent,
            f"the reply from {exchange.shown_url} is larger than {exchange.limit} bytes",
        )
    try:
        return json.loads(reply.body)
    except ValueError:
        raise AgentRunError(
            exchange.agent,
            f"malformed reply from {exchange.shown_url}: not JSON: "
            f"{body_excerpt(reply.text(), secret=exchange.secret)}",
            retryable=True,
        ) from None
