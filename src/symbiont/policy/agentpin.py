"""AgentPin: verify an agent's ES256 identity credential against its domain's published keys.

A credential is a compact JWS (JWT) whose header names the signing key (``kid``) and whose
claims bind the agent (``sub``) to the domain anchor (``iss``) for a limited time. The
verifier trusts only keys published by the *expected* domain (the one the caller or the
configuration names), never a key, URL or domain taken from the token itself.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, Protocol

import jwt
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from symbiont.core.clock import Clock
from symbiont.core.errors import AgentPinError
from symbiont.policy._agentpin_keys import (
    DEFAULT_URL_TEMPLATE,
    DISCOVERY_PATH,
    DOCUMENT_NAME,
    DiscoveryDocument,
    FileKeys,
    HttpDiscovery,
    b64url_decode,
    discovery_document,
    jwk_thumbprint,
    normalize_domain,
    parse_discovery_document,
    public_jwk,
    shown,
)

__all__ = (
    "ALGORITHM",
    "CREDENTIAL_TYPE",
    "DEFAULT_URL_TEMPLATE",
    "DISCOVERY_PATH",
    "DOCUMENT_NAME",
    "MAX_TOKEN_BYTES",
    "AgentPinVerifier",
    "DiscoveryDocument",
    "FileKeys",
    "HttpDiscovery",
    "KeySource",
    "VerifiedPin",
    "discovery_document",
    "issue_credential",
    "jwk_thumbprint",
    "normalize_domain",
    "parse_discovery_document",
    "public_jwk",
)

ALGORITHM = "ES256"
"""The only signature algorithm AgentPin accepts (ECDSA on P-256 with SHA-256)."""
CREDENTIAL_TYPE = "agentpin-credential+jwt"
"""The ``typ`` header of an AgentPin credential (``JWT`` is accepted too)."""
MAX_TOKEN_BYTES = 8 * 1024
"""A longer token is refused before any parsing."""

_ACCEPTED_TYPES = frozenset({CREDENTIAL_TYPE, "jwt"})
_MAX_KID_LENGTH = 256
_SIGNATURE_BYTES = 64
_LAST_TIMESTAMP = 253_402_300_800  # 10000-01-01T00:00:00Z: later NumericDates are nonsense


class KeySource(Protocol):
    """Finds the public key a domain publishes under a key id (``kid``)."""

    async def key(self, domain: str, kid: str) -> ec.EllipticCurvePublicKey:
        """Return the P-256 public key *domain* publishes as *kid*.

        Raises:
            AgentPinError: the key is not published or unusable, or the domain's discovery
                document cannot be read or is malformed.
        """
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifiedPin:
    """A credential that verified: who it names, for whom, and until when."""

    issuer: str
    """The domain anchor (``iss``), equal to the expected domain."""
    subject: str
    """The agent id (``sub``), equal to the agent being run."""
    kid: str
    """The id of the domain's key that signed the credential."""
    expires_at: datetime
    """``exp``, aware UTC."""
    issued_at: datetime | None = None
    """``iat``, when the credential has one."""
    not_before: datetime | None = None
    """``nbf``, when the credential has one."""
    audience: tuple[str, ...] = ()
    """``aud``, as a tuple (empty when the credential names no audience)."""
    credential_id: str | None = None
    """``jti``, when the credential has one."""
    claims: Mapping[str, Any] = field(default_factory=dict)
    """Every claim of the credential, read-only."""


@dataclass(frozen=True, slots=True)
class _Parts:
    """A compact JWS split and decoded; ``signing_input`` is what the signature covers."""

    signing_input: bytes
    header: bytes
    payload: bytes
    signature: bytes


