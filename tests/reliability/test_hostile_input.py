"""Hostile input through the real daemon, the API and the CLI.

Job names built to escape folders or fool terminals are refused with a 422 (API) or a
one-line error (CLI) naming the problem, or accepted with every file they lead to inside its
folder. Shell syntax given as a run's input never reaches a shell: the agent receives it
byte for byte and the marker file it tries to create never appears. Bodies over the limit
are refused with a JSON 413, chunked ones included. The webhook allow-list refuses other
hosts at delivery time without sending anything; an empty list allows any host. NUL, which
PostgreSQL cannot store, is refused up front on every store.
"""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from symbiont.api import AppState, create_app
from symbiont.cli.main import app as cli
from symbiont.core.clock import SystemClock
from symbiont.delivery import DefaultDeliveryRouter, DeliverySettings, WebhookChannel
from symbiont.service import JobService
from symbiont.store import open_store
from tests.integration.daemon_util import DaemonProcess
from tests.reliability._attack_util import (
    API_KEY,
    Receiver,
    finished_run,
    receiving,
    running_daemon,
    until,
)
from tests.unit.delivery.helpers import make_job, make_run

MAX_BODY = 16384
JSON = {"content-type": "application/json"}
MIRROR = textwrap.dedent(
    """
    import json, os, sys
    data = sys.stdin.read()
    print(json.dumps({"stdin": data, "env": os.environ.get("SYMBI_INPUT")}))
    """
)
"""A command agent that answers with exactly what it received, on stdin and in its env."""

REFUSED_NAMES = {
    "../escape": "slash",
    "..\\escape": "backslash",
    "a/../../b": "slashes",
    "a\x00b": "NUL",
    "a\nb": "line break",
    "trailing\n": "final line break",
    "tab\there": "tab",
    "bell\x07": "control character",
    "\x1b[31mred": "terminal escape",
    "x" * 10_000: "10,000 characters",
    "x" * 129: "129 characters",
    "\u202eexe.txt": "RTL override",
    "e\u0301": "combining mark",
    "a\uff0fb": "fullwidth solidus",
    "rocket-\U0001f680": "emoji",
    ".hidden": "leading dot",
    "-flag": "leading dash",
    "": "empty",
}
"""Names that must be refused, and what is wrong with each."""
ACCEPTED_NAMES = ["CON", "NUL.txt", "a..b", "x" * 128, "v1.2_final-3"]
"""Odd but valid names: their files must stay inside the log folder."""
SHELL_INPUTS = [
    "$(touch {marker}) `touch {marker}`",
    "; touch {marker} && touch {marker} | touch {marker} > {marker}",
    "x\ntouch {marker}\n'; touch {marker}; echo '\"; touch {marker}; echo \"",
    "${{HOME}} $HOME ~ * ? %s %n \\ \x1b[31m \u202e",
]
"""Shell syntax that would create the marker file if any shell ever saw it."""


class Hostile:
    """The live daemon of this module and what it was started with."""

    def __init__(self, root: Path, daemon: DaemonProcess, api: httpx.Client, hook: Receiver):
        self.root = root
        self.daemon = daemon
        self.api = api
        self.hook = hook
        self.logs = root / "logs"
        self.db = root / "s.db"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    """One daemon with a mirror agent, a small body limit and a webhook allow-list."""
    root = tmp_path_factory.mktemp("hostile")
    (root / "mirror.py").write_text(MIRROR)
    agents = root / "agents"
    agents.mkdir()
    (agents / "agents.symbi").write_text(
        textwrap.dedent(
            f"""
            agent echo {{ handler: "symbiont.testing.agents:echo" }}
            agent mirror {{ command: {json.dumps(f"{sys.executable} {root / 'mirror.py'}")} }}
            schedule {{ name: "mirror"  agent: "mirror"  cron: "@yearly" }}
            """
        )
    )
    (root / "symbi.toml").write_text(
        textwrap.dedent(
            f"""
            [api]
            max_body_bytes = {MAX_BODY}
            [scheduler.delivery]
            webhook_allowed_hosts = ["127.0.0.1", "*.hooks.example"]
            webhook_retry_attempts = 0
            """
        )
    )
    env = {"SYMBI_LOG_DIR": str(root / "logs"), "SYMBI_CONFIG": str(root / "symbi.toml")}
    args = ("--db", str(root / "s.db"), "--agents-dir", str(agents))
    with receiving() as hook, running_daemon(root, *args, env=env) as (daemon, api):
        yield Hostile(root, daemon, api, hook)
    assert "Traceback" not in daemon.log_path.read_text()


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def _definition(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "agent_id": "echo", "cron_expr": "@yearly", **fields}


