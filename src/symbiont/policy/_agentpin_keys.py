"""AgentPin public keys: the discovery document and where it comes from (HTTPS or local files)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx
from cryptography.hazmat.primitives.asymmetric import ec

from symbiont.core.clock import Clock
from symbiont.core.errors import AgentPinError

DISCOVERY_PATH = "/.well-known/agent-identity.json"
"""Where a domain publishes its discovery document."""
DEFAULT_URL_TEMPLATE = "https://{domain}" + DISCOVERY_PATH
"""The discovery URL; ``{domain}`` is replaced by the expected domain."""
DOCUMENT_NAME = "agent-identity.json"
"""The file name ``symbi agentpin keygen`` writes and a key folder falls back to."""
MAX_DOCUMENT_BYTES = 64 * 1024
"""A discovery document larger than this is refused (it holds a few public keys)."""

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN = re.compile(rf"(?=.{{1,253}}\Z){_LABEL}(?:\.{_LABEL})*")
_COORDINATE_BYTES = 32


def shown(value: object, limit: int = 64) -> str:
    """Quote a value taken from a token or a document, cut short, for an error message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def b64url_decode(text: str) -> bytes:
    """Decode unpadded base64url (RFC 7515 §2); raise ValueError on anything else."""
    if not text.isascii() or "=" in text:
        raise ValueError("not base64url")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except binascii.Error:
        raise ValueError("not base64url") from None


