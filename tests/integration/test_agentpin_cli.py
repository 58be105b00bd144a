"""``symbi agentpin keygen | issue | verify``: a user sets up AgentPin with no other tool."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from typer.testing import CliRunner, Result

from symbiont.cli.main import app
from tests.unit.policy.agentpin_helpers import b64, discovery_server


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A runner in an empty folder, with no symbi.toml and no SYMBI_* AgentPin variables."""
    monkeypatch.chdir(tmp_path)
    for name in ("SYMBI_CONFIG", "SYMBI_AGENTPIN_DOMAIN", "SYMBI_AGENTPIN_REQUIRED"):
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


def run(runner: CliRunner, *args: str, stdin: str | None = None) -> Result:
    """Invoke ``symbi agentpin ARGS``."""
    return runner.invoke(app, ["agentpin", *args], input=stdin)


def keygen(runner: CliRunner, *args: str) -> Result:
    """``keygen --out keys --domain example.com ARGS``, which must succeed."""
    result = run(runner, "keygen", "--out", "keys", "--domain", "example.com", *args)
    assert result.exit_code == 0, result.output
    return result


def issue(runner: CliRunner, *args: str, key: str = "keys/k1.pem") -> str:
    """``issue --key KEY --agent reporter --domain example.com ARGS``; return the token."""
    result = run(
        runner, "issue", "--key", key, "--agent", "reporter", "--domain", "example.com", *args
    )
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def verify(runner: CliRunner, token: str, *args: str, agent: str = "reporter") -> Result:
    """``verify TOKEN --agent AGENT --domain example.com --keys keys ARGS``."""
    return run(
        runner,
        "verify",
        token,
        "--agent",
        agent,
        "--domain",
        "example.com",
        "--keys",
        "keys",
        *args,
    )


def test_keygen_issue_verify_round_trip(runner: CliRunner, tmp_path: Path) -> None:
    """Keygen writes a 0600 key and the document; issue's credential verifies against it."""
    result = keygen(runner, "--kid", "k1")
    key_path, document_path = tmp_path / "keys/k1.pem", tmp_path / "keys/agent-identity.json"
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert "https://example.com/.well-known/agent-identity.json" in result.stdout
    assert str(Path("keys/k1.pem")) in result.stdout
    published = json.loads(document_path.read_text(encoding="utf-8"))
    assert published["domain"] == "example.com"
    assert [(k["kid"], k["kty"], k["crv"], k["alg"]) for k in published["keys"]] == [
        ("k1", "EC", "P-256", "ES256")
    ]
    token = issue(runner)
    verified = verify(runner, token)
    assert verified.exit_code == 0, verified.output
    assert verified.stdout.splitlines()[0] == "verified: agent 'reporter' of example.com (kid 'k1')"


def test_verify_json_prints_the_claims(runner: CliRunner) -> None:
    """``--json`` prints the verified claims, with iss, sub and a one-hour lifetime."""
    keygen(runner, "--kid", "k1")
    result = verify(runner, issue(runner, "--ttl", "1h"), "--json")
    assert result.exit_code == 0, result.output
    claims = json.loads(result.stdout)
    assert (claims["iss"], claims["sub"]) == ("example.com", "reporter")
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["nbf"] == claims["iat"]


def test_issued_token_has_the_agentpin_header(runner: CliRunner) -> None:
    """The credential's header is ES256, names the kid and the AgentPin type."""
    keygen(runner, "--kid", "k1")
    header = issue(runner).split(".")[0]
    decoded = json.loads(_unb64(header))
    assert decoded == {"alg": "ES256", "kid": "k1", "typ": "agentpin-credential+jwt"}


def test_verify_failure_prints_the_reason_and_exits_1(runner: CliRunner) -> None:
    """A credential for another agent fails with one line on stderr and exit 1."""
    keygen(runner, "--kid", "k1")
    result = verify(runner, issue(runner), agent="intruder")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "symbi: AgentPin verification failed: wrong subject: expected agent 'intruder', "
        "got 'reporter'\n"
    )


def test_tampered_token_fails(runner: CliRunner) -> None:
    """A credential whose claims were edited fails its signature check."""
    keygen(runner, "--kid", "k1")
    header, payload, signature = issue(runner).split(".")
    claims = json.loads(_unb64(payload)) | {"exp": 4_102_444_800}
    result = verify(runner, f"{header}.{b64(claims)}.{signature}")
    assert result.exit_code == 1
    assert "bad signature" in result.stderr


