"""The ``webhook`` channel against a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import pytest

from symbiont import __version__
from symbiont.core.errors import DeliveryError
from symbiont.delivery import DefaultDeliveryRouter, WebhookChannel, WebhookSettings
from tests.unit.delivery.helpers import (
    InstantClock,
    Recorded,
    free_port,
    json_answer,
    make_job,
    make_run,
    receiver,
    settings,
    text_answer,
)

pytestmark = pytest.mark.anyio
SECRET = "whsec-s3cr3t-value"
SECRET_TEMPLATE = "${HOOK_SECRET}"
ENVIRON = {"METRICS_API_KEY": "key-123-abc", "HOOK_SECRET": SECRET, "REGION": "eu"}


def router(**kwargs: object) -> DefaultDeliveryRouter:
    """A router with only the webhook channel, fast retries and the test environment."""
    built = settings(environ=ENVIRON, **kwargs)
    return DefaultDeliveryRouter(
        {"webhook": WebhookChannel(built, clock=InstantClock())}, built, clock=InstantClock()
    )


def webhook_job(url: str, **fields: object) -> object:
    """A job delivering to *url*."""
    return make_job(delivery=("webhook",), webhook_url=url, **fields)


def verify(secret: str, request: Recorded) -> bool:
    """Verify the signature as a receiver would (the recipe from docs/delivery.md)."""
    expected = hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
    header = request.headers["x-symbiont-signature"]
    return hmac.compare_digest(header, f"sha256={expected}")


async def test_posts_job_run_and_output_as_json() -> None:
    """The body holds the job, the run and the output; the standard headers are set."""
    with receiver() as server:
        job = webhook_job(f"{server.url}/ingest")
        result = await router().route("webhook", job, make_run(), "3 disks ok")
    assert (result.status, result.attempts) == ("delivered", 1)
    [request] = server.requests
    assert request.path == "/ingest"
    assert request.json() == {
        "job": {"id": "job-1", "name": "disk-check", "agent_id": "disk-agent"},
        "run": {
            "id": "run-7f3a",
            "job_id": "job-1",
            "job_name": "disk-check",
            "status": "succeeded",
            "trigger": "schedule",
            "attempt": 1,
            "scheduled_for": "2026-03-02T08:30:00Z",
            "started_at": "2026-03-02T08:30:01Z",
            "finished_at": "2026-03-02T08:30:03.400000Z",
            "execution_time_ms": 2400,
            "error_message": None,
            "node_id": None,
        },
        "output": "3 disks ok",
    }
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == f"symbiont/{__version__}"
    assert request.headers["idempotency-key"] == "run-7f3a"
    assert "x-symbiont-signature" not in request.headers


async def test_template_headers_are_resolved_at_send_time() -> None:
    """``${ENV}`` in header values is resolved from the environment given to the channel."""
    headers = {
        "Authorization": "Bearer ${METRICS_API_KEY}",
        "X-Region": "${REGION}-${ZONE:-a}",
        "Content-Type": "text/plain",
        "Idempotency-Key": "mine",
    }
    with receiver() as server:
        job = webhook_job(server.url, webhook_headers=headers)
        result = await router().route("webhook", job, make_run(), "out")
    assert result.status == "delivered"
    [request] = server.requests
    assert request.headers["authorization"] == "Bearer key-123-abc"
    assert request.headers["x-region"] == "eu-a"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["idempotency-key"] == "run-7f3a"


async def test_the_signature_verifies_with_the_secret() -> None:
    """With a webhook_secret the body is signed; the receiver's check passes, a wrong key fails."""
    with receiver() as server:
        job = webhook_job(server.url, webhook_secret=SECRET_TEMPLATE)
        result = await router().route("webhook", job, make_run(), "signed output ✓")
    assert result.status == "delivered"
    [request] = server.requests
    assert verify(SECRET, request)
    assert not verify("another-secret", request)
    assert request.headers["x-symbiont-timestamp"] == "1772440200"
    assert json.loads(request.body)["output"] == "signed output ✓"


async def test_a_server_error_then_success_is_delivered_on_the_second_attempt() -> None:
    """500 then 200: delivered after two attempts, each with the same Idempotency-Key."""
    answers = [text_answer(500, "db down"), text_answer(200, "ok")]
    with receiver(lambda _: answers.pop(0)) as server:
        result = await router().route("webhook", webhook_job(server.url), make_run(), "out")
    assert (result.status, result.attempts, result.error) == ("delivered", 2, None)
    assert [r.headers["idempotency-key"] for r in server.requests] == ["run-7f3a"] * 2


async def test_too_many_requests_is_retried() -> None:
    """429 with Retry-After is retried (the wait is capped by the settings)."""
    answers = [(429, {"retry-after": "1"}, b"slow down"), text_answer(204)]
    with receiver(lambda _: answers.pop(0)) as server:
        result = await router().route("webhook", webhook_job(server.url), make_run(), "out")
    assert (result.status, result.attempts) == ("delivered", 2)


async def test_a_client_error_fails_without_retry() -> None:
    """400 is final: one attempt, and the error quotes the status, URL and reply."""
    answer = json_answer(400, {"error": "bad payload"})
    with receiver(lambda _: answer) as server:
        result = await router().route("webhook", webhook_job(server.url), make_run(), "out")
    assert (result.status, result.attempts) == ("failed", 1)
    assert result.error == f'HTTP 400 from {server.url}: {{"error": "bad payload"}}'
    assert len(server.requests) == 1


