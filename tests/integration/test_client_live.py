"""The Python SDK against a real `symbi up` daemon: the spec's example, typed errors, async."""

from __future__ import annotations

import os
import socket
import textwrap
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from symbiont import AsyncSymbiontClient, SymbiontClient
from symbiont.client import (
    AuthError,
    ConflictError,
    ConnectionError,  # noqa: A004 - the SDK's error under test
    ForbiddenError,
    Job,
    NotFoundError,
    ValidationError,
)
from tests.integration.daemon_util import DaemonProcess

KEY = "live-test-key"
AGENTS = textwrap.dedent(
    """
    agent metrics-agent {
      handler: "symbiont.testing.agents:echo"
    }
    """
)
# The "SDK Examples" -> "Python SDK" block of spec/scheduling-guide.md, copied verbatim.
SPEC_EXAMPLE = """\
from symbiont import SymbiontClient

client = SymbiontClient(
    base_url='http://localhost:8080',
    api_key=os.environ['SYMBI_API_KEY']
)

# Create scheduled job
job = client.schedule.create(
    name='hourly-metrics',
    agent_id='metrics-agent',
    cron_expr='0 0 * * * *',
    session_mode='ephemeral_with_summary',
    delivery=['slack', 'log_file'],
    slack_channel='#metrics'
)

print(f"Created job: {job.id}")

# List jobs for specific agent
jobs = client.schedule.list(agent_id='metrics-agent')
print(f"Found {len(jobs)} jobs for metrics-agent")

# Get job details
details = client.schedule.get(job.id)
print(f"Cron: {details.cron_expr}")
print(f"Next run: {details.next_run}")

# Update cron expression
client.schedule.update(job.id, cron_expr='0 */30 * * * *')

# Trigger immediate run
run = client.schedule.run_now(job.id, input='Generate metrics report')
print(f"Run ID: {run.id}")

# Pause during maintenance
client.schedule.pause(job.id)
print("Job paused for maintenance")

# View recent failures
history = client.schedule.get_history(
    job.id,
    status='failed',
    limit=5
)
for run in history:
    print(f"Failed run {run.id}: {run.error_message}")

# Resume after maintenance
client.schedule.resume(job.id)

# Check scheduler health
health = client.schedule.health()
print(f"Scheduler status: {health.status}")
print(f"Active jobs: {health.active_jobs}")
print(f"In-flight jobs: {health.in_flight_jobs}")
"""


@pytest.fixture(scope="module")
def daemon_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One `symbi up` for the module: SQLite, a handler agent `metrics-agent`, an API key."""
    workdir = tmp_path_factory.mktemp("client-live")
    agents = workdir / "agents"
    agents.mkdir()
    (agents / "metrics.symbi").write_text(AGENTS)
    daemon = DaemonProcess(
        workdir,
        "--db",
        str(workdir / "symbi.db"),
        "--agents-dir",
        str(agents),
        env={"SYMBI_API_KEY": KEY},
    )
    try:
        yield daemon.wait_ready()
    finally:
        code = daemon.stop()
    assert code == 0, daemon.log_path.read_text()


@pytest.fixture
def client(daemon_url: str) -> Iterator[SymbiontClient]:
    """A client of the live daemon with the right key."""
    with SymbiontClient(daemon_url, api_key=KEY) as opened:
        yield opened


def test_the_spec_python_example_runs_as_written(
    daemon_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The spec's Python example runs unchanged against the daemon and leaves the job as it says.

    Two things differ from pasting the block into a file, neither of them in the SDK: the
    literal ``http://localhost:8080`` is replaced by the daemon's URL (it listens on a free
    port, since 8080 may be taken), and ``os`` is provided, because the block uses
    ``os.environ`` without importing ``os``.
    """
    monkeypatch.setenv("SYMBI_API_KEY", KEY)
    assert SPEC_EXAMPLE.count("http://localhost:8080") == 1
    source = SPEC_EXAMPLE.replace("http://localhost:8080", daemon_url)
    namespace: dict[str, object] = {"os": os, "__name__": "spec_example"}
    try:
        exec(compile(source, "spec-python-example", "exec"), namespace)  # noqa: S102 - the spec's example is the subject
    finally:
        example_client = namespace.get("client")
        if isinstance(example_client, SymbiontClient):
            example_client.close()
    lines = capsys.readouterr().out.splitlines()
    job_id = lines[0].removeprefix("Created job: ")
    details = namespace["details"]
    assert isinstance(details, Job)
    assert lines[1:4] == [
        "Found 1 jobs for metrics-agent",
        "Cron: 0 0 * * * *",
        f"Next run: {details.next_run}",
    ]
    assert lines[3].startswith(f"Next run: {datetime.now(UTC).year}")
    assert lines[4].startswith("Run ID: ")
    assert lines[5] == "Job paused for maintenance"
    assert not any(line.startswith("Failed run") for line in lines)  # the echo agent succeeds
    assert lines[-3:-1] == ["Scheduler status: healthy", "Active jobs: 1"]
    assert lines[-1].startswith("In-flight jobs: ")
    with SymbiontClient(daemon_url, api_key=KEY) as check:
        job = check.schedule.get("hourly-metrics")
        (run,) = check.schedule.get_history(job.id)
        check.schedule.delete(job.id)
    assert (job.id, job.status, job.cron_expr) == (job_id, "active", "0 */30 * * * *")
    assert (job.delivery, job.slack_channel) == (("slack", "log_file"), "#metrics")
    assert (run.id, run.input) == (lines[4].removeprefix("Run ID: "), "Generate metrics report")