def test_verify_reads_the_token_from_stdin(runner: CliRunner) -> None:
    """``-`` reads the credential from stdin, keeping it out of the shell history."""
    keygen(runner, "--kid", "k1")
    token = issue(runner)
    result = run(
        runner,
        *("verify", "-", "--agent", "reporter", "--domain", "example.com", "--keys", "keys"),
        stdin=token + "\n",
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("verified: agent 'reporter'")


def test_second_keygen_adds_a_key_for_rotation(runner: CliRunner, tmp_path: Path) -> None:
    """A second keygen in the folder adds its key, so credentials of both keys verify."""
    first = keygen(runner)
    second = keygen(runner)
    document = json.loads((tmp_path / "keys/agent-identity.json").read_text(encoding="utf-8"))
    kids = [entry["kid"] for entry in document["keys"]]
    assert len(kids) == 2
    assert all(len(kid) == 16 and int(kid, 16) >= 0 for kid in kids)
    assert f"keys/{kids[0]}.pem" in first.stdout
    assert f"keys/{kids[1]}.pem" in second.stdout
    for kid in kids:
        token = issue(runner, key=f"keys/{kid}.pem")
        assert verify(runner, token).exit_code == 0


def test_keygen_refuses_a_kid_already_published(runner: CliRunner) -> None:
    """Keygen will not publish two keys under one kid."""
    keygen(runner, "--kid", "k1")
    result = run(runner, "keygen", "--out", "keys", "--domain", "example.com", "--kid", "k1")
    assert result.exit_code == 2
    assert "already publishes kid 'k1'; pick another --kid" in result.stderr


def test_keygen_refuses_a_document_of_another_domain(runner: CliRunner) -> None:
    """Keygen will not add a key for one domain to another domain's document."""
    keygen(runner, "--kid", "k1")
    result = run(runner, "keygen", "--out", "keys", "--domain", "other.org")
    assert result.exit_code == 1
    assert "is for 'example.com', not other.org; choose another --out" in result.stderr


def test_keygen_refuses_a_bad_kid(runner: CliRunner) -> None:
    """A kid that cannot be a file name is refused."""
    result = run(runner, "keygen", "--domain", "example.com", "--kid", "../k")
    assert result.exit_code == 2
    assert "--kid must be 1-64 letters" in result.stderr


def test_keygen_needs_a_domain(runner: CliRunner) -> None:
    """Without --domain or [agentpin] domain, keygen exits 2 and says what to pass."""
    result = run(runner, "keygen")
    assert result.exit_code == 2
    assert result.stderr == "symbi: no domain: pass --domain or set [agentpin] domain\n"


def test_keygen_takes_the_domain_from_the_config(runner: CliRunner, tmp_path: Path) -> None:
    """``[agentpin] domain`` in symbi.toml is keygen's default domain."""
    (tmp_path / "symbi.toml").write_text('[agentpin]\ndomain = "example.com"\n', encoding="utf-8")
    result = run(runner, "keygen", "--out", "keys", "--kid", "k1")
    assert result.exit_code == 0, result.output
    assert "https://example.com/.well-known/agent-identity.json" in result.stdout


def test_issue_without_document_needs_kid(runner: CliRunner, tmp_path: Path) -> None:
    """A key without its document beside it needs --kid; with it, issue works."""
    keygen(runner, "--kid", "k1")
    (tmp_path / "keys/agent-identity.json").rename(tmp_path / "published.json")
    result = run(runner, "issue", "--key", "keys/k1.pem", "--agent", "a", "--domain", "example.com")
    assert result.exit_code == 2
    assert result.stderr.startswith("symbi: cannot tell the key's kid: no readable ")
    assert result.stderr.endswith("; pass --kid\n")
    token = issue(runner, "--kid", "k1")
    assert verify(runner, token, "--keys", "published.json").exit_code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--key", "missing.pem"], "cannot read --key missing.pem"),
        (["--key", "keys/k1.pem", "--ttl", "soon"], "--ttl: invalid duration 'soon'"),
        (["--key", "keys/k1.pem", "--ttl", "0s"], "--ttl must be longer than 0s"),
        (["--key", "keys/agent-identity.json"], "is not a PEM private key"),
        (["--key", "rsa.pem"], "--key rsa.pem is not a P-256 (ES256) key"),
        (["--key", "p384.pem"], "--key p384.pem is not a P-256 (ES256) key"),
    ],
)
def test_issue_usage_errors_exit_2(
    runner: CliRunner, tmp_path: Path, args: list[str], message: str
) -> None:
    """Bad keys and lifetimes are usage errors: one line on stderr, exit 2."""
    keygen(runner, "--kid", "k1")
    for name, key in (
        ("rsa.pem", rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        ("p384.pem", ec.generate_private_key(ec.SECP384R1())),
    ):
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        (tmp_path / name).write_bytes(pem)
    result = run(runner, "issue", *args, "--agent", "a", "--domain", "example.com")
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_audience_restricted_credential(runner: CliRunner) -> None:
    """A credential for one audience verifies only where that audience is required."""
    keygen(runner, "--kid", "k1")
    token = issue(runner, "--audience", "scheduler.example.net")
    refused = verify(runner, token)
    assert refused.exit_code == 1
    assert "restricted to audience ['scheduler.example.net']" in refused.stderr
    assert verify(runner, token, "--audience", "scheduler.example.net").exit_code == 0


def test_verify_needs_a_domain(runner: CliRunner) -> None:
    """Without --domain or [agentpin] domain, verify exits 2."""
    result = run(runner, "verify", "x.y.z", "--agent", "a")
    assert result.exit_code == 2
    assert result.stderr == "symbi: no expected domain: pass --domain or set [agentpin] domain\n"


def test_verify_uses_the_configured_discovery_url(runner: CliRunner, tmp_path: Path) -> None:
    """With no --keys, keys are fetched from ``[agentpin] discovery_url`` over HTTP."""
    keygen(runner, "--kid", "k1")
    token = issue(runner)
    with discovery_server() as server:
        server.publish(server.path(), (tmp_path / "keys/agent-identity.json").read_bytes())
        (tmp_path / "symbi.toml").write_text(
            f'[agentpin]\ndomain = "example.com"\ndiscovery_url = "{server.template()}"\n',
            encoding="utf-8",
        )
        result = run(runner, "verify", token, "--agent", "reporter")
    assert result.exit_code == 0, result.output
    assert server.requests == [server.path()]


def test_verify_reports_a_bad_config(runner: CliRunner, tmp_path: Path) -> None:
    """A bad ``[agentpin]`` value is a usage error naming the key."""
    (tmp_path / "symbi.toml").write_text(
        '[agentpin]\ndiscovery_url = "ftp://x/{domain}"\n', encoding="utf-8"
    )
    result = run(runner, "verify", "x.y.z", "--agent", "a", "--domain", "example.com")
    assert result.exit_code == 2
    assert "agentpin.discovery_url" in result.stderr


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