class AgentPinVerifier:
    """Verifies AgentPin credentials (ES256 JWTs) for the scheduler's policy gate.

    Args:
        keys: where the expected domain's public keys come from.
        clock: the time ``exp``, ``nbf`` and ``iat`` are checked against.
        skew: how far clocks may disagree (default 60 s).
        audience: when set, the credential's ``aud`` must name it; when not set, a
            credential restricted to an audience is refused (RFC 7519 §4.1.3).
        domain: the expected domain when `verify` is given none.
    """

    def __init__(
        self,
        keys: KeySource,
        clock: Clock,
        *,
        skew: timedelta = timedelta(seconds=60),
        audience: str | None = None,
        domain: str | None = None,
    ) -> None:
        if skew < timedelta(0):
            raise ValueError(f"skew must not be negative (got {skew})")
        self._keys = keys
        self._clock = clock
        self._skew = skew
        self._audience = audience
        self._domain = domain

    async def verify(self, token: str, *, agent_id: str, domain: str | None = None) -> VerifiedPin:
        """Verify *token* as *agent_id*'s credential from *domain*.

        The header is checked before any key is looked up: ``alg`` must be ES256 (so
        ``none`` and HS256 keyed with the public key never reach a key) and ``kid`` must be
        present. The signature is checked with the expected domain's key *kid*, and only
        then the claims.

        Args:
            token: the compact JWT.
            agent_id: the agent being run; ``sub`` must equal it.
            domain: the expected domain anchor; ``iss`` must equal it. Default: the
                verifier's configured domain.

        Returns:
            The verified credential.

        Raises:
            AgentPinError: the credential does not verify; ``reason`` says why.
        """
        expected = domain or self._domain
        if not expected:
            raise AgentPinError("no expected domain: name one or set [agentpin] domain")
        expected = normalize_domain(expected)
        parts = _split(token)
        kid = _check_header(_json_object(parts.header, "header"))
        key = await self._keys.key(expected, kid)
        _check_signature(key, parts, kid)
        claims = _json_object(parts.payload, "payload")
        issuer, subject = _check_identity(claims, domain=expected, agent_id=agent_id)
        audience = self._check_audience(claims)
        expires_at, not_before, issued_at = self._check_times(claims)
        credential_id = claims.get("jti")
        return VerifiedPin(
            issuer=issuer,
            subject=subject,
            kid=kid,
            expires_at=expires_at,
            issued_at=issued_at,
            not_before=not_before,
            audience=audience,
            credential_id=credential_id if isinstance(credential_id, str) else None,
            claims=MappingProxyType(claims),
        )

    def _check_audience(self, claims: Mapping[str, Any]) -> tuple[str, ...]:
        raw = claims.get("aud")
        if raw is None:
            audience: tuple[str, ...] = ()
        elif isinstance(raw, str):
            audience = (raw,)
        elif isinstance(raw, list) and all(isinstance(item, str) for item in raw):
            audience = tuple(raw)
        else:
            raise AgentPinError(f"claim 'aud' is not a string or a list of strings: {shown(raw)}")
        if self._audience is None:
            if audience:
                raise AgentPinError(
                    f"the token is restricted to audience {shown(list(audience))} but no "
                    "audience is configured (set [agentpin] audience)"
                )
        elif not audience:
            raise AgentPinError(f"missing aud claim (expected {self._audience!r})")
        elif self._audience not in audience:
            raise AgentPinError(
                f"wrong audience: expected {self._audience!r}, got {shown(list(audience))}"
            )
        return audience

    def _check_times(
        self, claims: Mapping[str, Any]
    ) -> tuple[datetime, datetime | None, datetime | None]:
        now = self._clock.now()
        expires_at = _instant(claims, "exp")
        if expires_at is None:
            raise AgentPinError("missing exp claim: a credential must expire")
        if now >= expires_at + self._skew:
            raise AgentPinError(f"token expired at {_iso(expires_at)}")
        not_before = _instant(claims, "nbf")
        if not_before is not None and now + self._skew < not_before:
            raise AgentPinError(f"token not valid before {_iso(not_before)}")
        issued_at = _instant(claims, "iat")
        if issued_at is not None and issued_at > now + self._skew:
            raise AgentPinError(f"token issued in the future (iat {_iso(issued_at)})")
        return expires_at, not_before, issued_at


def issue_credential(
    private_key: ec.EllipticCurvePrivateKey,
    *,
    kid: str,
    domain: str,
    agent_id: str,
    now: datetime,
    ttl: timedelta,
    audience: str | None = None,
) -> str:
    """Sign an AgentPin credential for *agent_id* of *domain*, valid from *now* for *ttl*.

    Args:
        private_key: the domain's P-256 private key.
        kid: the id under which the domain publishes the matching public key.
        domain: the issuing domain (``iss``).
        agent_id: the agent (``sub``).
        now: the issue time (``iat`` and ``nbf``).
        ttl: the lifetime (``exp`` = *now* + *ttl*).
        audience: restricts the credential to one verifier (``aud``).

    Returns:
        The compact JWT.

    Raises:
        ValueError: the key is not P-256 or *ttl* is not positive.
    """
    if private_key.curve.name != ec.SECP256R1.name:
        raise ValueError(f"an AgentPin key must be P-256 (got {private_key.curve.name})")
    if ttl <= timedelta(0):
        raise ValueError(f"the lifetime must be positive (got {ttl})")
    issued = int(now.timestamp())
    claims: dict[str, Any] = {
        "iss": normalize_domain(domain),
        "sub": agent_id,
        "iat": issued,
        "nbf": issued,
        "exp": issued + math.ceil(ttl.total_seconds()),
        "jti": str(uuid.uuid4()),
    }
    if audience is not None:
        claims["aud"] = audience
    return jwt.encode(
        claims, private_key, algorithm=ALGORITHM, headers={"kid": kid, "typ": CREDENTIAL_TYPE}
    )