def b64url_encode(data: bytes) -> str:
    """Encode *data* as unpadded base64url."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def normalize_domain(domain: str) -> str:
    """Return *domain* in lower case without a trailing dot.

    Raises:
        AgentPinError: *domain* is not a host name (it also names files and URLs, so
            nothing else may pass).
    """
    lowered = domain.strip().lower().removesuffix(".")
    if _DOMAIN.fullmatch(lowered) is None:
        raise AgentPinError(
            f"invalid domain {shown(domain)}: expected a host name such as example.com"
        )
    return lowered


def public_jwk(key: ec.EllipticCurvePublicKey, kid: str) -> dict[str, str]:
    """Return the discovery-document entry (a JWK, RFC 7517) for a P-256 public *key*."""
    numbers = key.public_numbers()
    return {
        "kid": kid,
        "kty": "EC",
        "crv": "P-256",
        "x": b64url_encode(numbers.x.to_bytes(_COORDINATE_BYTES, "big")),
        "y": b64url_encode(numbers.y.to_bytes(_COORDINATE_BYTES, "big")),
        "use": "sig",
        "alg": "ES256",
    }


def jwk_thumbprint(key: ec.EllipticCurvePublicKey) -> str:
    """Return the RFC 7638 thumbprint of *key* (base64url SHA-256 of its canonical JWK)."""
    jwk = public_jwk(key, kid="")
    canonical = json.dumps(
        {name: jwk[name] for name in ("crv", "kty", "x", "y")}, separators=(",", ":")
    )
    return b64url_encode(hashlib.sha256(canonical.encode("ascii")).digest())


def discovery_document(domain: str, keys: list[dict[str, str]]) -> dict[str, Any]:
    """Return a discovery document publishing *keys* (JWKs from `public_jwk`) for *domain*."""
    return {"domain": normalize_domain(domain), "keys": keys}


@dataclass(frozen=True, slots=True, kw_only=True)
class DiscoveryDocument:
    """A parsed discovery document: the keys one domain publishes, by ``kid``."""

    domain: str
    """The domain the document is for (lower case)."""
    keys: Mapping[str, ec.EllipticCurvePublicKey]
    """The usable ES256 keys."""
    unusable: Mapping[str, str]
    """Published keys that cannot verify ES256, with the reason."""

    def lookup(self, kid: str) -> ec.EllipticCurvePublicKey | None:
        """Return key *kid*, or None when the document does not publish it.

        Raises:
            AgentPinError: the document publishes *kid*, but not as an ES256 signing key.
        """
        if kid in self.unusable:
            raise AgentPinError(
                f"key {shown(kid)} of {self.domain} cannot verify ES256: {self.unusable[kid]}"
            )
        return self.keys.get(kid)

    def unknown(self, kid: str) -> AgentPinError:
        """Return the error for a ``kid`` this document does not publish."""
        known = ", ".join(repr(name) for name in sorted(self.keys)[:5]) or "none"
        return AgentPinError(
            f"unknown kid {shown(kid)} for {self.domain} (published keys: {known})"
        )


def parse_discovery_document(raw: bytes, *, domain: str, origin: str) -> DiscoveryDocument:
    """Parse a discovery document and check that it is *domain*'s.

    The AgentPin draft's field names ``entity`` and ``public_keys`` are read as well as
    ``domain`` and ``keys``, so documents published by ``agentpin-cli`` work too.

    Args:
        raw: the document's bytes (UTF-8 JSON).
        domain: the expected domain (normalized).
        origin: where the document came from (a URL or a path), for messages.

    Raises:
        AgentPinError: the document is malformed or belongs to another domain.
    """
    problem = f"malformed discovery document for {domain} ({origin})"
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise AgentPinError(f"{problem}: larger than {MAX_DOCUMENT_BYTES} bytes")
    try:
        data = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise AgentPinError(f"{problem}: not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise AgentPinError(f"{problem}: not a JSON object")
    owner = data.get("domain", data.get("entity"))
    if not isinstance(owner, str):
        raise AgentPinError(f"{problem}: no 'domain' string")
    if owner.strip().lower().removesuffix(".") != domain:
        raise AgentPinError(f"the discovery document {origin} is for {shown(owner)}, not {domain}")
    entries = data.get("keys", data.get("public_keys"))
    if not isinstance(entries, list):
        raise AgentPinError(f"{problem}: no 'keys' list")
    keys, unusable = _parse_keys(entries, problem)
    return DiscoveryDocument(domain=domain, keys=keys, unusable=unusable)


def _parse_keys(
    entries: list[Any], problem: str
) -> tuple[dict[str, ec.EllipticCurvePublicKey], dict[str, str]]:
    """Split the JWKs into usable keys and unusable ones (with the reason), by ``kid``."""
    keys: dict[str, ec.EllipticCurvePublicKey] = {}
    unusable: dict[str, str] = {}
    for entry in entries:
        kid = entry.get("kid") if isinstance(entry, dict) else None
        if not isinstance(kid, str) or not kid:
            raise AgentPinError(f"{problem}: a key has no 'kid' string")
        if kid in keys or kid in unusable:
            raise AgentPinError(f"{problem}: kid {shown(kid)} is published twice")
        try:
            keys[kid] = _load_jwk(entry)
        except ValueError as exc:
            unusable[kid] = str(exc)
    return keys, unusable


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _load_jwk(jwk: Mapping[str, Any]) -> ec.EllipticCurvePublicKey:
    """Turn one JWK into a P-256 public key; ValueError says why it cannot be one."""
    expected = {"kty": "EC", "crv": "P-256"}
    optional = {"alg": "ES256", "use": "sig"}
    for name, value in (expected | optional).items():
        if jwk.get(name, value if name in optional else None) != value:
            raise ValueError(f"its {name} is {shown(jwk.get(name))}, not {value!r}")
    key_ops = jwk.get("key_ops")
    if key_ops is not None and (not isinstance(key_ops, list) or "verify" not in key_ops):
        raise ValueError("its key_ops do not include 'verify'")
    x, y = _coordinate(jwk, "x"), _coordinate(jwk, "y")
    try:
        return ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
    except ValueError:
        raise ValueError("its x and y are not a point on P-256") from None


def _coordinate(jwk: Mapping[str, Any], name: str) -> int:
    text = jwk.get(name)
    try:
        value = b64url_decode(text) if isinstance(text, str) else b""
    except ValueError:
        value = b""
    if len(value) != _COORDINATE_BYTES:
        raise ValueError(f"its {name} is not a 32-byte base64url coordinate")
    return int.from_bytes(value, "big")


@dataclass(slots=True)
class _Cached:
    document: DiscoveryDocument
    fetched_at: datetime


class HttpDiscovery:
    """Keys from each domain's ``/.well-known/agent-identity.json``, cached per domain.

    A document is used for *ttl* after it was fetched. A ``kid`` the cached document does
    not publish triggers one early refetch (to pick up a rotated key), but never sooner
    than *refetch_interval* after the previous fetch, so unknown ids cannot make symbiont
    hammer the domain. A failed fetch is remembered for *refetch_interval* as well. Stale
    documents are never used: when the domain cannot be reached, verification fails.
    Redirects are not followed.

    Args:
        clock: tells the time for the cache.
        ttl: how long a fetched document is trusted.
        refetch_interval: the shortest time between two fetches for one domain.
        url_template: the document's URL, with ``{domain}`` where the domain goes
            (tests and mirrors use ``http://127.0.0.1:PORT/{domain}.json``).
        client: an ``httpx.AsyncClient`` to fetch with (its owner closes it); by
            default a short-lived client per fetch.
        timeout_s: the timeout of each fetch when symbiont makes the client.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        ttl: timedelta = timedelta(minutes=5),
        refetch_interval: timedelta = timedelta(seconds=30),
        url_template: str = DEFAULT_URL_TEMPLATE,
        client: httpx.AsyncClient | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        self._clock = clock
        self._ttl = ttl
        self._refetch_interval = refetch_interval
        self._url_template = url_template
        self._client = client
        self._timeout_s = timeout_s
        self._cache: dict[str, _Cached] = {}
        self._failures: dict[str, tuple[datetime, AgentPinError]] = {}
        self._locks: dict[str, anyio.Lock] = {}

    async def key(self, domain: str, kid: str) -> ec.EllipticCurvePublicKey:
        domain = normalize_domain(domain)
        lock = self._locks.setdefault(domain, anyio.Lock())
        async with lock:
            now = self._clock.now()
            cached = self._cache.get(domain)
            if cached is None or now >= cached.fetched_at + self._ttl:
                cached = await self._refresh(domain, now)
            found = cached.document.lookup(kid)
            if found is None and now >= cached.fetched_at + self._refetch_interval:
                cached = await self._refresh(domain, now)
                found = cached.document.lookup(kid)
        if found is None:
            raise cached.document.unknown(kid)
        return found

    async def _refresh(self, domain: str, now: datetime) -> _Cached:
        failure = self._failures.get(domain)
        if failure is not None and now < failure[0] + self._refetch_interval:
            raise failure[1]
        try:
            url = self._url(domain)
            raw = await self._fetch(domain, url)
            document = parse_discovery_document(raw, domain=domain, origin=url)
        except AgentPinError as exc:
            self._failures[domain] = (now, exc)
            raise
        self._failures.pop(domain, None)
        cached = self._cache[domain] = _Cached(document=document, fetched_at=now)
        return cached

    def _url(self, domain: str) -> str:
        try:
            return self._url_template.format(domain=domain)
        except (KeyError, IndexError, ValueError):
            raise AgentPinError(
                f"invalid discovery URL template {self._url_template!r}: "
                "write {domain} where the domain goes"
            ) from None

    async def _fetch(self, domain: str, url: str) -> bytes:
        try:
            if self._client is not None:
                return await _download(self._client, domain, url)
            async with httpx.AsyncClient(timeout=self._timeout_s) as client:
                return await _download(client, domain, url)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            reason = str(exc) or type(exc).__name__
            raise AgentPinError(
                f"cannot fetch discovery document for {domain} from {url}: {reason}"
            ) from None


async def _download(client: httpx.AsyncClient, domain: str, url: str) -> bytes:
    """GET *url* without following redirects, reading at most `MAX_DOCUMENT_BYTES` + 1."""
    headers = {"accept": "application/json"}
    async with client.stream("GET", url, headers=headers, follow_redirects=False) as response:
        if response.status_code != httpx.codes.OK:
            raise AgentPinError(
                f"cannot fetch discovery document for {domain} from {url}: "
                f"HTTP {response.status_code}"
            )
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > MAX_DOCUMENT_BYTES:
                break
        return bytes(body)


class FileKeys:
    """Keys from local discovery documents, for offline use; read again on every lookup.

    Args:
        path: one discovery document, or a folder holding ``<domain>.json`` documents
            (a folder without one falls back to its ``agent-identity.json``, the file
            ``symbi agentpin keygen`` writes).
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    async def key(self, domain: str, kid: str) -> ec.EllipticCurvePublicKey:
        domain = normalize_domain(domain)
        path = await self._document_path(domain)
        try:
            raw = await anyio.Path(path).read_bytes()
        except FileNotFoundError:
            raise AgentPinError(
                f"no discovery document for {domain}: {path} does not exist"
            ) from None
        except OSError as exc:
            raise AgentPinError(
                f"cannot read discovery document for {domain} ({path}): {exc.strerror or exc}"
            ) from None
        document = parse_discovery_document(raw, domain=domain, origin=str(path))
        found = document.lookup(kid)
        if found is None:
            raise document.unknown(kid)
        return found

    async def _document_path(self, domain: str) -> Path:
        if not await anyio.Path(self.path).is_dir():
            return self.path
        named = self.path / f"{domain}.json"
        if await anyio.Path(named).exists():
            return named
        fallback = self.path / DOCUMENT_NAME
        return fallback if await anyio.Path(fallback).exists() else named
