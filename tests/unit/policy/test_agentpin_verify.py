"""`AgentPinVerifier` with real P-256 keys: what passes, and the reason for each failure."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from symbiont.core.errors import AgentPinError, PolicyError
from symbiont.policy.agentpin import AgentPinVerifier, VerifiedPin, issue_credential
from symbiont.testing import FakeClock
from tests.unit.policy.agentpin_helpers import (
    AGENT,
    DOMAIN,
    NOW,
    MemoryKeys,
    Signer,
    b64,
    claims,
    later,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
def signer() -> Signer:
    """The domain's published key."""
    return Signer()


@pytest.fixture
def keys(signer: Signer) -> MemoryKeys:
    """The domain's discovery document, recording lookups."""
    return MemoryKeys(signer)


@pytest.fixture
def clock() -> FakeClock:
    """A clock standing at the tokens' issue time."""
    return FakeClock(NOW)


@pytest.fixture
def verifier(keys: MemoryKeys, clock: FakeClock) -> AgentPinVerifier:
    """A verifier with the default skew and no configured audience."""
    return AgentPinVerifier(keys, clock)


async def reason(verifier: AgentPinVerifier, token: str, **kwargs: str | None) -> str:
    """Verify *token* (as AGENT of DOMAIN unless told), expecting a failure; return its reason."""
    arguments = {"agent_id": AGENT, "domain": DOMAIN} | kwargs
    with pytest.raises(AgentPinError) as caught:
        await verifier.verify(token, **arguments)
    return caught.value.reason


async def test_a_valid_credential_passes(verifier: AgentPinVerifier, signer: Signer) -> None:
    """A credential signed by the published key, naming the agent and domain, verifies."""
    pin = await verifier.verify(signer.token(), agent_id=AGENT, domain=DOMAIN)
    assert isinstance(pin, VerifiedPin)
    assert (pin.issuer, pin.subject, pin.kid) == (DOMAIN, AGENT, "key-1")
    assert pin.expires_at == later(minutes=60)
    assert pin.issued_at == NOW
    assert pin.not_before == NOW
    assert pin.credential_id == "8b8d0f5e-credential"
    assert pin.audience == ()
    assert pin.claims["sub"] == AGENT


async def test_issue_credential_output_verifies(verifier: AgentPinVerifier, signer: Signer) -> None:
    """A credential made by `issue_credential` verifies and carries the typ header."""
    token = issue_credential(
        signer.key, kid="key-1", domain=DOMAIN, agent_id=AGENT, now=NOW, ttl=timedelta(hours=1)
    )
    pin = await verifier.verify(token, agent_id=AGENT, domain=DOMAIN)
    assert pin.expires_at == later(minutes=60)
    assert pin.credential_id is not None


async def test_der_signature_from_agentpin_cli_passes(
    verifier: AgentPinVerifier, signer: Signer
) -> None:
    """A DER-encoded ES256 signature, as the reference agentpin-cli writes it, verifies."""
    header = {"alg": "ES256", "typ": "agentpin-credential+jwt", "kid": "key-1"}
    token = signer.sign(header, claims(), der=True)
    pin = await verifier.verify(token, agent_id=AGENT, domain=DOMAIN)
    assert pin.subject == AGENT


async def test_expired_credential_fails(verifier: AgentPinVerifier, signer: Signer) -> None:
    """A credential past its exp (beyond the skew) fails with the expiry time."""
    token = signer.token(claims(exp=int(later(minutes=-2).timestamp())))
    assert await reason(verifier, token) == "token expired at 2026-03-02T07:58:00Z"


async def test_expiry_within_skew_passes(verifier: AgentPinVerifier, signer: Signer) -> None:
    """A credential that expired less than the skew ago still verifies."""
    token = signer.token(claims(exp=int(later(seconds=-30).timestamp())))
    pin = await verifier.verify(token, agent_id=AGENT, domain=DOMAIN)
    assert pin.expires_at == later(seconds=-30)


async def test_credential_expires_as_the_clock_moves(
    verifier: AgentPinVerifier, signer: Signer, clock: FakeClock
) -> None:
    """The injected clock decides: the same credential fails once time passes exp + skew."""
    token = signer.token()
    await verifier.verify(token, agent_id=AGENT, domain=DOMAIN)
    clock.advance(minutes=61)
    assert await reason(verifier, token) == "token expired at 2026-03-02T09:00:00Z"


async def test_not_yet_valid_credential_fails(verifier: AgentPinVerifier, signer: Signer) -> None:
    """A credential whose nbf is beyond the skew in the future fails."""
    token = signer.token(claims(nbf=int(later(minutes=5).timestamp())))
    assert await reason(verifier, token) == "token not valid before 2026-03-02T08:05:00Z"