def _split(token: str) -> _Parts:
    token = token.strip()
    if not token:
        raise AgentPinError("malformed token: it is empty")
    if len(token) > MAX_TOKEN_BYTES:
        raise AgentPinError(f"malformed token: longer than {MAX_TOKEN_BYTES} characters")
    pieces = token.split(".")
    if len(pieces) != 3:  # noqa: PLR2004 - header.payload.signature
        raise AgentPinError(
            f"malformed token: expected 3 base64url parts separated by dots, got {len(pieces)}"
        )
    try:
        header, payload, signature = (b64url_decode(piece) for piece in pieces)
    except ValueError:
        raise AgentPinError("malformed token: a part is not base64url") from None
    signing_input = f"{pieces[0]}.{pieces[1]}".encode("ascii")
    return _Parts(signing_input, header, payload, signature)


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    """Parse a JSON object, refusing duplicate names (parsers disagree on which one wins)."""
    try:
        value = json.loads(raw, object_pairs_hook=_unique, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise AgentPinError(f"malformed token: the {what} is not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise AgentPinError(f"malformed token: the {what} is not a JSON object")
    return value


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise ValueError(f"duplicate member {shown(name)}")
        result[name] = value
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _check_header(header: Mapping[str, Any]) -> str:
    """Check ``alg``, ``typ``, ``crit`` and ``kid``; return the ``kid``. Uses no key."""
    alg = header.get("alg")
    if alg is None:
        raise AgentPinError("missing alg header")
    if alg != ALGORITHM:
        raise AgentPinError(f"algorithm {shown(alg)} is not allowed: only ES256 is accepted")
    typ = header.get("typ")
    if typ is not None and (not isinstance(typ, str) or typ.lower() not in _ACCEPTED_TYPES):
        raise AgentPinError(f"unsupported token type {shown(typ)}")
    if "crit" in header:
        raise AgentPinError(f"unsupported critical header parameters {shown(header['crit'])}")
    kid = header.get("kid")
    if kid is None:
        raise AgentPinError("missing kid header: the token does not name its signing key")
    if not isinstance(kid, str) or not kid or len(kid) > _MAX_KID_LENGTH:
        raise AgentPinError(f"invalid kid header {shown(kid)}")
    return kid


def _check_signature(key: ec.EllipticCurvePublicKey, parts: _Parts, kid: str) -> None:
    """Verify the ES256 signature: JWS's raw ``r || s``, or DER as ``agentpin-cli`` writes."""
    if not isinstance(key.curve, ec.SECP256R1):
        raise AgentPinError(f"key {shown(kid)} is on {key.curve.name}, not P-256")
    signature = parts.signature
    if len(signature) == _SIGNATURE_BYTES:
        half = _SIGNATURE_BYTES // 2
        r, s = (int.from_bytes(chunk, "big") for chunk in (signature[:half], signature[half:]))
        signature = encode_dss_signature(r, s)
    try:
        key.verify(signature, parts.signing_input, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        raise AgentPinError(
            f"bad signature: the token was not signed by key {shown(kid)} or was altered"
        ) from None


def _check_identity(claims: Mapping[str, Any], *, domain: str, agent_id: str) -> tuple[str, str]:
    issuer = claims.get("iss")
    if issuer is None:
        raise AgentPinError("missing iss claim")
    if not isinstance(issuer, str) or issuer.lower() != domain:
        raise AgentPinError(f"wrong issuer: expected {domain!r}, got {shown(issuer)}")
    subject = claims.get("sub")
    if subject is None:
        raise AgentPinError("missing sub claim")
    if subject != agent_id:
        raise AgentPinError(f"wrong subject: expected agent {agent_id!r}, got {shown(subject)}")
    return issuer, subject


def _instant(claims: Mapping[str, Any], name: str) -> datetime | None:
    """Read a NumericDate claim (seconds since the epoch); None when it is absent."""
    if name not in claims:
        return None
    value = claims[name]
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 0 <= value < _LAST_TIMESTAMP
    ):
        raise AgentPinError(f"claim {name!r} is not a NumericDate: {shown(value)}")
    return datetime.fromtimestamp(value, UTC)


def _iso(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"