async def test_persistent_server_errors_fail_after_all_retries() -> None:
    """A receiver that keeps answering 503 gets 1 + webhook_retry_attempts requests."""
    with receiver(lambda _: text_answer(503, "maintenance")) as server:
        result = await router().route("webhook", webhook_job(server.url), make_run(), "out")
    assert (result.status, result.attempts) == ("failed", 4)
    assert result.error == f"HTTP 503 from {server.url}: maintenance"
    assert len(server.requests) == 4


async def test_a_hanging_receiver_times_out() -> None:
    """A receiver that never answers fails the delivery after the timeout, retryably."""
    fast = WebhookSettings(timeout=timedelta(milliseconds=300))
    with receiver() as server:
        server.respond = server.hang
        channel = WebhookChannel(settings(webhook=fast))
        with pytest.raises(DeliveryError) as caught:
            await channel.deliver(webhook_job(server.url), make_run(), "out")
    assert caught.value.retryable is True
    assert caught.value.reason == f"no reply from {server.url} within 0.3s"


async def test_an_unreachable_receiver_is_retryable() -> None:
    """A refused connection is retried, then failed with a 'cannot reach' error."""
    url = f"http://127.0.0.1:{free_port()}/hook"
    result = await router().route("webhook", webhook_job(url), make_run(), "out")
    assert (result.status, result.attempts) == ("failed", 4)
    assert result.error is not None
    assert result.error.startswith(f"cannot reach {url}: ConnectError")


async def test_hosts_outside_the_allow_list_are_refused() -> None:
    """With an allow-list, another host is refused before any request, with a clear error."""
    allow = WebhookSettings(allowed_hosts=("hooks.example.com", "*.internal.example"))
    with receiver() as server:
        result = await router(webhook=allow).route(
            "webhook", webhook_job(server.url), make_run(), "out"
        )
    assert (result.status, result.attempts) == ("failed", 1)
    assert result.error == (
        "host '127.0.0.1' is not in [scheduler.delivery] webhook_allowed_hosts "
        "(hooks.example.com, *.internal.example); add it there or change the job's webhook_url"
    )
    assert server.requests == []


async def test_allowed_hosts_are_delivered_to() -> None:
    """A host on the allow-list is delivered to as usual."""
    with receiver() as server:
        result = await router(webhook=WebhookSettings(allowed_hosts=("127.0.0.1",))).route(
            "webhook", webhook_job(server.url), make_run(), "out"
        )
    assert result.status == "delivered"


async def test_a_missing_variable_fails_naming_it_and_nothing_else() -> None:
    """An unset header variable fails the delivery, naming the variable, never other values."""
    headers = {"Authorization": "Bearer ${MISSING_TOKEN}", "X-Key": "${METRICS_API_KEY}"}
    with receiver() as server:
        job = webhook_job(server.url, webhook_headers=headers, webhook_secret=SECRET_TEMPLATE)
        result = await router().route("webhook", job, make_run(), "out")
    assert (result.status, result.attempts) == ("failed", 1)
    assert result.error is not None
    assert "header 'Authorization'" in result.error
    assert "'MISSING_TOKEN' is not set" in result.error
    assert "key-123-abc" not in result.error
    assert SECRET not in result.error
    assert server.requests == []


async def test_resolved_values_never_appear_in_errors() -> None:
    """A receiver echoing the secret header back in its error reply has it masked."""

    def echo(request: Recorded) -> tuple[int, dict[str, str], bytes]:
        return 401, {}, f"bad key {request.headers['authorization']}".encode()

    with receiver(echo) as server:
        job = webhook_job(server.url, webhook_headers={"Authorization": "${METRICS_API_KEY}"})
        result = await router().route("webhook", job, make_run(), "out")
    assert result.error == f"HTTP 401 from {server.url}: bad key ***"


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("ftp://example.com/x", "invalid webhook_url 'ftp://example.com/x': use an http://"),
        ("not a url", "invalid webhook_url 'not a url': use an http://"),
    ],
)
async def test_unusable_urls_fail_without_retry(url: str, error: str) -> None:
    """A URL that is not http(s) fails at once."""
    result = await router().route("webhook", webhook_job(url), make_run(), "out")
    assert (result.status, result.attempts) == ("failed", 1)
    assert result.error is not None
    assert result.error.startswith(error)


async def test_a_job_without_url_fails() -> None:
    """A webhook delivery for a job without webhook_url says so."""
    result = await router().route("webhook", make_job(), make_run(), "out")
    assert result.error == "job 'disk-check' has no webhook_url"


async def test_default_auth_header_applies_when_the_job_sets_none() -> None:
    """SYMBI_WEBHOOK_AUTH_HEADER authorizes webhooks without their own Authorization header."""
    default = WebhookSettings(auth_header="Bearer ${METRICS_API_KEY}")
    with receiver() as server:
        plain = await router(webhook=default).route(
            "webhook", webhook_job(server.url), make_run(), "o"
        )
        own = webhook_job(server.url, webhook_headers={"Authorization": "Token mine"})
        mine = await router(webhook=default).route("webhook", own, make_run(), "o")
    assert (plain.status, mine.status) == ("delivered", "delivered")
    assert [r.headers["authorization"] for r in server.requests] == [
        "Bearer key-123-abc",
        "Token mine",
    ]
