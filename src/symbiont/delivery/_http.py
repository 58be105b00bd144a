"""The HTTP plumbing the webhook and Slack channels share: one bounded POST, errors mapped."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import anyio
import httpx

from symbiont import __version__
from symbiont.core.errors import DeliveryError
from symbiont.delivery._base import RetryLater, excerpt, mask, parse_retry_after

USER_AGENT = f"symbiont/{__version__}"
"""The ``User-Agent`` of every delivery request."""

READ_LIMIT = 64 * 1024
"""Most bytes of a reply read; replies are only checked, never stored."""

_RETRYABLE = frozenset({408, 425, 429})
_SERVER_ERROR = 500


@dataclass(frozen=True, slots=True, kw_only=True)
class Post:
    """One POST: where to, what, and what to hide from messages."""

    channel: str
    """The channel name (for errors)."""
    url: str
    """The resolved URL (may hold a secret: never shown)."""
    shown_url: str
    """The URL as messages show it (as written, or a description)."""
    body: bytes
    headers: Mapping[str, str]
    timeout_s: float
    """Deadline of the whole exchange, and httpx's timeout of each step."""
    secrets: Sequence[str] = ()
    """Resolved values masked wherever a message might echo them."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    """The answer to one POST (its body at most `READ_LIMIT` bytes)."""

    status: int
    headers: httpx.Headers
    body: bytes

    def text(self) -> str:
        """The body decoded as UTF-8 (invalid bytes replaced)."""
        return self.body.decode("utf-8", "replace")

    def json(self) -> object:
        """The body as JSON, or ``None`` when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None


async def post(request: Post) -> Reply:
    """Send *request* without following redirects or reading the process environment.

    Raises:
        DeliveryError: no answer in time or no connection (retryable), or an unusable URL.
    """
    try:
        with anyio.fail_after(request.timeout_s):
            return await _exchange(request)
    except (TimeoutError, httpx.TimeoutException):
        raise DeliveryError(
            request.channel,
            f"no reply from {request.shown_url} within {request.timeout_s:g}s",
            retryable=True,
        ) from None
    except (httpx.InvalidURL, httpx.UnsupportedProtocol):
        raise DeliveryError(request.channel, f"invalid URL {request.shown_url!r}") from None
    except httpx.HTTPError as exc:
        reason = mask(f"{type(exc).__name__}: {exc}", _hidden(request))
        raise DeliveryError(
            request.channel, f"cannot reach {request.shown_url}: {reason}", retryable=True
        ) from None


async def _exchange(request: Post) -> Reply:
    async with (
        httpx.AsyncClient(timeout=request.timeout_s, trust_env=False) as client,
        client.stream(
            "POST", request.url, content=request.body, headers=request.headers
        ) as response,
    ):
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) >= READ_LIMIT:
                break
        return Reply(status=response.status_code, headers=response.headers, body=bytes(body))


def raise_for_status(request: Post, reply: Reply, detail: str | None = None) -> None:
    """Raise the `DeliveryError` of a non-2xx reply: 408, 425, 429 and 5xx are retryable.

    Args:
        request: the request answered.
        reply: the answer.
        detail: what the reply says went wrong; defaults to the start of its body.
    """
    status = reply.status
    if 200 <= status < 300:  # noqa: PLR2004 - the 2xx range
        return
    if detail is None:
        detail = excerpt(reply.text()) or "(empty reply)"
    message = f"HTTP {status} from {request.shown_url}: {mask(detail, _hidden(request))}"
    if status in _RETRYABLE or status >= _SERVER_ERROR:
        after = parse_retry_after(reply.headers.get("retry-after"))
        raise RetryLater(request.channel, message, retry_after=after)
    raise DeliveryError(request.channel, message)


def _hidden(request: Post) -> list[str]:
    """What messages must never show: the secrets, and the URL unless it is shown as is."""
    hidden = list(request.secrets)
    if request.url != request.shown_url:
        hidden.append(request.url)
    return hidden
