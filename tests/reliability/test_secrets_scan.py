"""No secret value ever leaves the place it is used: not in the API, logs, audit or database.

A daemon starts with secrets in its environment only. Jobs defined in the agents folder and
through the API name them as ``${VAR}`` templates in every secret-bearing field: webhook
headers, the webhook signing secret, a webhook URL's query, the AgentPin JWT, an agent's
``env``, the default webhook ``Authorization`` and the API keys themselves. Runs are
triggered and delivered to a live receiver, to one that repeats the credentials it was sent
in its error reply, and to a closed port, so failure messages are scanned too. Then
everything a person or a program can read is searched for every secret: each GET route of
the OpenAPI document with real ids, each dashboard page, the CLI's views, the daemon's
output, each file of the log folder, each row of each table and the raw bytes of the
database files.

The secrets must also have arrived where they belong (the receiver's headers and signature,
a verified AgentPin, the agent's environment), so the test cannot pass by never using them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import sqlite3
import sys
import textwrap
from pathlib import Path

import httpx
import pytest
from fastapi.routing import APIRoute
from typer.testing import CliRunner

from symbiont.api.routes import dashboard
from symbiont.cli.main import app as cli
from tests.reliability._attack_util import API_KEY, finished_run, receiving, running_daemon

pytestmark = pytest.mark.slow

SECRETS = {
    "HOOK_TOKEN": "hook-token-9c1e4f",
    "HOOK_CUSTOM": "custom-header-2b7d0a",
    "HOOK_SIGNING": "signing-secret-5e8f3c",
    "URL_TOKEN": "url-token-61d2b9",
    "DEFAULT_AUTH": "default-auth-8a4c7e",
    "AGENT_TOKEN": "agent-env-token-3f9b2d",
    "ALICE_KEY": "alice-api-key-7c3e1b",
}
AGENT = textwrap.dedent(
    """
    import os, sys
    sys.stdin.read()
    print("token-ok" if os.environ.get("TOKEN") == "agent-env-token-3f9b2d" else "no-token")
    """
)
"""A command agent that says whether its ``env`` secret arrived (without printing it)."""


def _pins(folder: Path) -> str:
    """A key pair and discovery document made with `symbi agentpin`; a credential for echo."""
    runner = CliRunner()
    made = runner.invoke(
        cli, ["agentpin", "keygen", "--out", str(folder), "--domain", "agents.example.com"]
    )
    assert made.exit_code == 0, made.output
    key = next(folder.glob("*.pem"))
    issued = runner.invoke(
        cli,
        [
            *("agentpin", "issue", "--key", str(key), "--agent", "echo"),
            *("--domain", "agents.example.com", "--ttl", "1h"),
        ],
    )
    assert issued.exit_code == 0, issued.output
    return issued.output.splitlines()[0].strip()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _rows(db: Path) -> list[str]:
    """Every row of every table, as text."""
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        assert {"jobs", "runs", "audit", "sessions"} <= set(tables), tables
        return [f"{t}: {row!r}" for t in tables for row in conn.execute(f"SELECT * FROM {t}")]


def test_no_secret_leaks_anywhere(tmp_path: Path) -> None:
    """Secrets reach the receiver, the AgentPin check and the agent, and appear nowhere else."""
    secrets = {**SECRETS, "PIN_JWT": _pins(tmp_path / "keys"), "SYMBI_API_KEY": API_KEY}
    agents = tmp_path / "agents"
    agents.mkdir()
    (tmp_path / "agent.py").write_text(AGENT)
    db, logs = tmp_path / "s.db", tmp_path / "logs"
    with receiving() as receiver:
        hook = f"{receiver.url}/hook"
        (agents / "jobs.symbi").write_text(
            textwrap.dedent(
                f"""
                agent echo {{ handler: "symbiont.testing.agents:echo" }}
                agent tool {{
                  command: {json.dumps(f"{sys.executable} {tmp_path / 'agent.py'}")}
                  env {{ TOKEN: "${{AGENT_TOKEN}}" }}
                }}
                schedule {{
                  name: "dsl-hook"  agent: "echo"  cron: "@yearly"
                  delivery: ["webhook", "log_file"]
                  webhook_url: "{hook}?token=${{URL_TOKEN}}"
                  webhook_headers: {{
                    "Authorization": "Bearer ${{HOOK_TOKEN}}"
                    "X-Custom": "${{HOOK_CUSTOM}}"
                  }}
                  webhook_secret: "${{HOOK_SIGNING}}"
                }}
                schedule {{
                  name: "dsl-pinned"  agent: "echo"  cron: "@yearly"
                  agent_pin_jwt: "${{PIN_JWT}}"
                  policy {{ require_agent_pin: true }}
                }}
                schedule {{ name: "dsl-tool"  agent: "tool"  cron: "@yearly" }}
                """
            )
        )
        (tmp_path / "symbi.toml").write_text(
            textwrap.dedent(
                f"""
                [api]
                keys = {{ alice = "${{ALICE_KEY}}" }}
                [scheduler.delivery]
                webhook_retry_attempts = 0
                [agentpin]
                domain = "agents.example.com"
                keys_path = "{tmp_path / "keys"}"
                """
            )
        )
        env = {
            **secrets,
            "SYMBI_WEBHOOK_AUTH_HEADER": "Bearer ${DEFAULT_AUTH}",
            "SYMBI_LOG_DIR": str(logs),
            "SYMBI_CONFIG": str(tmp_path / "symbi.toml"),
        }
        args = ("--db", str(db), "--agents-dir", str(agents))
        with running_daemon(tmp_path, *args, env=env) as (daemon, api):
            api_jobs = {
                "api-hook": {
                    "delivery": ["webhook"],
                    "webhook_url": f"{hook}?token=${{URL_TOKEN}}",
                    "webhook_headers": {
                        "Authorization": "Bearer ${HOOK_TOKEN}",
                        "X-Custom": "${HOOK_CUSTOM}",
                    },
                    "webhook_secret": "${HOOK_SIGNING}",
                },
                "api-default-auth": {"delivery": ["webhook"], "webhook_url": hook},
                "api-pinned": {
                    "agent_pin_jwt": "${PIN_JWT}",
                    "policy": {"require_agent_pin": True},
                },
                "api-echoed": {
                    "delivery": ["webhook"],
                    "webhook_url": f"{receiver.url}/echo?token=${{URL_TOKEN}}",
                    "webhook_headers": {
                        "Authorization": "Bearer ${HOOK_TOKEN}",
                        "X-Custom": "${HOOK_CUSTOM}",
                    },
                },
                "api-echoed-default": {
                    "delivery": ["webhook"],
                    "webhook_url": f"{receiver.url}/echo",
                },
                "api-dead-port": {
                    "delivery": ["webhook"],
                    "webhook_url": f"http://127.0.0.1:{_closed_port()}/x?token=${{URL_TOKEN}}",
                    "webhook_headers": {"Authorization": "Bearer ${HOOK_TOKEN}"},
                },
            }
            for name, fields in api_jobs.items():
                body = {"name": name, "agent_id": "echo", "cron_expr": "@yearly", **fields}
                created = api.post("/api/v1/schedule", json=body)
                assert created.status_code == 201, created.text
            names = [*api_jobs, "dsl-hook", "dsl-pinned", "dsl-tool"]
            runs = {
                name: finished_run(api, api.post(f"/api/v1/schedule/{name}/run").json()["id"])
                for name in names
            }
            as_alice = api.get(
                "/api/v1/schedule", headers={"Authorization": f"Bearer {SECRETS['ALICE_KEY']}"}
            )
            assert as_alice.status_code == 200
            _check_arrivals(receiver.requests, runs, secrets)
            views = _read_everything(api, runs)
            views += _cli_views(db, env)
        # the daemon has stopped: its output is complete and the WAL is checkpointed
        stores = _rows(db)
        files = {str(daemon.log_path): daemon.log_path.read_bytes(), **_files(logs)}
        files |= {str(p): p.read_bytes() for p in tmp_path.glob("s.db*") if p.is_file()}
    assert any(p.endswith("dsl-hook.log") for p in files), sorted(files)
    for name, value in secrets.items():
        if name == "PIN_JWT":
            assert value.count(".") == 2  # a real JWT: its signature part is the secret
        for where, text in views:
            assert value not in text, (name, where)
        for row in stores:
            assert value not in row, (name, row[:200])
        for path, data in files.items():
            assert value.encode() not in data, (name, path)


def _check_arrivals(
    requests: list[tuple[str, str, dict[str, str], bytes]],
    runs: dict[str, dict[str, object]],
    secrets: dict[str, str],
) -> None:
    """The secrets were used: headers, signature, URL, default auth, AgentPin, agent env."""
    for name in ("dsl-hook", "api-hook", "api-default-auth", "dsl-pinned", "api-pinned"):
        assert runs[name]["status"] == "succeeded", runs[name]
    assert "token-ok" in str(runs["dsl-tool"]["output"]), runs["dsl-tool"]
    by_run = {
        headers["idempotency-key"]: (path, headers, body) for _, path, headers, body in requests
    }
    for name in ("dsl-hook", "api-hook"):
        path, headers, body = by_run[str(runs[name]["id"])]
        assert path == f"/hook?token={secrets['URL_TOKEN']}"
        assert headers["authorization"] == f"Bearer {secrets['HOOK_TOKEN']}"
        assert headers["x-custom"] == secrets["HOOK_CUSTOM"]
        mac = hmac.new(secrets["HOOK_SIGNING"].encode(), body, hashlib.sha256).hexdigest()
        assert headers["x-symbiont-signature"] == f"sha256={mac}"
    _, headers, _ = by_run[str(runs["api-default-auth"]["id"])]
    assert headers["authorization"] == f"Bearer {secrets['DEFAULT_AUTH']}"
    for name in ("api-echoed", "api-echoed-default"):  # the reply repeated the secrets
        echoed = runs[name]["deliveries"]
        assert "HTTP 401 from" in str(echoed), echoed
        assert "invalid " in str(echoed), echoed
    dead = runs["api-dead-port"]
    assert [d["status"] for d in dead["deliveries"]] == ["failed"], dead  # type: ignore[attr-defined]
    assert "${URL_TOKEN}" in str(dead["deliveries"]), dead


def _read_everything(
    api: httpx.Client, runs: dict[str, dict[str, object]]
) -> list[tuple[str, str]]:
    """Every GET of the OpenAPI document and every dashboard page, for every job and run."""
    spec = api.get("/openapi.json").json()
    templates = [p for p, ops in spec["paths"].items() if "get" in ops]
    templates += [
        r.path for r in dashboard.router.routes if isinstance(r, APIRoute) and "GET" in r.methods
    ]
    templates += ["/metrics", "/api/v1/audit?limit=10000"]
    paths: set[str] = set()
    for template in templates:
        for run in runs.values():
            ids = {"{job_id}": run["job_id"], "{ref}": run["job_id"], "{run_id}": run["id"]}
            path = template
            for name, value in ids.items():
                path = path.replace(name, str(value))
            paths.add(path)
    seen: list[tuple[str, str]] = []
    for path in sorted(paths):
        response = api.get(path)
        assert response.status_code == 200, (path, response.text[:200])
        seen.append((path, response.text + json.dumps(dict(response.headers))))
    assert len(seen) > 50, seen
    return seen


def _cli_views(db: Path, env: dict[str, str]) -> list[tuple[str, str]]:
    """What the CLI prints: the configuration, the job list, each job, the audit log."""
    runner = CliRunner()
    views = []
    for args in (
        ["config", "show"],
        ["cron", "list", "--db", str(db), "--format", "json"],
        ["cron", "status", "api-hook", "--db", str(db), "--history", "5", "--format", "json"],
        ["cron", "status", "dsl-hook", "--db", str(db), "--history", "5", "--format", "json"],
        ["audit", "query", "--db", str(db), "--limit", "10000", "--format", "json"],
    ):
        result = runner.invoke(cli, args, env=env)
        assert result.exit_code == 0, (args, result.output)
        views.append((" ".join(args), result.output))
    return views
