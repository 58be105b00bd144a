"""`HttpDiscovery` against a real HTTP server on 127.0.0.1: caching, rotation, failures."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta

import anyio
import httpx
import pytest

from symbiont.core.errors import AgentPinError
from symbiont.policy.agentpin import AgentPinVerifier, HttpDiscovery
from symbiont.testing import FakeClock
from tests.unit.policy.agentpin_helpers import (
    AGENT,
    DOMAIN,
    NOW,
    DiscoveryServer,
    Signer,
    claims,
    discovery_server,
    document,
    encoded,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
def server() -> Iterator[DiscoveryServer]:
    """A discovery server on a free loopback port."""
    with discovery_server() as running:
        yield running


@pytest.fixture
def signer(server: DiscoveryServer) -> Signer:
    """The domain's key, published by the server."""
    signer = Signer()
    server.publish(server.path(), encoded(document(signer)))
    return signer


@pytest.fixture
def clock() -> FakeClock:
    """A clock standing at the tokens' issue time."""
    return FakeClock(NOW)


@pytest.fixture
def discovery(server: DiscoveryServer, clock: FakeClock) -> HttpDiscovery:
    """Discovery through the local server: TTL 5 min, refetch at most every 30 s."""
    return HttpDiscovery(
        clock,
        url_template=server.template(),
        ttl=timedelta(minutes=5),
        refetch_interval=timedelta(seconds=30),
    )


@pytest.fixture
def verifier(discovery: HttpDiscovery, clock: FakeClock) -> AgentPinVerifier:
    """A verifier whose keys come from the local server."""
    return AgentPinVerifier(discovery, clock, domain=DOMAIN)


async def failure(verifier: AgentPinVerifier, token: str) -> str:
    """Verify *token* as AGENT, expecting a failure; return its reason."""
    with pytest.raises(AgentPinError) as caught:
        await verifier.verify(token, agent_id=AGENT)
    return caught.value.reason


async def test_valid_credential_verifies_with_fetched_keys(
    verifier: AgentPinVerifier, signer: Signer, server: DiscoveryServer
) -> None:
    """The key is fetched from /<domain>/.well-known/agent-identity.json and verifies."""
    pin = await verifier.verify(signer.token(), agent_id=AGENT)
    assert pin.kid == "key-1"
    assert server.requests == [server.path()]


async def test_second_verify_within_ttl_does_not_refetch(
    verifier: AgentPinVerifier, signer: Signer, server: DiscoveryServer, clock: FakeClock
) -> None:
    """Within the TTL the cached document is used; after it, the document is fetched again."""
    await verifier.verify(signer.token(), agent_id=AGENT)
    clock.advance(minutes=4, seconds=59)
    await verifier.verify(signer.token(), agent_id=AGENT)
    assert len(server.requests) == 1
    clock.advance(seconds=1)
    await verifier.verify(signer.token(claims(clock.now())), agent_id=AGENT)
    assert len(server.requests) == 2


async def test_unknown_kid_triggers_one_refetch_for_rotation(
    verifier: AgentPinVerifier, signer: Signer, server: DiscoveryServer, clock: FakeClock
) -> None:
    """A rotated-in kid is picked up by one early refetch, once the refetch interval passed."""
    await verifier.verify(signer.token(), agent_id=AGENT)
    rotated = Signer(kid="key-2")
    server.publish(server.path(), encoded(document(signer, rotated)))
    clock.advance(seconds=31)
    pin = await verifier.verify(rotated.token(claims(clock.now())), agent_id=AGENT)
    assert pin.kid == "key-2"
    assert len(server.requests) == 2


async def test_unknown_kid_refetch_is_rate_limited(
    verifier: AgentPinVerifier, signer: Signer, server: DiscoveryServer, clock: FakeClock
) -> None:
    """Unknown kids refetch at most once per interval, so they cannot hammer the domain."""
    await verifier.verify(signer.token(), agent_id=AGENT)
    stranger = Signer(kid="key-9")
    assert await failure(verifier, stranger.token()) == (
        "unknown kid 'key-9' for example.com (published keys: 'key-1')"
    )
    assert len(server.requests) == 1  # fetched just now: no refetch
    clock.advance(seconds=31)
    for _ in range(3):
        await failure(verifier, stranger.token(claims(clock.now())))
    assert len(server.requests) == 2  # one refetch for three unknown-kid attempts


async def test_concurrent_verifies_share_one_fetch(
    verifier: AgentPinVerifier, signer: Signer, server: DiscoveryServer
) -> None:
    """Many verifications at once for one domain fetch its document once."""
    async with anyio.create_task_group() as group:
        for _ in range(5):
            group.start_soon(lambda: verifier.verify(signer.token(), agent_id=AGENT))
    assert len(server.requests) == 1