def test_hostile_names_are_refused_naming_the_problem(hostile: Hostile) -> None:
    """Each bad name: API 422 on the name field; CLI exit 2 with one short line; nothing made."""
    for name, why in REFUSED_NAMES.items():
        response = hostile.api.post("/api/v1/schedule", json=_definition(name))
        assert response.status_code == 422, (why, response.text[:200])
        error = response.json()
        assert error["code"] == "INVALID"
        assert [d["field"] for d in error["details"]] == ["name"], (why, error)
        code, output = _cli(
            "cron", "add", "--db", str(hostile.db), "--json", json.dumps(_definition(name))
        )
        assert code == 2, (why, output)
        line = output.strip()
        assert "\n" not in line, (why, line)
        assert line.startswith("symbi: invalid job definition: name: "), (why, line)
        assert "is not a valid job name" in line or "is required" in line, (why, line)
        assert len(line) < 300, (why, len(line))
    listed = hostile.api.get("/api/v1/schedule", params={"limit": 1000}).json()
    assert {job["name"] for job in listed} <= {"mirror", *ACCEPTED_NAMES, "allowed", "refused"}


def test_odd_valid_names_keep_their_files_inside_the_log_folder(hostile: Hostile) -> None:
    """CON, NUL.txt, a..b and 128 characters run and deliver to files directly in the folder."""
    for index, name in enumerate(ACCEPTED_NAMES):
        definition = json.dumps(_definition(name, delivery=["log_file"]))
        if index % 2:
            code, output = _cli("cron", "add", "--db", str(hostile.db), "--json", definition)
            assert code == 0, output
        else:
            created = hostile.api.post("/api/v1/schedule", content=definition, headers=JSON)
            assert created.status_code == 201, created.text
        run = hostile.api.post(f"/api/v1/schedule/{name}/run", params={"wait": "true"}).json()
        assert run["status"] == "succeeded", run
        assert [d["status"] for d in run["deliveries"]] == ["delivered"], run
    folder = hostile.logs.resolve()
    entries = list(hostile.logs.rglob("*"))
    assert all(p.is_file() and p.resolve().parent == folder for p in entries), entries
    outside = {p.name for p in hostile.root.iterdir()}
    assert not {n for n in outside if n.startswith(("CON", "NUL", "a..b", "x"))}, outside
    written = {p.name for p in entries}
    assert {"CON.log", "NUL.txt.log", "a..b.log", "v1.2_final-3.log"} <= written, written
    assert any(n.startswith("x" * 50) and len(n) <= 110 for n in written), written


def test_shell_syntax_in_input_reaches_the_agent_literally(hostile: Hostile) -> None:
    """Through the API, `symbi cron run` and `symbi run`: stdin and SYMBI_INPUT are the input."""
    marker = hostile.root / "pwned"
    inputs = [text.format(marker=marker) for text in SHELL_INPUTS]
    received: list[dict[str, str]] = []
    for text in inputs:
        run = hostile.api.post(
            "/api/v1/schedule/mirror/run", params={"wait": "true"}, json={"input": text}
        ).json()
        assert run["status"] == "succeeded", run
        received.append(json.loads(run["output"]))
        code, output = _cli(
            "cron",
            "run",
            "mirror",
            "--input",
            text,
            "--url",
            hostile.daemon.url,
            "--api-key",
            API_KEY,
        )
        assert code == 0, output
        run_id = output.split()[2]  # "queued run <id> of mirror"
        received.append(json.loads(str(finished_run(hostile.api, run_id)["output"])))
        agents = str(hostile.root / "agents" / "agents.symbi")
        code, output = _cli("run", "mirror", "--input", text, "--file", agents)
        assert code == 0, output
        received.append(json.loads(output))
    expected = [{"stdin": text, "env": text} for text in inputs for _ in range(3)]
    assert received == expected
    assert not marker.exists()
    assert not (hostile.root / "agents" / "pwned").exists()


def test_bodies_over_the_limit_get_a_json_413(hostile: Hostile) -> None:
    """Declared or chunked, a body over max_body_bytes is refused with JSON; the API goes on."""
    big = json.dumps(_definition("big", input="y" * (MAX_BODY * 4))).encode()
    declared = hostile.api.post("/api/v1/schedule", content=big, headers=JSON)

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(big), 1000):
            yield big[start : start + 1000]

    chunked = hostile.api.post("/api/v1/schedule", content=chunks(), headers=JSON)
    assert "content-length" not in chunked.request.headers
    assert chunked.request.headers["transfer-encoding"] == "chunked"
    for response in (declared, chunked):
        assert response.status_code == 413, response.text
        assert response.json() == {
            "error": f"request body is larger than {MAX_BODY} bytes",
            "code": "TOO_LARGE",
            "details": None,
        }
    small = hostile.api.post(
        "/api/v1/schedule/mirror/run", content=b'{"input": "ok"}', headers=JSON
    )
    assert small.status_code == 202, small.text
    assert hostile.api.get("/api/v1/schedule/big").status_code == 404