async def test_iat_in_the_future_fails(verifier: AgentPinVerifier, signer: Signer) -> None:
    """A credential issued (iat) beyond the skew in the future fails."""
    token = signer.token(claims(iat=int(later(minutes=10).timestamp())))
    assert await reason(verifier, token) == "token issued in the future (iat 2026-03-02T08:10:00Z)"


async def test_missing_exp_fails(verifier: AgentPinVerifier, signer: Signer) -> None:
    """A credential without exp never expires, so it fails."""
    token = signer.token(claims(exp=None))
    assert await reason(verifier, token) == "missing exp claim: a credential must expire"


@pytest.mark.parametrize("value", ["tomorrow", True, -1, 1e300, [1]])
async def test_non_numeric_exp_fails(
    verifier: AgentPinVerifier, signer: Signer, value: object
) -> None:
    """An exp that is not a plausible NumericDate fails, naming the claim."""
    token = signer.sign({"alg": "ES256", "kid": "key-1"}, claims(exp=value))
    assert (await reason(verifier, token)).startswith("claim 'exp' is not a NumericDate")


async def test_wrong_subject_fails(verifier: AgentPinVerifier, signer: Signer) -> None:
    """A credential for another agent fails, naming both agents."""
    token = signer.token(claims(sub="intruder"))
    assert await reason(verifier, token) == (
        "wrong subject: expected agent 'reporter', got 'intruder'"
    )


async def test_wrong_issuer_fails(verifier: AgentPinVerifier, signer: Signer) -> None:
    """A credential issued by another domain fails, even when signed by the right key."""
    token = signer.token(claims(iss="evil.example"))
    assert await reason(verifier, token) == (
        "wrong issuer: expected 'example.com', got 'evil.example'"
    )


async def test_missing_issuer_fails(verifier: AgentPinVerifier, signer: Signer) -> None:
    """A credential without iss fails."""
    assert await reason(verifier, signer.token(claims(iss=None))) == "missing iss claim"


async def test_issuer_compares_without_case(verifier: AgentPinVerifier, signer: Signer) -> None:
    """Domain names are case-insensitive, so ``Example.COM`` anchors ``example.com``."""
    token = signer.token(claims(iss="Example.COM"))
    pin = await verifier.verify(token, agent_id=AGENT, domain=DOMAIN)
    assert pin.issuer == "Example.COM"


async def test_signed_with_another_key_fails(verifier: AgentPinVerifier) -> None:
    """A credential signed by an unpublished key under a published kid fails."""
    impostor = Signer(kid="key-1")
    assert await reason(verifier, impostor.token()) == (
        "bad signature: the token was not signed by key 'key-1' or was altered"
    )


async def test_tampered_payload_fails(verifier: AgentPinVerifier, signer: Signer) -> None:
    """Changing the payload of a signed credential breaks its signature."""
    header, _, signature = signer.token().split(".")
    forged = f"{header}.{b64(claims(sub='intruder'))}.{signature}"
    assert (await reason(verifier, forged)).startswith("bad signature")


async def test_alg_none_fails_before_any_key_lookup(
    verifier: AgentPinVerifier, keys: MemoryKeys
) -> None:
    """An unsigned credential (alg none) is refused without looking up a key."""
    token = f"{b64({'alg': 'none', 'kid': 'key-1'})}.{b64(claims())}."
    assert await reason(verifier, token) == (
        "algorithm 'none' is not allowed: only ES256 is accepted"
    )
    assert keys.lookups == []


async def test_hs256_keyed_with_the_public_key_fails(
    verifier: AgentPinVerifier, keys: MemoryKeys, signer: Signer
) -> None:
    """HS256 with the public key's PEM as HMAC secret (algorithm confusion) is refused."""
    pem = signer.public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = f"{b64({'alg': 'HS256', 'typ': 'JWT', 'kid': 'key-1'})}.{b64(claims())}"
    mac = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{b64(mac)}"
    assert await reason(verifier, token) == (
        "algorithm 'HS256' is not allowed: only ES256 is accepted"
    )
    assert keys.lookups == []


@pytest.mark.parametrize("alg", ["RS256", "ES384", "ES512", "PS256", "EdDSA", "es256"])
async def test_other_algorithms_fail(
    verifier: AgentPinVerifier, keys: MemoryKeys, signer: Signer, alg: str
) -> None:
    """Every algorithm but ES256 (spelled exactly) is refused before any key lookup."""
    token = signer.sign({"alg": alg, "kid": "key-1"}, claims())
    assert await reason(verifier, token) == (
        f"algorithm {alg!r} is not allowed: only ES256 is accepted"
    )
    assert keys.lookups == []


