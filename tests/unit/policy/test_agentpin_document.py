"""The discovery document: JWKs in and out, domain checks, malformed documents, domain names."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from symbiont.core.errors import AgentPinError
from symbiont.policy.agentpin import (
    discovery_document,
    jwk_thumbprint,
    normalize_domain,
    parse_discovery_document,
    public_jwk,
)
from tests.unit.policy.agentpin_helpers import DOMAIN, Signer, document, encoded


def parse(data: object, domain: str = DOMAIN) -> object:
    """Parse *data* (JSON-encoded unless bytes) as DOMAIN's document from ``test``."""
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return parse_discovery_document(raw, domain=domain, origin="test")


def problem(data: object, domain: str = DOMAIN) -> str:
    """The reason parsing *data* fails."""
    with pytest.raises(AgentPinError) as caught:
        parse(data, domain)
    return caught.value.reason


def test_public_jwk_round_trips() -> None:
    """A key written with `public_jwk` reads back as the same public key under its kid."""
    signer = Signer(kid="2026-03")
    parsed = parse_discovery_document(
        encoded(discovery_document(DOMAIN, [signer.jwk()])), domain=DOMAIN, origin="test"
    )
    found = parsed.lookup("2026-03")
    assert found is not None
    assert found.public_numbers() == signer.public.public_numbers()


def test_jwk_has_the_documented_members() -> None:
    """The JWK names kid, kty EC, crv P-256, base64url x and y, use sig and alg ES256."""
    jwk = public_jwk(Signer().public, "k1")
    assert set(jwk) == {"kid", "kty", "crv", "x", "y", "use", "alg"}
    assert (jwk["kty"], jwk["crv"], jwk["use"], jwk["alg"]) == ("EC", "P-256", "sig", "ES256")
    assert len(jwk["x"]) == len(jwk["y"]) == 43
    assert "=" not in jwk["x"] + jwk["y"]


def test_thumbprint_is_stable_and_key_specific() -> None:
    """The RFC 7638 thumbprint is the same for one key and differs between keys."""
    first, second = Signer().public, Signer().public
    assert jwk_thumbprint(first) == jwk_thumbprint(first)
    assert jwk_thumbprint(first) != jwk_thumbprint(second)
    assert len(jwk_thumbprint(first)) == 43


def test_agentpin_draft_field_names_are_read() -> None:
    """A document using the AgentPin draft's ``entity`` and ``public_keys`` parses."""
    signer = Signer()
    data = {"agentpin_version": "0.1", "entity": DOMAIN, "public_keys": [signer.jwk()]}
    parsed = parse_discovery_document(encoded(data), domain=DOMAIN, origin="test")
    assert parsed.lookup("key-1") is not None


def test_document_for_another_domain_fails() -> None:
    """A document whose domain is not the expected one is refused."""
    assert problem(document(Signer(), domain="other.org")) == (
        "the discovery document test is for 'other.org', not example.com"
    )


def test_document_domain_compares_without_case() -> None:
    """``Example.COM.`` in a document is example.com."""
    parsed = parse(document(Signer(), domain="Example.COM."))
    assert parsed is not None


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"{not json", "not JSON"),
        (b'{"domain": "example.com", "keys": [], "x": NaN}', "not JSON"),
        ([1, 2], "not a JSON object"),
        ({"keys": []}, "no 'domain' string"),
        ({"domain": DOMAIN}, "no 'keys' list"),
        ({"domain": DOMAIN, "keys": {"kid": "k"}}, "no 'keys' list"),
        ({"domain": DOMAIN, "keys": [{"kty": "EC"}]}, "a key has no 'kid' string"),
        ({"domain": DOMAIN, "keys": ["k1"]}, "a key has no 'kid' string"),
        (b"{" + b" " * 70_000 + b"}", "larger than 65536 bytes"),
    ],
)
def test_malformed_documents_fail(data: object, expected: str) -> None:
    """A malformed document fails with the domain, the origin and what is wrong."""
    prefix = "malformed discovery document for example.com (test): "
    assert problem(data).startswith(prefix + expected)