def test_the_allow_list_refuses_other_hosts_without_sending(hostile: Hostile) -> None:
    """Localhost is not on the list: refused, and the receiver (same socket) gets nothing."""
    port = hostile.hook.server_address[1]
    for name, host in (("refused", "localhost"), ("allowed", "127.0.0.1")):
        fields = {"delivery": ["webhook"], "webhook_url": f"http://{host}:{port}/{name}"}
        created = hostile.api.post("/api/v1/schedule", json=_definition(name, **fields))
        assert created.status_code == 201, created.text
    refused = hostile.api.post("/api/v1/schedule/refused/run", params={"wait": "true"}).json()
    allowed = hostile.api.post("/api/v1/schedule/allowed/run", params={"wait": "true"}).json()
    until(lambda: hostile.hook.requests, what="the allowed delivery")
    assert [path for _, path, _, _ in hostile.hook.requests] == ["/allowed"]
    assert allowed["deliveries"][0]["status"] == "delivered", allowed
    delivery = refused["deliveries"][0]
    assert (delivery["status"], delivery["attempts"]) == ("failed", 1), delivery
    assert delivery["error"] == (
        "host 'localhost' is not in [scheduler.delivery] webhook_allowed_hosts "
        "(127.0.0.1, *.hooks.example); add it there or change the job's webhook_url"
    )


@pytest.mark.anyio
async def test_an_empty_allow_list_allows_any_host() -> None:
    """Without an allow-list a host name (here localhost) is delivered to like an address."""
    settings = DeliverySettings()
    assert settings.webhook.allowed_hosts == ()
    router = DefaultDeliveryRouter({"webhook": WebhookChannel(settings)}, settings)
    with receiving() as server:
        url = f"http://localhost:{server.server_address[1]}/any"
        job = make_job(delivery=("webhook",), webhook_url=url)
        result = await router.route("webhook", job, make_run(), "out")
        assert result.status == "delivered", result.error
        assert [path for _, path, _, _ in server.requests] == ["/any"]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def api(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process API (no key) over an empty store of each kind."""
    if request.param == "sqlite":
        url = str(tmp_path / "s.db")
    else:
        url = str(request.getfixturevalue("postgres_schema_url"))
    async with open_store(url) as store:
        app = create_app(AppState(service=JobService(store, SystemClock())))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


@pytest.mark.anyio
async def test_nul_and_bad_text_are_refused_on_every_store(api: httpx.AsyncClient) -> None:
    """NUL, unpaired surrogates, header injection, huge offsets: 4xx on SQLite and PostgreSQL."""
    await api.post("/api/v1/schedule", json=_definition("ok"))
    bodies = [
        _definition("a", description="a\x00b"),
        _definition("b", agent_id="x\x00"),
        _definition("c", input="\ud800"),
        _definition("d", webhook_headers={"X-A": "v\r\nInjected: 1"}),
        _definition("e", webhook_headers={"X-A\r\nInjected": "v"}),
        _definition("f", delivery=["email"], email_recipients=["ops@example.com\n"]),
        _definition("g", retry_delay=1e300),
        _definition("h", policy={"max_runtime": "999999999d"}),
    ]
    for body in bodies:
        response = await api.post(
            "/api/v1/schedule",
            content=json.dumps(body),  # keeps "\ud800" an escape, as a client may send it
            headers=JSON,
        )
        assert response.status_code == 422, (body["name"], response.text)
    for path in (
        "/api/v1/schedule/%00",
        "/api/v1/schedule?agent_id=%00",
        "/api/v1/runs/a%00b",
        "/api/v1/audit?job_id=%00",
        "/jobs/%00",
    ):
        response = await api.get(path)
        assert response.status_code == 400, (path, response.text)
        assert response.json()["code"] == "INVALID"
    run = await api.post("/api/v1/schedule/ok/run", json={"input": "a\x00b"})
    assert run.status_code == 422, run.text
    for path in (
        f"/api/v1/schedule?offset={2**63}",
        f"/api/v1/audit?after_id={10**30}",
        f"/audit?after={10**30}",
        f"/jobs/ok?page={10**30}",
    ):
        response = await api.get(path)
        assert response.status_code in {200, 422}, (path, response.text)
