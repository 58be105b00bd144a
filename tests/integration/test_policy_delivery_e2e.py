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
    "SLACK_TOKEN": "slack-t0ken",
}


class Receiver(ThreadingHTTPServer):
    """An HTTP server on 127.0.0.1 that records every POST and answers *reply* (JSON)."""

    def __init__(self, reply: bytes | None = None) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.reply = reply
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        assert isinstance(self.server, Receiver)
        self.server.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
        if self.server.reply is None:
            self.send_response(204)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.server.reply)))
        self.end_headers()
        self.wfile.write(self.server.reply)

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


def _serve(server: Receiver) -> Iterator[Receiver]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A live webhook receiver."""
    yield from _serve(Receiver())


@pytest.fixture
def slack() -> Iterator[Receiver]:
    """A live server speaking Slack's chat.postMessage (answers ok)."""
    yield from _serve(Receiver(reply=b'{"ok": true, "channel": "C1", "ts": "1.2"}'))


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
    tmp_path: Path, receiver: Receiver, slack: Receiver, mailbox: tuple[Mailbox, int]
) -> None:
    """Every channel receives its run, each condition denies or holds, AgentPin passes or denies."""
    box, smtp_port = mailbox
    good_pin, wrong_pin = _keys(tmp_path / "keys")
    hook = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    # far enough ahead that a slow start on a busy machine still loads them as future runs
    at = (datetime.now(UTC) + timedelta(seconds=6)).replace(microsecond=0).isoformat()
    closed = (datetime.now(UTC) + timedelta(hours=12)).strftime("%H:00")
    agents = tmp_path / "agents"
    agents.mkdir()
    (agents / "e2e.symbi").write_text(
        textwrap.dedent(
            f"""
            agent echo {{ handler: "symbiont.testing.agents:echo" }}
            agent slow {{ handler: "symbiont.testing.agents:slow" }}

            schedule {{
              name: "chatty"
              agent: "echo"
              at: "{at}"
              delivery: ["stdout", "slack", "custom:recorder"]
              slack_channel: "#ops"
            }}
            schedule {{
              name: "prod-only"  agent: "echo"  at: "{at}"
              policy {{ allowed_environments: ["production"] }}
            }}
            schedule {{
              name: "needs-caps"  agent: "echo"  at: "{at}"
              policy {{ require_capabilities: ["deployment"] }}
            }}
            schedule {{
              name: "too-slow"  agent: "slow"  at: "{at}"
              policy {{ max_runtime: "1s" }}
            }}

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
            slack_api_token = "${{SLACK_TOKEN}}"
            slack_api_url = "http://127.0.0.1:{slack.server_address[1]}/api"

            [scheduler.delivery.custom_channels]
            recorder = "symbiont.testing.channels:RecordingChannel"

            [agentpin]
            domain = "agents.example.com"
            keys_path = "{tmp_path / "keys"}"
            """
        )
    )
    db = tmp_path / "e2e.db"
    env = {
        **SECRETS,
        "PIN_OK": good_pin,
        "PIN_WRONG": wrong_pin,
        "SYMBI_ENV": "staging",
        "SYMBI_RECORDING_FILE": str(tmp_path / "recorded.jsonl"),
    }
    daemon = DaemonProcess(tmp_path, "--db", str(db), "--agents-dir", str(agents), env=env)
    try:
        daemon.wait_ready()
        runs = _until(
            lambda: (
                (r := _runs(db))
                and all(
                    r.get(n, {}).get("status") not in (None, "queued", "running")
                    for n in (*_EXPECTED, "gated")
                )
                and r
            )
        )
        for name, (status, reason) in _EXPECTED.items():
            assert runs[name]["status"] == status, (name, runs[name])
            assert reason in (runs[name]["error"] or ""), (name, runs[name])
        assert runs["gated"]["status"] == "pending_approval"
        approve = CliRunner().invoke(
            app,
            ["cron", "approve", runs["gated"]["id"], "--db", str(db)],
            env={"SYMBI_ACTOR": "alice"},
        )
        assert approve.exit_code == 0, approve.output
        _until(lambda: _runs(db)["gated"]["status"] == "succeeded")
        _check_deliveries(tmp_path, db, receiver, box)
        _check_chatty(tmp_path, db, slack, daemon)
    finally:
        assert daemon.stop() == 0


_EXPECTED = {
    "delivered": ("succeeded", ""),
    "chatty": ("succeeded", ""),
    "pinned-ok": ("succeeded", ""),
    "pinned-wrong": ("denied", "AgentPin verification failed: "),
    "closed-window": ("denied", "outside allowed_hours"),
    "prod-only": ("denied", "environment 'staging' is not in allowed_environments"),
    "needs-caps": ("denied", "lacks required capabilities ['deployment']"),
    "too-slow": ("timed_out", "max_runtime"),
}


def _check_chatty(tmp_path: Path, db: Path, slack: Receiver, daemon: DaemonProcess) -> None:
    run = _runs(db)["chatty"]
    results = {d["channel"]: d["status"] for d in json.loads(run["deliveries"])}
    assert results == {"stdout": "delivered", "slack": "delivered", "custom:recorder": "delivered"}
    headers, body = slack.requests[0]
    assert headers["authorization"] == "Bearer slack-t0ken"
    assert json.loads(body)["channel"] == "#ops"
    recorded = [json.loads(line) for line in (tmp_path / "recorded.jsonl").read_text().splitlines()]
    assert [r["run_id"] for r in recorded] == [run["id"]]
    assert run["id"] in daemon.log_path.read_text()  # the stdout channel printed the run


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