async def test_missing_alg_fails(verifier: AgentPinVerifier, signer: Signer) -> None:
    """A header without alg fails."""
    assert await reason(verifier, signer.sign({"kid": "key-1"}, claims())) == "missing alg header"


async def test_missing_kid_fails(
    verifier: AgentPinVerifier, keys: MemoryKeys, signer: Signer
) -> None:
    """A header without kid fails without a key lookup."""
    token = signer.sign({"alg": "ES256", "typ": "JWT"}, claims())
    assert await reason(verifier, token) == (
        "missing kid header: the token does not name its signing key"
    )
    assert keys.lookups == []


@pytest.mark.parametrize("kid", ["", 7, "k" * 300])
async def test_invalid_kid_fails(verifier: AgentPinVerifier, signer: Signer, kid: object) -> None:
    """An empty, non-string or huge kid fails."""
    token = signer.sign({"alg": "ES256", "kid": kid}, claims())
    assert (await reason(verifier, token)).startswith("invalid kid header")


async def test_unknown_kid_fails(verifier: AgentPinVerifier) -> None:
    """A kid the domain does not publish fails, listing the published ones."""
    token = Signer(kid="key-9").token()
    assert await reason(verifier, token) == (
        "unknown kid 'key-9' for example.com (published keys: 'key-1')"
    )


async def test_unsupported_typ_fails(verifier: AgentPinVerifier, signer: Signer) -> None:
    """A token of another type (an access token, say) fails."""
    token = signer.token(typ="at+jwt")
    assert await reason(verifier, token) == "unsupported token type 'at+jwt'"


async def test_crit_header_fails(verifier: AgentPinVerifier, signer: Signer) -> None:
    """Critical header extensions are not understood, so they fail (RFC 7515 §4.1.11)."""
    token = signer.sign({"alg": "ES256", "kid": "key-1", "crit": ["b64"], "b64": False}, claims())
    assert await reason(verifier, token) == "unsupported critical header parameters ['b64']"


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("", "malformed token: it is empty"),
        ("not-a-jwt", "malformed token: expected 3 base64url parts separated by dots, got 1"),
        ("a.b.c.d.e", "malformed token: expected 3 base64url parts separated by dots, got 5"),
        ("a$.e30.", "malformed token: a part is not base64url"),
        ("x" * 9000, "malformed token: longer than 8192 characters"),
        (f"{b64(b'[1]')}.e30.", "malformed token: the header is not a JSON object"),
        (f"{b64(b'{')}.e30.", "malformed token: the header is not JSON"),
    ],
)
async def test_malformed_token_fails(
    verifier: AgentPinVerifier, keys: MemoryKeys, token: str, expected: str
) -> None:
    """A token that is not a compact JWS fails with what is wrong, before any key lookup."""
    assert (await reason(verifier, token)).startswith(expected)
    assert keys.lookups == []


async def test_duplicate_header_member_fails(verifier: AgentPinVerifier) -> None:
    """A header naming alg twice fails (parsers disagree on which one counts)."""
    header = b64(b'{"alg":"none","alg":"ES256","kid":"key-1"}')
    assert (await reason(verifier, f"{header}.e30.")).startswith(
        "malformed token: the header is not JSON (duplicate member 'alg')"
    )


async def test_signed_payload_that_is_not_a_json_object_fails(
    verifier: AgentPinVerifier, signer: Signer
) -> None:
    """A correctly signed payload that is not a JSON object fails after the signature check."""
    token = signer.sign({"alg": "ES256", "kid": "key-1"}, b"[1, 2]")
    assert await reason(verifier, token) == "malformed token: the payload is not a JSON object"


async def test_no_expected_domain_fails(keys: MemoryKeys, clock: FakeClock, signer: Signer) -> None:
    """Without a domain argument or a configured domain, nothing can anchor the issuer."""
    verifier = AgentPinVerifier(keys, clock)
    assert await reason(verifier, signer.token(), domain=None) == (
        "no expected domain: name one or set [agentpin] domain"
    )
    assert keys.lookups == []


async def test_configured_domain_is_the_default(
    keys: MemoryKeys, clock: FakeClock, signer: Signer
) -> None:
    """The configured domain is used when the call names none, and keys come from it."""
    verifier = AgentPinVerifier(keys, clock, domain="Example.com.")
    pin = await verifier.verify(signer.token(), agent_id=AGENT, domain=None)
    assert pin.issuer == DOMAIN
    assert keys.lookups == [(DOMAIN, "key-1")]


