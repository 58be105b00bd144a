"""Policy, AgentPin and delivery end to end through `symbi up`.

One daemon, one agents folder: schedules fire and a real webhook receiver, a real SMTP
server (aiosmtpd) and the log folder receive their runs; AgentPin credentials made with
`symbi agentpin` pass or deny; a run needing approval waits until the CLI approves it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import sqlite3
import textwrap
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from typer.testing import CliRunner

from symbiont.cli.main import app
from tests.integration.daemon_util import DaemonProcess

SECRETS = {
    "HOOK_TOKEN": "hook-token-s3cr3t",
    "HOOK_SECRET": "signing-s3cr3t",
}


class Receiver(ThreadingHTTPServer):
    """An HTTP server on 127.0.0.1 that records every POST."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        assert isinstance(self.server, Receiver)
        self.server.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        return


class Mailbox:
    """aiosmtpd handler that keeps every message."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        """Store the message."""
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A live webhook receiver."""
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    """A live SMTP server on a free port."""
    box = Mailbox()
    with socket.socket() as probe:  # aiosmtpd's Controller cannot start on port 0
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


def _until(check: Any, deadline_s: float = 40) -> Any:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def _runs(db: Path) -> dict[str, dict[str, Any]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT job_name, id, status, error_message, deliveries FROM runs"
            " ORDER BY scheduled_for"
        ).fetchall()
    return {name: {"id": i, "status": s, "error": e, "deliveries": d} for name, i, s, e, d in rows}


def _keys(folder: Path) -> tuple[str, str]:
    """A P-256 key and discovery document made with `symbi agentpin`; a good and a bad token."""
    runner = CliRunner()
    made = runner.invoke(
        app, ["agentpin", "keygen", "--out", str(folder), "--domain", "agents.example.com"]
    )
    assert made.exit_code == 0, made.output
    key = next(folder.glob("*.pem"))
    good = runner.invoke(
        app,
        [
            "agentpin",
            "issue",
            "--key",
            str(key),
            "--agent",
            "echo",
            "--domain",
            "agents.example.com",
            "--ttl",
            "1h",
        ],
    )
    wrong = runner.invoke(
        app,
        [
            "agentpin",
            "issue",
            "--key",
            str(key),
            "--agent",
            "someone-else",
            "--domain",
            "agents.example.com",
            "--ttl",
            "1h",
        ],
    )
    assert good.exit_code == 0, good.output
    return good.output.splitlines()[0].strip(), wrong.output.splitlines()[0].strip()


def test_policy_agentpin_and_delivery_through_the_daemon(
    tmp_path: Path, receiver: Receiver, mailbox: tuple[Mailbox, int]
) -> None:
    """Every channel receives its run, AgentPin passes or denies, approval holds a run."""
    box, smtp_port = mailbox
    good_pin, wrong_pin = _keys(tmp_path / "keys")
    hook = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    at = (datetime.now(UTC) + timedelta(seconds=3)).replace(microsecond=0).isoformat()
    closed = (datetime.now(UTC) + timedelta(hours=12)).strftime("%H:00")
    agents = tmp_path / "agents"
    agents.mkdir()
    (agents / "e2e.symbi").write_text(
        textwrap.dedent(
            f"""
            agent echo {{ handler: "symbiont.testing.agents:echo" }}

            schedule {{
              name: "delivered"
              agent: "echo"
              at: "{at}"
              delivery: ["webhook", "log_file", "email"]
              webhook_url: "{hook}"
              webhook_headers: {{ "Authorization": "Bearer ${{HOOK_TOKEN}}" }}
              webhook_secret: "${{HOOK_SECRET}}"
              email_recipients: ["ops@example.com"]
            }}
            schedule {{
              name: "pinned-ok"  agent: "echo"  at: "{at}"
              agent_pin_jwt: "${{PIN_OK}}"
              policy {{ require_agent_pin: true }}
            }}
            schedule {{
              name: "pinned-wrong"  agent: "echo"  at: "{at}"
              agent_pin_jwt: "${{PIN_WRONG}}"
              policy {{ require_agent_pin: true }}
            }}
            schedule {{
              name: "gated"  agent: "echo"  at: "{at}"
              policy {{ require_approval: true  approvers: ["alice"] }}
            }}
            schedule {{
              name: "closed-window"  agent: "echo"  at: "{at}"
              policy {{ allowed_hours: {{ start: "{closed}" end: "{closed[:2]}:30" }} }}
            }}
            """
        )
    )
    (tmp_path / "symbi.toml").write_text(
        textwrap.dedent(
            f"""
            [scheduler.delivery]
            smtp_host = "127.0.0.1"
            smtp_port = {smtp_port}
            smtp_tls = "none"
            email_from = "symbiont@example.com"

            [agentpin]
            domain = "agents.example.com"
            keys_path = "{tmp_path / "keys"}"
            """
        )
    )
    db = tmp_path / "e2e.db"
    env = {**SECRETS, "PIN_OK": good_pin, "PIN_WRONG": wrong_pin}
    daemon = DaemonProcess(tmp_path, "--db", str(db), "--agents-dir", str(agents), env=env)
    try:
        daemon.wait_ready()
        runs = _until(
            lambda: (
                (r := _runs(db))
                and all(
                    r.get(n, {}).get("status") not in (None, "queued", "running")
                    for n in ("delivered", "pinned-ok", "pinned-wrong", "gated", "closed-window")
                )
                and r
            )
        )
        assert runs["pinned-ok"]["status"] == "succeeded"
        assert runs["pinned-wrong"]["status"] == "denied"
        assert "AgentPin verification failed" in runs["pinned-wrong"]["error"]
        assert runs["closed-window"]["status"] == "denied"
        assert "outside allowed_hours" in runs["closed-window"]["error"]
        assert runs["gated"]["status"] == "pending_approval"
        approve = CliRunner().invoke(
            app,
            ["cron", "approve", runs["gated"]["id"], "--db", str(db)],
            env={"SYMBI_ACTOR": "alice"},
        )
        assert approve.exit_code == 0, approve.output
        _until(lambda: _runs(db)["gated"]["status"] == "succeeded")
        _check_deliveries(tmp_path, db, receiver, box)
    finally:
        assert daemon.stop() == 0


def _check_deliveries(tmp_path: Path, db: Path, receiver: Receiver, box: Mailbox) -> None:
    run = _until(lambda: (r := _runs(db)["delivered"])["status"] == "succeeded" and r)
    results = {d["channel"]: d["status"] for d in json.loads(run["deliveries"])}
    assert results == {"webhook": "delivered", "log_file": "delivered", "email": "delivered"}
    headers, body = receiver.requests[0]
    assert headers["authorization"] == "Bearer hook-token-s3cr3t"
    assert headers["idempotency-key"] == run["id"]
    expected = hmac.new(b"signing-s3cr3t", body, hashlib.sha256).hexdigest()
    assert headers["x-symbiont-signature"] == f"sha256={expected}"
    assert json.loads(body)["run"]["id"] == run["id"]
    recipients, message = box.messages[0]
    assert recipients == ["ops@example.com"]
    assert "delivered" in message["Subject"]
    lines = (tmp_path / "logs" / "delivered.log").read_text().splitlines()
    assert json.loads(lines[-1])["run_id"] == run["id"]
    stored = db.read_bytes() + b"".join(p.read_bytes() for p in (tmp_path / "logs").glob("*"))
    for secret in SECRETS.values():
        assert secret.encode() not in stored
