"""`WebhookChannel`: POSTs a run as JSON to the job's URL, signed when it has a secret.

The body is ``{"job": {...}, "run": {...}, "output": "..."}``. Headers: the job's
``webhook_headers`` (templates resolved at send time), ``Content-Type: application/json``,
``User-Agent: symbiont/<version>``, ``Idempotency-Key: <run id>``, and with a
``webhook_secret`` ``X-Symbiont-Timestamp`` (Unix seconds) and
``X-Symbiont-Signature: sha256=<hex HMAC-SHA256 of the raw body>``.
"""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx

from symbiont.core.clock import Clock, SystemClock
from symbiont.core.errors import DeliveryError
from symbiont.core.models import Job, Run
from symbiont.delivery._base import job_facts, resolve, run_facts, secret_parts
from symbiont.delivery._http import USER_AGENT, Post, post, raise_for_status
from symbiont.delivery.settings import DeliverySettings

__all__ = (
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "WebhookChannel",
    "host_allowed",
    "sign",
    "webhook_body",
)

SIGNATURE_HEADER = "X-Symbiont-Signature"
"""``sha256=<hex HMAC-SHA256 of the raw body>``, sent when the job has a ``webhook_secret``."""
TIMESTAMP_HEADER = "X-Symbiont-Timestamp"
"""When the request was sent, in Unix seconds (sent with the signature)."""

_OURS = frozenset(
    name.lower() for name in ("Idempotency-Key", "Content-Type", SIGNATURE_HEADER, TIMESTAMP_HEADER)
)


def webhook_body(job: Job, run: Run, output: str) -> bytes:
    """The exact bytes POSTed for a run (compact JSON, UTF-8)."""
    payload = {"job": job_facts(job), "run": run_facts(run), "output": output}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def sign(secret: str, body: bytes) -> str:
    """The ``X-Symbiont-Signature`` value of *body*: ``sha256=`` and the hex HMAC."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def host_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    """Whether *host* is on the allow-list (empty allows any; ``*.x.com`` allows subdomains)."""
    if not allowed:
        return True
    host = host.lower().rstrip(".")
    for entry in allowed:
        pattern = entry.lower().rstrip(".")
        if host == pattern or (pattern.startswith("*.") and host.endswith(pattern[1:])):
            return True
    return False


class WebhookChannel:
    """The ``webhook`` channel: 2xx is delivered; 408, 425, 429, 5xx and no answer retry.

    Args:
        settings: the delivery settings (``settings.webhook`` and ``settings.environ``).
        clock: gives ``X-Symbiont-Timestamp``.
    """

    name = "webhook"

    def __init__(self, settings: DeliverySettings, *, clock: Clock | None = None) -> None:
        self._settings = settings
        self._clock = clock or SystemClock()

    async def deliver(self, job: Job, run: Run, output: str) -> None:  # noqa: D102 - see Channel
        if not job.webhook_url:
            raise DeliveryError(self.name, f"job {job.name!r} has no webhook_url")
        environ = self._settings.environ
        url = resolve(self.name, "webhook_url", job.webhook_url, environ)
        self._check_target(url, job.webhook_url)
        body = webhook_body(job, run, output)
        headers, secrets = self._headers(job, run, body)
        secrets += secret_parts(job.webhook_url, url, environ)
        request = Post(
            channel=self.name,
            url=url,
            shown_url=job.webhook_url,
            body=body,
            headers=headers,
            timeout_s=self._settings.webhook.timeout.total_seconds(),
            secrets=secrets,
        )
        raise_for_status(request, await post(request))

    def _check_target(self, url: str, shown: str) -> None:
        """Refuse a URL that is not http(s) or whose host is not on the allow-list.

        The host is read by httpx, the parser that sends the request, so a URL that two
        parsers read differently cannot pass the check for one host and go to another.
        """
        try:
            parts = httpx.URL(url)
            host = parts.host
        except (httpx.InvalidURL, ValueError):  # IDNA errors are ValueErrors
            raise DeliveryError(self.name, f"invalid webhook_url {shown!r}") from None
        if parts.scheme not in {"http", "https"} or not host:
            raise DeliveryError(
                self.name, f"invalid webhook_url {shown!r}: use an http:// or https:// URL"
            )
        allowed = self._settings.webhook.allowed_hosts
        if not host_allowed(host, allowed):
            raise DeliveryError(
                self.name,
                f"host {host!r} is not in [scheduler.delivery] webhook_allowed_hosts "
                f"({', '.join(allowed)}); add it there or change the job's webhook_url",
            )

    def _headers(self, job: Job, run: Run, body: bytes) -> tuple[httpx.Headers, list[str]]:
        """The request headers, and the resolved values that messages must never show."""
        headers = httpx.Headers({"User-Agent": USER_AGENT})
        secrets: list[str] = []
        environ = self._settings.environ
        for key, written in job.webhook_headers.items():
            if key.lower() in _OURS:
                continue
            value = resolve(self.name, f"header {key!r}", written, environ)
            if "\r" in value or "\n" in value:
                raise DeliveryError(self.name, f"header {key!r} holds a line break")
            headers[key] = value
            secrets += secret_parts(written, value, environ)
        default_auth = self._settings.webhook.auth_header
        if default_auth and "authorization" not in headers:
            value = resolve(self.name, "SYMBI_WEBHOOK_AUTH_HEADER", default_auth, environ)
            headers["Authorization"] = value
            secrets += secret_parts(default_auth, value, environ)
        headers["Content-Type"] = "application/json"
        headers["Idempotency-Key"] = run.id
        if job.webhook_secret:
            secret = resolve(self.name, "webhook_secret", job.webhook_secret, environ)
            secrets += secret_parts(job.webhook_secret, secret, environ)
            headers[TIMESTAMP_HEADER] = str(int(self._clock.now().timestamp()))
            headers[SIGNATURE_HEADER] = sign(secret, body)
        return headers, secrets