def test_unknown_jobs_raise_not_found(client: SymbiontClient) -> None:
    """A job id or name the daemon does not know raises NotFoundError with the daemon's text."""
    with pytest.raises(NotFoundError) as caught:
        client.schedule.get("no-such-job")
    assert (caught.value.status, caught.value.code) == (404, "NOT_FOUND")
    assert "no job with id or name 'no-such-job'" in caught.value.message
    with pytest.raises(NotFoundError):
        client.runs.get("no-such-run")


def test_a_wrong_or_missing_key_raises_auth_error(
    daemon_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The daemon's 401 becomes AuthError for a wrong key or none, scheduler health included."""
    monkeypatch.delenv("SYMBI_API_KEY", raising=False)
    with SymbiontClient(daemon_url, api_key="wrong") as wrong:
        with pytest.raises(AuthError, match="invalid API key") as caught:
            wrong.schedule.list()
        assert (caught.value.status, caught.value.code) == (401, "UNAUTHORIZED")
    with SymbiontClient(daemon_url) as anonymous, pytest.raises(AuthError, match="missing"):
        anonymous.schedule.list()
    with SymbiontClient(daemon_url, api_key="wrong") as wrong, pytest.raises(AuthError):
        wrong.schedule.health()  # scheduler health shows counts: it needs the key too


def test_invalid_definitions_raise_validation_error_with_problems(client: SymbiontClient) -> None:
    """A 422 becomes ValidationError whose problems name each bad field."""
    with pytest.raises(ValidationError) as caught:
        client.schedule.create(name="bad-cron", agent_id="metrics-agent", cron_expr="61 * * * *")
    assert caught.value.status == 422
    assert [field for field, _ in caught.value.problems] == ["cron_expr"]
    with pytest.raises(ValidationError) as missing:
        client.schedule.create(name="no-agent", cron_expr="@daily")
    assert ("agent_id", "is required") in missing.value.problems


def test_a_duplicate_name_raises_conflict(client: SymbiontClient) -> None:
    """Creating a second job with a taken name raises ConflictError (409)."""
    job = client.schedule.create(name="twice", agent_id="metrics-agent", cron_expr="@daily")
    try:
        with pytest.raises(ConflictError, match="already exists") as caught:
            client.schedule.create(name="twice", agent_id="metrics-agent", cron_expr="@daily")
        assert caught.value.status == 409
    finally:
        client.schedule.delete(job.id)


def test_connection_refused_raises_connection_error_after_the_retries() -> None:
    """Nothing listening on the port: every attempt is refused, then ConnectionError."""
    with socket.socket() as probe:  # a port that was free a moment ago and is closed now
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with (
        SymbiontClient(f"http://127.0.0.1:{port}", api_key=KEY, retries=2, backoff=0.01) as down,
        pytest.raises(ConnectionError) as caught,
    ):
        down.schedule.create(name="x", agent_id="metrics-agent", cron_expr="@daily")
    assert caught.value.attempts == 3
    assert caught.value.code == "CONNECTION_FAILED"
    assert f"cannot reach the symbiont daemon at http://127.0.0.1:{port} (3 attempts)" in str(
        caught.value
    )


@pytest.mark.anyio
async def test_the_async_client_runs_the_whole_lifecycle(daemon_url: str) -> None:
    """AsyncSymbiontClient creates, runs (waiting), inspects, pauses, audits and deletes a job."""
    async with AsyncSymbiontClient(daemon_url, api_key=KEY) as client:
        job = await client.schedule.create(
            name="async-lifecycle", agent_id="metrics-agent", cron_expr="0 0 3 * * *"
        )
        assert [j.id for j in await client.schedule.list(agent_id="metrics-agent")] == [job.id]
        updated = await client.schedule.update(job.id, cron_expr="0 30 3 * * *")
        assert updated.cron_expr == "0 30 3 * * *"
        run = await client.schedule.run_now("async-lifecycle", input="hi", wait=True)
        assert (run.status, run.output) == ("succeeded", f"async-lifecycle {run.id} hi")
        assert (await client.runs.get(run.id)).finished_at == run.finished_at
        assert [r.id for r in await client.schedule.get_history(job.id, limit=10)] == [run.id]
        upcoming = await client.schedule.next_run(job.id, count=3)
        assert len(upcoming.next_runs) == 3
        assert (await client.schedule.pause(job.id)).status == "paused"
        assert (await client.schedule.get_status(job.id)).status == "paused"
        assert (await client.schedule.next_run(job.id)).next_run is None
        assert (await client.schedule.resume(job.id)).status == "active"
        with pytest.raises(ConflictError, match="cannot reset job 'async-lifecycle'"):
            await client.schedule.reset(job.id)
        health = await client.schedule.health()
        assert health.active_jobs >= 1
        events = await client.audit.query(job_id=job.id)
        assert [e.type for e in events][:2] == ["CronJobCreated", "CronJobUpdated"]
        assert (await client.audit.verify()).ok
        assert (await client.schedule.delete(job.id)).id == job.id
        with pytest.raises(NotFoundError):
            await client.schedule.get(job.id)


# -- approvals, in process: a pending run needs a policy gate and a person, which the ---
# -- ASGI transport lets us set up without waiting on a scheduler. ---------------------


Approvals = tuple[AsyncSymbiontClient, AsyncSymbiontClient, list[str]]


@pytest.fixture
async def approvals(tmp_path: Path) -> AsyncIterator[Approvals]:
    """Clients for `alice` (the approver) and `bob` over the app, and two pending runs."""
    from symbiont.api import AppState, create_app  # noqa: PLC0415 - server code, tests only
    from symbiont.core.clock import SystemClock  # noqa: PLC0415
    from symbiont.service import JobService  # noqa: PLC0415
    from symbiont.store import SQLiteJobStore  # noqa: PLC0415
    from tests.integration.test_approvals_api_cli import _pending  # noqa: PLC0415

    async with SQLiteJobStore(tmp_path / "a.db") as store:
        service = JobService(store, SystemClock())
        pending = [await _pending(service, "deploy"), await _pending(service, "migrate")]
        app = create_app(AppState(service=service, api_keys={"alice": "ka", "bob": "kb"}))
        transport = httpx.ASGITransport(app=app)
        async with (
            AsyncSymbiontClient("http://app", api_key="ka", transport=transport) as alice,
            AsyncSymbiontClient("http://app", api_key="kb", transport=transport) as bob,
        ):
            yield alice, bob, pending


@pytest.mark.anyio
async def test_approvals_are_listed_approved_and_rejected(approvals: Approvals) -> None:
    """Pending runs are listed; bob gets ForbiddenError; alice approves one, rejects the other."""
    alice, bob, (first, second) = approvals
    assert {r.id for r in await alice.approvals.list()} == {first, second}
    with pytest.raises(ForbiddenError, match="'bob' may not approve") as caught:
        await bob.runs.approve(first)
    assert (caught.value.status, caught.value.code) == (403, "FORBIDDEN")
    approved = await alice.runs.approve(first)
    assert (approved.status, approved.details["approved_by"]) == ("queued", "alice")
    with pytest.raises(ConflictError):
        await alice.runs.approve(first)
    rejected = await alice.runs.reject(second, reason="freeze week")
    assert (rejected.status, rejected.error_message) == (
        "cancelled",
        "rejected by alice: freeze week",
    )
    assert await alice.approvals.list() == []