async def test_http_error_fails_and_is_not_retried_at_once(
    verifier: AgentPinVerifier, server: DiscoveryServer, clock: FakeClock
) -> None:
    """A 404 fails with the URL and status; the failure is remembered for the interval."""
    token = Signer().token()
    url = server.template().format(domain=DOMAIN)
    expected = f"cannot fetch discovery document for example.com from {url}: HTTP 404"
    assert await failure(verifier, token) == expected
    assert await failure(verifier, token) == expected
    assert len(server.requests) == 1
    clock.advance(seconds=31)
    await failure(verifier, token)
    assert len(server.requests) == 2


async def test_unreachable_server_fails(clock: FakeClock) -> None:
    """A closed port fails with "cannot fetch discovery document" and the cause."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    discovery = HttpDiscovery(clock, url_template=f"http://127.0.0.1:{port}/{{domain}}.json")
    verifier = AgentPinVerifier(discovery, clock)
    with pytest.raises(AgentPinError) as caught:
        await verifier.verify(Signer().token(), agent_id=AGENT, domain=DOMAIN)
    assert caught.value.reason.startswith(
        f"cannot fetch discovery document for example.com from http://127.0.0.1:{port}/"
        "example.com.json: "
    )


async def test_malformed_document_fails(
    verifier: AgentPinVerifier, server: DiscoveryServer
) -> None:
    """A body that is not a discovery document fails, naming the URL."""
    server.publish(server.path(), b"<html>hello</html>")
    reason = await failure(verifier, Signer().token())
    url = server.template().format(domain=DOMAIN)
    assert reason.startswith(f"malformed discovery document for example.com ({url}): not JSON")


async def test_document_of_another_domain_fails(
    verifier: AgentPinVerifier, server: DiscoveryServer
) -> None:
    """A document served for example.com but naming another domain is refused."""
    signer = Signer()
    server.publish(server.path(), encoded(document(signer, domain="evil.example")))
    assert (await failure(verifier, signer.token())).endswith(
        "is for 'evil.example', not example.com"
    )


async def test_oversized_document_fails(
    verifier: AgentPinVerifier, server: DiscoveryServer
) -> None:
    """A document larger than 64 KiB is refused without being read whole."""
    server.publish(server.path(), b" " * 200_000)
    assert (await failure(verifier, Signer().token())).endswith("larger than 65536 bytes")


async def test_redirects_are_not_followed(
    verifier: AgentPinVerifier, server: DiscoveryServer
) -> None:
    """A redirect is a failure: keys come only from the domain's own URL."""
    server.publish(server.path(), b"", status=302, location=f"{server.url}/elsewhere.json")
    assert (await failure(verifier, Signer().token())).endswith(": HTTP 302")
    assert server.requests == [server.path()]


async def test_given_client_is_used(
    server: DiscoveryServer, signer: Signer, clock: FakeClock
) -> None:
    """An httpx client passed in does the fetching (and stays open: its owner closes it)."""
    async with httpx.AsyncClient(base_url=server.url) as client:
        discovery = HttpDiscovery(clock, client=client, url_template=server.template())
        verifier = AgentPinVerifier(discovery, clock)
        await verifier.verify(signer.token(), agent_id=AGENT, domain=DOMAIN)
        assert not client.is_closed
    assert server.requests == [server.path()]


async def test_expected_domain_picks_the_document(
    server: DiscoveryServer, discovery: HttpDiscovery, clock: FakeClock
) -> None:
    """Keys come from the expected domain's document, never from the token's issuer."""
    ours, theirs = Signer(), Signer()
    server.publish(server.path(), encoded(document(ours)))
    server.publish(server.path("evil.example"), encoded(document(theirs, domain="evil.example")))
    verifier = AgentPinVerifier(discovery, clock)
    token = theirs.token(claims(iss="evil.example"))
    with pytest.raises(AgentPinError, match="bad signature"):
        await verifier.verify(token, agent_id=AGENT, domain=DOMAIN)
    assert server.requests == [server.path()]


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("http://127.0.0.1:1/{host}.json", "invalid discovery URL template"),
        ("http://[::1/{domain}.json", "cannot fetch discovery document for example.com from"),
    ],
)
async def test_bad_url_template_fails_with_a_reason(
    clock: FakeClock, template: str, expected: str
) -> None:
    """A template that cannot make a URL is an AgentPinError, not a crash of the caller."""
    verifier = AgentPinVerifier(HttpDiscovery(clock, url_template=template), clock)
    with pytest.raises(AgentPinError) as caught:
        await verifier.verify(Signer().token(), agent_id=AGENT, domain=DOMAIN)
    assert caught.value.reason.startswith(expected)
