"""`FileKeys`: discovery documents from a local file or folder, for offline verification."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from symbiont.core.errors import AgentPinError
from symbiont.policy.agentpin import AgentPinVerifier, FileKeys
from symbiont.testing import FakeClock
from tests.unit.policy.agentpin_helpers import AGENT, DOMAIN, NOW, Signer, claims, document

pytestmark = pytest.mark.anyio


def write(path: Path, data: dict[str, object]) -> Path:
    """Write a discovery document as JSON and return its path."""
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def verifier_for(path: Path) -> AgentPinVerifier:
    """A verifier reading keys from *path*, with the clock at the tokens' issue time."""
    return AgentPinVerifier(FileKeys(path), FakeClock(NOW))


async def failure(path: Path, token: str, domain: str = DOMAIN) -> str:
    """Verify *token* against *path*, expecting a failure; return its reason."""
    with pytest.raises(AgentPinError) as caught:
        await verifier_for(path).verify(token, agent_id=AGENT, domain=domain)
    return caught.value.reason


async def test_single_document_file_verifies(tmp_path: Path) -> None:
    """A credential verifies against one discovery document file."""
    signer = Signer()
    path = write(tmp_path / "keys.json", document(signer))
    pin = await verifier_for(path).verify(signer.token(), agent_id=AGENT, domain=DOMAIN)
    assert pin.issuer == DOMAIN


async def test_single_file_of_another_domain_fails(tmp_path: Path) -> None:
    """A file whose document is for another domain does not vouch for the expected one."""
    signer = Signer()
    path = write(tmp_path / "keys.json", document(signer, domain="other.org"))
    assert await failure(path, signer.token()) == (
        f"the discovery document {path} is for 'other.org', not example.com"
    )


async def test_folder_holds_one_document_per_domain(tmp_path: Path) -> None:
    """In a folder, ``<domain>.json`` holds each domain's keys."""
    ours, theirs = Signer(), Signer()
    write(tmp_path / "example.com.json", document(ours))
    write(tmp_path / "other.org.json", document(theirs, domain="other.org"))
    verifier = verifier_for(tmp_path)
    await verifier.verify(ours.token(), agent_id=AGENT, domain=DOMAIN)
    token = theirs.token(claims(iss="other.org"))
    pin = await verifier.verify(token, agent_id=AGENT, domain="other.org")
    assert pin.issuer == "other.org"


async def test_folder_without_the_domain_fails(tmp_path: Path) -> None:
    """A folder with no document for the expected domain fails, naming the missing file."""
    write(tmp_path / "other.org.json", document(Signer(), domain="other.org"))
    assert await failure(tmp_path, Signer().token()) == (
        f"no discovery document for example.com: {tmp_path / 'example.com.json'} does not exist"
    )


async def test_folder_falls_back_to_agent_identity_json(tmp_path: Path) -> None:
    """A keygen output folder (agent-identity.json only) works as a key folder."""
    signer = Signer()
    write(tmp_path / "agent-identity.json", document(signer))
    pin = await verifier_for(tmp_path).verify(signer.token(), agent_id=AGENT, domain=DOMAIN)
    assert pin.kid == "key-1"


async def test_file_changes_are_picked_up(tmp_path: Path) -> None:
    """Files are read on every verification, so a rotated key works without a restart."""
    old, new = Signer(kid="old"), Signer(kid="new")
    path = write(tmp_path / "keys.json", document(old))
    verifier = verifier_for(path)
    assert await failure(path, new.token()) == (
        "unknown kid 'new' for example.com (published keys: 'old')"
    )
    write(path, document(old, new))
    pin = await verifier.verify(new.token(), agent_id=AGENT, domain=DOMAIN)
    assert pin.kid == "new"


async def test_missing_file_fails(tmp_path: Path) -> None:
    """A path that does not exist fails with the path."""
    path = tmp_path / "nope.json"
    assert await failure(path, Signer().token()) == (
        f"no discovery document for example.com: {path} does not exist"
    )


async def test_malformed_file_fails(tmp_path: Path) -> None:
    """A file that is not a discovery document fails, naming the file."""
    path = tmp_path / "keys.json"
    path.write_text("domain = example.com\n", encoding="utf-8")
    assert (await failure(path, Signer().token())).startswith(
        f"malformed discovery document for example.com ({path}): not JSON"
    )


async def test_domain_cannot_escape_the_folder(tmp_path: Path) -> None:
    """A domain with path characters is refused before any file is opened."""
    folder = tmp_path / "keys"
    folder.mkdir()
    write(tmp_path / "secret.json", document(Signer(), domain="secret"))
    assert await failure(folder, Signer().token(), domain="../secret") == (
        "invalid domain '../secret': expected a host name such as example.com"
    )