def test_duplicate_kid_fails() -> None:
    """Two keys under one kid make the document ambiguous, so it fails."""
    first, second = Signer(kid="k"), Signer(kid="k")
    assert problem(document(first, second)).endswith("kid 'k' is published twice")


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"kty": "RSA"}, "its kty is 'RSA', not 'EC'"),
        ({"crv": "P-384"}, "its crv is 'P-384', not 'P-256'"),
        ({"alg": "RS256"}, "its alg is 'RS256', not 'ES256'"),
        ({"use": "enc"}, "its use is 'enc', not 'sig'"),
        ({"key_ops": ["sign"]}, "its key_ops do not include 'verify'"),
        ({"x": "AAAA"}, "its x is not a 32-byte base64url coordinate"),
        ({"y": "not base64!"}, "its y is not a 32-byte base64url coordinate"),
        ({"y": "A" * 43}, "its x and y are not a point on P-256"),
    ],
)
def test_unusable_key_fails_only_when_its_kid_is_used(change: dict[str, object], why: str) -> None:
    """A key that cannot verify ES256 leaves the document usable but fails its own kid."""
    good, bad = Signer(kid="good"), Signer(kid="bad")
    data = {"domain": DOMAIN, "keys": [good.jwk(), bad.jwk() | change]}
    parsed = parse_discovery_document(encoded(data), domain=DOMAIN, origin="test")
    assert parsed.lookup("good") is not None
    with pytest.raises(AgentPinError) as caught:
        parsed.lookup("bad")
    assert caught.value.reason == f"key 'bad' of example.com cannot verify ES256: {why}"


def test_alg_and_use_may_be_left_out() -> None:
    """``alg`` and ``use`` are optional in a JWK; ``kty`` and ``crv`` are not."""
    jwk = {k: v for k, v in Signer(kid="k").jwk().items() if k not in {"alg", "use"}}
    parsed = parse_discovery_document(
        encoded({"domain": DOMAIN, "keys": [jwk]}), domain=DOMAIN, origin="test"
    )
    assert parsed.lookup("k") is not None


def test_unknown_kid_names_the_published_keys() -> None:
    """The unknown-kid error lists (some of) the published kids, sorted."""
    parsed = parse_discovery_document(
        encoded(document(Signer(kid="b"), Signer(kid="a"))), domain=DOMAIN, origin="test"
    )
    assert parsed.lookup("zzz") is None
    assert parsed.unknown("zzz").reason == (
        "unknown kid 'zzz' for example.com (published keys: 'a', 'b')"
    )


@pytest.mark.parametrize(
    ("given", "expected"),
    [("Example.COM", "example.com"), ("agents.example.com.", "agents.example.com")],
)
def test_domains_are_normalized(given: str, expected: str) -> None:
    """Domains are compared in lower case without a trailing dot."""
    assert normalize_domain(given) == expected


@pytest.mark.parametrize(
    "domain",
    ["", "../etc", "a/b", "evil.com/x?", "user@example.com", "example.com:443", "-x.com", "a..b"],
)
def test_non_host_names_are_refused(domain: str) -> None:
    """A domain also names files and URLs, so anything but a host name is refused."""
    with pytest.raises(AgentPinError, match="expected a host name"):
        normalize_domain(domain)


def test_jwk_round_trip_holds_for_many_keys() -> None:
    """Coordinates are written as exactly 32 bytes, so keys with leading zeros survive."""
    for _ in range(20):
        key = ec.generate_private_key(ec.SECP256R1()).public_key()
        parsed = parse_discovery_document(
            encoded(discovery_document(DOMAIN, [public_jwk(key, "k")])),
            domain=DOMAIN,
            origin="test",
        )
        found = parsed.lookup("k")
        assert found is not None
        assert found.public_numbers() == key.public_numbers()