async def test_domain_argument_wins_over_the_configured_one(
    keys: MemoryKeys, clock: FakeClock, signer: Signer
) -> None:
    """The call's domain anchors the issuer, so a credential of the configured one fails."""
    verifier = AgentPinVerifier(keys, clock, domain=DOMAIN)
    assert await reason(verifier, signer.token(), domain="other.org") == (
        "wrong issuer: expected 'other.org', got 'example.com'"
    )
    assert keys.lookups == [("other.org", "key-1")]


async def test_invalid_expected_domain_fails(verifier: AgentPinVerifier, signer: Signer) -> None:
    """An expected domain that is not a host name fails before any lookup."""
    assert await reason(verifier, signer.token(), domain="../etc/passwd") == (
        "invalid domain '../etc/passwd': expected a host name such as example.com"
    )


@pytest.mark.parametrize("aud", ["scheduler.example.net", ["x", "scheduler.example.net"]])
async def test_matching_audience_passes(
    keys: MemoryKeys, clock: FakeClock, signer: Signer, aud: object
) -> None:
    """With an audience configured, a credential naming it (alone or in a list) verifies."""
    verifier = AgentPinVerifier(keys, clock, audience="scheduler.example.net")
    pin = await verifier.verify(signer.token(claims(aud=aud)), agent_id=AGENT, domain=DOMAIN)
    assert "scheduler.example.net" in pin.audience


async def test_wrong_audience_fails(keys: MemoryKeys, clock: FakeClock, signer: Signer) -> None:
    """With an audience configured, a credential for another audience fails."""
    verifier = AgentPinVerifier(keys, clock, audience="scheduler.example.net")
    token = signer.token(claims(aud="billing.example.net"))
    assert await reason(verifier, token) == (
        "wrong audience: expected 'scheduler.example.net', got ['billing.example.net']"
    )


async def test_missing_audience_fails_when_one_is_configured(
    keys: MemoryKeys, clock: FakeClock, signer: Signer
) -> None:
    """With an audience configured, a credential without aud fails."""
    verifier = AgentPinVerifier(keys, clock, audience="scheduler.example.net")
    assert await reason(verifier, signer.token()) == (
        "missing aud claim (expected 'scheduler.example.net')"
    )


async def test_audience_restricted_credential_fails_without_configured_audience(
    verifier: AgentPinVerifier, signer: Signer
) -> None:
    """A credential meant for one verifier is refused by a verifier with no audience."""
    token = signer.token(claims(aud="billing.example.net"))
    assert await reason(verifier, token) == (
        "the token is restricted to audience ['billing.example.net'] but no audience is "
        "configured (set [agentpin] audience)"
    )


async def test_key_on_another_curve_fails(clock: FakeClock, signer: Signer) -> None:
    """A key source handing back a P-384 key cannot verify ES256."""

    class P384Keys:
        async def key(self, domain: str, kid: str) -> ec.EllipticCurvePublicKey:
            del domain, kid
            return ec.generate_private_key(ec.SECP384R1()).public_key()

    verifier = AgentPinVerifier(P384Keys(), clock)
    assert await reason(verifier, signer.token()) == "key 'key-1' is on secp384r1, not P-256"


async def test_failure_is_a_policy_error_with_a_readable_message(
    verifier: AgentPinVerifier, signer: Signer
) -> None:
    """Failures are PolicyErrors whose message starts with "AgentPin verification failed"."""
    with pytest.raises(PolicyError, match=r"^AgentPin verification failed: wrong subject"):
        await verifier.verify(signer.token(claims(sub="x")), agent_id=AGENT, domain=DOMAIN)


def test_negative_skew_is_refused(keys: MemoryKeys, clock: FakeClock) -> None:
    """A negative skew is a programming error."""
    with pytest.raises(ValueError, match="skew must not be negative"):
        AgentPinVerifier(keys, clock, skew=timedelta(seconds=-1))


def test_issue_credential_refuses_bad_input(signer: Signer) -> None:
    """Issuing needs a P-256 key and a positive lifetime."""
    with pytest.raises(ValueError, match="must be P-256"):
        issue_credential(
            ec.generate_private_key(ec.SECP384R1()),
            kid="k",
            domain=DOMAIN,
            agent_id=AGENT,
            now=NOW,
            ttl=timedelta(hours=1),
        )
    with pytest.raises(ValueError, match="lifetime must be positive"):
        issue_credential(
            signer.key, kid="k", domain=DOMAIN, agent_id=AGENT, now=NOW, ttl=timedelta(0)
        )
