"""Schemathesis against a live daemon: no 5xx, every response as the OpenAPI document says.

A real `symbi up` with an API key and a few jobs and runs serves its own OpenAPI document;
schemathesis (its CLI, in a subprocess) generates requests for every operation from it, in
its coverage, fuzzing and stateful phases, with the key. Path parameters are often real job
ids, job names and run ids (runs waiting for approval among them), so the requests reach the
code behind the 404s. The run is seeded, so CI sees the same requests every time.

Checks: everything schemathesis has except two that test the document's *precision*, not the
API's behaviour: ``positive_data_acceptance`` (a schema-valid job may still break rules the
schema cannot express, such as "name is required on create but not on update") and
``negative_data_rejection`` (the API accepts a little more than it documents, such as a
number of seconds for a time, as pydantic does). Server errors, undocumented status codes,
bodies or headers that do not match the document, wrong ``Allow`` headers, ignored
authentication and use-after-delete all fail the test. One 5xx is by design and documented
(docs/sdk-python.md, both SDKs): ``POST .../run?wait=true`` answers 504 when the run has not
finished within ``wait_timeout`` (it goes on); it is allowed for that operation only.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.reliability._attack_util import API_KEY, running_daemon, until

pytestmark = pytest.mark.slow

AGENTS = 'agent echo { handler: "symbiont.testing.agents:echo" }\n'
MAX_EXAMPLES = 6
"""Fuzzed cases per operation; the coverage phase adds its own boundary cases to them."""


def _toml_list(values: list[str]) -> str:
    return json.dumps(values)  # a JSON array of strings is a TOML array


def test_schemathesis_finds_nothing(tmp_path: Path) -> None:
    """Every generated request to every operation gets a documented, non-5xx answer."""
    agents = tmp_path / "agents"
    agents.mkdir()
    (agents / "echo.symbi").write_text(AGENTS)
    args = ("--db", str(tmp_path / "s.db"), "--agents-dir", str(agents))
    with running_daemon(tmp_path, *args) as (daemon, api):
        jobs = [
            api.post("/api/v1/schedule", json=definition).json()
            for definition in (
                {"name": "daily", "agent_id": "echo", "cron_expr": "0 9 * * *", "input": "hi"},
                {
                    "name": "gated",
                    "agent_id": "echo",
                    "cron_expr": "@daily",
                    "policy": {"require_approval": True},
                    "max_concurrent": 10,
                },
                {"name": "weekly", "agent_id": "echo", "cron_expr": "@weekly"},
                {"name": "spare", "agent_id": "echo", "cron_expr": "@monthly"},
            )
        ]
        assert all("id" in job for job in jobs), jobs
        finished = api.post("/api/v1/schedule/daily/run", params={"wait": "true"}).json()
        waiting = [api.post("/api/v1/schedule/gated/run").json()["id"] for _ in range(4)]
        until(
            lambda: all(
                api.get(f"/api/v1/runs/{run}").json()["status"] == "pending_approval"
                for run in waiting
            ),
            what="runs waiting for approval",
        )
        config = tmp_path / "schemathesis.toml"
        config.write_text(
            f"""
seed = 20261123
headers = {{ Authorization = "Bearer {API_KEY}" }}
workers = 2

[generation]
max-examples = {MAX_EXAMPLES}
database = "none"

[phases.stateful]
max-steps = 4

[dictionaries.jobs]
values = {_toml_list([j["id"] for j in jobs] + [j["name"] for j in jobs])}

[dictionaries.runs]
values = {_toml_list([finished["id"], *waiting])}

[parameters]
"path.job_id" = {{ dictionary = "jobs", probability = 0.7 }}
"path.run_id" = {{ dictionary = "runs", probability = 0.7 }}

[[operations]]
include-path = "/api/v1/schedule/{{job_id}}/run"
checks.not_a_server_error.expected-statuses = ["2XX", "3XX", "4XX", 504]
"""
        )
        done = subprocess.run(
            [
                str(Path(sys.executable).parent / "st"),
                "--config-file",
                str(config),
                "--no-color",
                "run",
                f"{daemon.url}/openapi.json",
                "--checks",
                "all",
                "--exclude-checks",
                "positive_data_acceptance,negative_data_rejection",
                "--request-timeout",
                "20",
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        report = done.stdout + done.stderr
        assert done.returncode == 0, report
        spec = api.get("/openapi.json").json()
        operations = sum(len(methods) for methods in spec["paths"].values())
        assert f"Tested: {operations}" in report, report
        alive = api.get("/api/v1/health/scheduler")
        assert alive.status_code == 200
    log = daemon.log_path.read_text()
    assert "Traceback" not in log, log[-5000:]
