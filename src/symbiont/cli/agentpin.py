"""``symbi agentpin``: make AgentPin keys, issue credentials and verify them."""

from __future__ import annotations

import base64
import json
import os
import re
import sys
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Annotated, Any, NoReturn

import anyio
import typer
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from symbiont.cli._output import EXIT_USAGE, fail
from symbiont.config import load_settings
from symbiont.config.build import build_verifier
from symbiont.config.settings import AgentPinConfig
from symbiont.core.clock import SystemClock
from symbiont.core.durations import parse_duration
from symbiont.core.errors import AgentPinError, SymbiontError
from symbiont.policy.agentpin import (
    DISCOVERY_PATH,
    DOCUMENT_NAME,
    VerifiedPin,
    discovery_document,
    issue_credential,
    jwk_thumbprint,
    normalize_domain,
    parse_discovery_document,
    public_jwk,
)

app = typer.Typer(
    no_args_is_help=True,
    help="AgentPin identity: make a key pair, issue credentials, verify them.",
)

_KID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_DEFAULT_KID_LENGTH = 16

ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="TOML file (default ./symbi.toml).")
]


@app.command("keygen")
def keygen(
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the private key and the document.")
    ] = Path(),
    domain: Annotated[
        str | None,
        typer.Option(
            "--domain", help="Your domain (default: [agentpin] domain).", show_default=False
        ),
    ] = None,
    kid: Annotated[
        str | None,
        typer.Option(
            "--kid",
            help="Key id (default: 16 hex digits of the key's RFC 7638 thumbprint).",
            show_default=False,
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Make a P-256 key pair: a private key (PEM, mode 0600) and the discovery document.

    An existing agent-identity.json in the folder gets the new key added, so the old one
    stays published while credentials signed with it are still valid (key rotation).
    """
    anchor = _domain_or_fail(domain, config)
    if kid is not None and _KID.fullmatch(kid) is None:
        _usage(f"--kid must be 1-64 letters, digits, '.', '_' or '-' (got {kid!r})")
    key = ec.generate_private_key(ec.SECP256R1())
    kid = kid or _default_kid(key.public_key())
    document_path = out / DOCUMENT_NAME
    document = _document_with(document_path, anchor, public_jwk(key.public_key(), kid))
    key_path = out / f"{kid}.pem"
    try:
        out.mkdir(parents=True, exist_ok=True)
        _write_private_key(key_path, key)
        _write_atomically(document_path, json.dumps(document, indent=2) + "\n")
    except FileExistsError:
        fail(f"{key_path} already exists; pick another --kid or --out")
    except OSError as exc:
        fail(f"cannot write to {out}: {exc.strerror or exc}")
    typer.echo(f"private key:        {key_path} (kid {kid}; keep it secret, mode 0600)")
    typer.echo(f"discovery document: {document_path}")
    typer.echo(f"publish the document at https://{anchor}{DISCOVERY_PATH}")
    typer.echo(f"then: symbi agentpin issue --key {key_path} --agent AGENT --domain {anchor}")


@app.command("issue")
def issue(
    key: Annotated[Path, typer.Option("--key", help="The private key (PEM) from keygen.")],
    agent: Annotated[str, typer.Option("--agent", help="The agent id (sub).")],
    domain: Annotated[str, typer.Option("--domain", help="Your domain (iss).")],
    ttl: Annotated[str, typer.Option("--ttl", help="Lifetime, e.g. 30m, 1h, 7d.")] = "1h",
    kid: Annotated[
        str | None,
        typer.Option(
            "--kid",
            help="Key id (default: looked up in the document next to --key).",
            show_default=False,
        ),
    ] = None,
    audience: Annotated[
        str | None,
        typer.Option("--audience", help="Restrict the credential to one verifier (aud)."),
    ] = None,
) -> None:
    """Print an AgentPin credential (ES256 JWT) for AGENT of DOMAIN on stdout."""
    anchor = _normalized_or_fail(domain)
    private_key = _load_private_key(key)
    try:
        lifetime = parse_duration(ttl)
    except ValueError as exc:
        _usage(f"--ttl: {exc}")
    if lifetime <= timedelta(0):
        _usage("--ttl must be longer than 0s")
    kid = kid or _kid_of(key, private_key.public_key(), anchor)
    now = SystemClock().now()
    token = issue_credential(
        private_key,
        kid=kid,
        domain=anchor,
        agent_id=agent,
        now=now,
        ttl=lifetime,
        audience=audience,
    )
    typer.echo(token)
    typer.echo(f"valid until {_iso(now + lifetime)} (kid {kid})", err=True)


@app.command("verify")
def verify(
    credential: Annotated[
        str,
        typer.Argument(help="The credential (JWT), or '-' to read stdin.", metavar="TOKEN"),
    ],
    agent: Annotated[
        str, typer.Option("--agent", help="The agent id the credential must name (sub).")
    ],
    domain: Annotated[
        str | None,
        typer.Option(
            "--domain", help="The expected domain (default: [agentpin] domain).", show_default=False
        ),
    ] = None,
    keys: Annotated[
        Path | None,
        typer.Option(
            "--keys",
            help="A discovery document or a folder of them (default: fetch over HTTPS).",
            show_default=False,
        ),
    ] = None,
    audience: Annotated[
        str | None, typer.Option("--audience", help="The audience to require (aud).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the claims as JSON.")] = False,
    config: ConfigOption = None,
) -> None:
    """Verify a credential: print its claims, or the reason it fails (exit 1)."""
    pin_config = _pin_config(
        config, domain=domain, keys_path=None if keys is None else str(keys), audience=audience
    )
    if not pin_config.domain:
        _usage("no expected domain: pass --domain or set [agentpin] domain")
    text = sys.stdin.read() if credential == "-" else credential
    verifier = build_verifier(pin_config, SystemClock())
    try:
        pin = anyio.run(partial(verifier.verify, text, agent_id=agent))
    except AgentPinError as exc:
        fail(exc)
    if as_json:
        typer.echo(json.dumps(dict(pin.claims), indent=2, sort_keys=True))
    else:
        _print_pin(pin)


def _default_kid(key: ec.EllipticCurvePublicKey) -> str:
    """Hex digits of the key's RFC 7638 thumbprint: stable, unique and safe in a file name."""
    digest = base64.urlsafe_b64decode(jwk_thumbprint(key) + "=")
    return digest.hex()[:_DEFAULT_KID_LENGTH]


def _print_pin(pin: VerifiedPin) -> None:
    typer.echo(f"verified: agent {pin.subject!r} of {pin.issuer} (kid {pin.kid!r})")
    typer.echo(f"expires:  {_iso(pin.expires_at)}")
    for name in sorted(pin.claims):
        typer.echo(f"  {name}: {json.dumps(pin.claims[name])}")


def _usage(problem: str) -> NoReturn:
    fail(problem, EXIT_USAGE)


def _normalized_or_fail(domain: str) -> str:
    try:
        return normalize_domain(domain)
    except AgentPinError as exc:
        _usage(exc.reason)


def _pin_config(config: Path | None, **flags: str | None) -> AgentPinConfig:
    """``[agentpin]`` from the config file and environment, with the given flags on top."""
    overrides = {f"agentpin.{name}": value for name, value in flags.items()}
    try:
        return load_settings(config, overrides=overrides).agentpin
    except SymbiontError as exc:
        fail(exc)


def _domain_or_fail(domain: str | None, config: Path | None) -> str:
    if domain is None:
        domain = _pin_config(config).domain
    if not domain:
        _usage("no domain: pass --domain or set [agentpin] domain")
    return _normalized_or_fail(domain)


def _document_with(path: Path, domain: str, jwk: dict[str, str]) -> dict[str, Any]:
    """The discovery document at *path* (or a new one) with *jwk* added."""
    if not path.exists():
        return discovery_document(domain, [jwk])
    try:
        raw = path.read_bytes()
        parsed = parse_discovery_document(raw, domain=domain, origin=str(path))
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror or exc}")
    except AgentPinError as exc:
        fail(f"{exc.reason}; choose another --out")
    if jwk["kid"] in parsed.keys or jwk["kid"] in parsed.unusable:
        _usage(f"{path} already publishes kid {jwk['kid']!r}; pick another --kid")
    document: dict[str, Any] = json.loads(raw)
    document["keys" if "keys" in document else "public_keys"].append(jwk)
    return document


def _write_private_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    """Write *key* as PKCS#8 PEM to a new file that only its owner can read."""
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        os.fchmod(handle.fileno(), 0o600)  # whatever the umask says
        handle.write(pem)


def _write_atomically(path: Path, text: str) -> None:
    partial_path = path.with_name(f".{path.name}.tmp")
    partial_path.write_text(text, encoding="utf-8")
    partial_path.replace(path)


def _load_private_key(path: Path) -> ec.EllipticCurvePrivateKey:
    try:
        data = path.read_bytes()
    except OSError as exc:
        _usage(f"cannot read --key {path}: {exc.strerror or exc}")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        _usage(f"--key {path} is encrypted; AgentPin keys from keygen are not")
    except (ValueError, UnsupportedAlgorithm):
        _usage(f"--key {path} is not a PEM private key")
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        _usage(f"--key {path} is not a P-256 (ES256) key")
    return key


def _kid_of(key_path: Path, public_key: ec.EllipticCurvePublicKey, domain: str) -> str:
    """Find the kid under which the document next to the key publishes *public_key*."""
    document_path = key_path.parent / DOCUMENT_NAME
    hint = "; pass --kid"
    try:
        raw = document_path.read_bytes()
        document = parse_discovery_document(raw, domain=domain, origin=str(document_path))
    except OSError:
        _usage(f"cannot tell the key's kid: no readable {document_path}{hint}")
    except AgentPinError as exc:
        _usage(f"cannot tell the key's kid: {exc.reason}{hint}")
    numbers = public_key.public_numbers()
    for kid, published in document.keys.items():
        if published.public_numbers() == numbers:
            return kid
    _usage(f"cannot tell the key's kid: {document_path} does not publish this key{hint}")


def _iso(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"
