"""Real P-256 keys, hand-made tokens and a discovery server for the AgentPin tests."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from symbiont.policy.agentpin import DiscoveryDocument, parse_discovery_document, public_jwk

DOMAIN = "example.com"
AGENT = "reporter"
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def b64(data: bytes | dict[str, Any]) -> str:
    """Base64url without padding, of bytes or of a dict as compact JSON."""
    raw = json.dumps(data).encode() if isinstance(data, dict) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def claims(now: datetime = NOW, **changes: Any) -> dict[str, Any]:
    """Valid claims for AGENT of DOMAIN issued at *now* for an hour; ``name=None`` drops one."""
    issued = int(now.timestamp())
    result: dict[str, Any] = {
        "iss": DOMAIN,
        "sub": AGENT,
        "iat": issued,
        "nbf": issued,
        "exp": issued + 3600,
        "jti": "8b8d0f5e-credential",
    }
    result.update(changes)
    return {name: value for name, value in result.items() if value is not None}


@dataclass
class Signer:
    """One of a domain's signing keys: a real P-256 key pair and its kid."""

    kid: str = "key-1"
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )

    @property
    def public(self) -> ec.EllipticCurvePublicKey:
        """The public half."""
        return self.key.public_key()

    def jwk(self) -> dict[str, str]:
        """The key's entry in a discovery document."""
        return public_jwk(self.public, self.kid)

    def token(self, payload: dict[str, Any] | None = None, **header: Any) -> str:
        """A PyJWT-signed ES256 token with this key's kid (header values may override it)."""
        headers = {"kid": self.kid, "typ": "agentpin-credential+jwt"} | header
        return jwt.encode(payload or claims(), self.key, algorithm="ES256", headers=headers)

    def sign(
        self, header: dict[str, Any], payload: dict[str, Any] | bytes, *, der: bool = False
    ) -> str:
        """Sign any header and payload by hand (raw ``r || s`` as JWS wants, or DER)."""
        signing_input = f"{b64(header)}.{b64(payload)}"
        signature = self.key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        if not der:
            r, s = decode_dss_signature(signature)
            signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return f"{signing_input}.{b64(signature)}"


def document(*signers: Signer, domain: str = DOMAIN) -> dict[str, Any]:
    """A discovery document publishing *signers* for *domain*."""
    return {"domain": domain, "keys": [signer.jwk() for signer in signers]}


def encoded(data: dict[str, Any]) -> bytes:
    """A discovery document as the bytes a server or a file holds."""
    return json.dumps(data).encode()


class MemoryKeys:
    """A KeySource over one in-memory discovery document that records every lookup."""

    def __init__(self, *signers: Signer, domain: str = DOMAIN) -> None:
        self.document: DiscoveryDocument = parse_discovery_document(
            encoded(document(*signers, domain=domain)), domain=domain, origin="memory"
        )
        self.lookups: list[tuple[str, str]] = []

    async def key(self, domain: str, kid: str) -> ec.EllipticCurvePublicKey:
        """Return *kid* from the document, recording the lookup."""
        self.lookups.append((domain, kid))
        found = self.document.lookup(kid)
        if found is None:
            raise self.document.unknown(kid)
        return found


@dataclass
class DiscoveryServer:
    """A real HTTP server on 127.0.0.1 serving discovery documents by path."""

    url: str
    responses: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)

    def publish(self, path: str, body: bytes, status: int = 200, **headers: str) -> None:
        """Serve *body* with *status* at *path* from now on."""
        self.responses[path] = (status, headers, body)

    def template(self) -> str:
        """The ``url_template`` that maps a domain to ``/<domain>/.well-known/...``."""
        return self.url + "/{domain}/.well-known/agent-identity.json"

    def path(self, domain: str = DOMAIN) -> str:
        """The path `template` gives for *domain*."""
        return f"/{domain}/.well-known/agent-identity.json"


@contextmanager
def discovery_server() -> Iterator[DiscoveryServer]:
    """Run a threaded `DiscoveryServer` on a free loopback port until the block ends."""
    server: DiscoveryServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            server.requests.append(self.path)
            status, headers, body = server.responses.get(self.path, (404, {}, b"not found"))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
            """Keep test output quiet."""

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    server = DiscoveryServer(url=f"http://127.0.0.1:{httpd.server_address[1]}")
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def later(minutes: float = 0, seconds: float = 0) -> datetime:
    """NOW plus some time."""
    return NOW + timedelta(minutes=minutes, seconds=seconds)
