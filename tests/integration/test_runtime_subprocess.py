"""`SubprocessRuntime` with real child processes: env, stdin, files, caps, and killing."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import anyio
import pytest

from symbiont.core.enums import RunStatus, SessionMode
from symbiont.core.errors import AgentRunError
from symbiont.runtime import (
    AgentContext,
    AgentReply,
    RuntimeSettings,
    SubprocessRuntime,
    build_runtime,
    execute_run,
)
from symbiont.store.base import SessionState
from symbiont.testing import FakeClock
from tests.unit.runtime.fakes import NOW, agent_spec, make_job, make_run

pytestmark = pytest.mark.anyio
PRIVATE_VALUE = "hunter2-secret-value"
ENVIRON = {
    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    "HOME": "/home/agent",
    "LANG": "C.UTF-8",
    "TZ": "UTC",
    "DB_PASSWORD": PRIVATE_VALUE,
    "REGION": "eu-west",
}
SETTINGS = RuntimeSettings(environ=ENVIRON, kill_grace=timedelta(milliseconds=300))
CONTEXT = AgentContext(
    job_id="job-1",
    job_name="disk-check",
    run_id="run-9",
    attempt=2,
    iteration=3,
    trigger="retry",
    scheduled_for=NOW,
    input="check /var\nplease",
    previous_summary="all fine yesterday",
    messages=({"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}),
)


def python_agent(
    script: str,
    *,
    args: tuple[str, ...] = (),
    settings: RuntimeSettings = SETTINGS,
    env: dict[str, str] | None = None,
) -> SubprocessRuntime:
    """A command agent running *script* with this Python, never through a shell."""
    argv = (sys.executable, "-c", textwrap.dedent(script), *args)
    spec = agent_spec(command="python -c ...", argv=argv, env=env or {})
    return SubprocessRuntime(spec, settings)


def alive(pid: int) -> bool:
    """Whether *pid* runs (a zombie waiting to be reaped by init counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat[stat.rfind(")") + 2] not in "ZX"


async def test_environment_and_context_file() -> None:
    """The child gets a minimal env, the agent's env, SYMBI_* vars and a JSON context file."""
    runtime = python_agent(
        """
        import json, os
        context = json.load(open(os.environ["SYMBI_CONTEXT_FILE"]))
        print(json.dumps({"env": dict(os.environ), "context": context}))
        """,
        env={"TARGET": "${REGION}", "MODE": "${MODE:-strict}"},
    )
    reply = await runtime.invoke(CONTEXT)
    seen = json.loads(reply.output)
    env = seen["env"]
    assert {name: env[name] for name in ("HOME", "LANG", "TZ", "TARGET", "MODE")} == {
        "HOME": "/home/agent",
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "TARGET": "eu-west",
        "MODE": "strict",
    }
    assert "DB_PASSWORD" not in env
    assert PRIVATE_VALUE not in reply.output
    assert {name: value for name, value in env.items() if name.startswith("SYMBI_")} == {
        "SYMBI_JOB_NAME": "disk-check",
        "SYMBI_JOB_ID": "job-1",
        "SYMBI_RUN_ID": "run-9",
        "SYMBI_ATTEMPT": "2",
        "SYMBI_ITERATION": "3",
        "SYMBI_TRIGGER": "retry",
        "SYMBI_SCHEDULED_FOR": "2026-03-02T08:30:00Z",
        "SYMBI_SESSION_MODE": "ephemeral_with_summary",
        "SYMBI_INPUT": "check /var\nplease",
        "SYMBI_PREVIOUS_SUMMARY": "all fine yesterday",
        "SYMBI_CONTEXT_FILE": env["SYMBI_CONTEXT_FILE"],
        "SYMBI_SUMMARY_FILE": env["SYMBI_SUMMARY_FILE"],
    }
    assert seen["context"]["messages"] == [dict(message) for message in CONTEXT.messages]
    assert seen["context"]["run_id"] == "run-9"
    assert seen["context"]["scheduled_for"] == "2026-03-02T08:30:00Z"
    assert not Path(env["SYMBI_CONTEXT_FILE"]).parent.exists()


async def test_input_on_stdin_and_arguments_resolved() -> None:
    """The input arrives on stdin; ``${VAR}`` in arguments is resolved, with no shell."""
    runtime = python_agent(
        "import sys; print(sys.argv[1:], sys.stdin.read()[::-1])",
        args=("${REGION}", "$HOME;", "*"),
    )
    reply = await runtime.invoke(CONTEXT)
    assert reply.output == "['eu-west', '$HOME;', '*'] esaelp\nrav/ kcehc\n"


async def test_summary_file_and_sleep_line() -> None:
    """A summary written to SYMBI_SUMMARY_FILE is read; a last line ``sleep`` is stripped."""
    runtime = python_agent(
        """
        import os
        open(os.environ["SYMBI_SUMMARY_FILE"], "w").write("  2 disks checked\\n")
        print("disk ok")
        print("sleep")
        """
    )
    reply = await runtime.invoke(CONTEXT)
    assert reply == AgentReply(output="disk ok\n", summary="2 disks checked", sleep=True)


async def test_nonzero_exit_carries_the_stderr_tail() -> None:
    """A non-zero exit fails with the exit code and the last 2 KiB of stderr."""
    runtime = python_agent(
        """
        import sys
        sys.stderr.write("noise " * 2000 + "\\nTraceback: disk /var not found\\n")
        print("partial output")
        sys.exit(4)
        """
    )
    with pytest.raises(AgentRunError) as caught:
        await runtime.invoke(CONTEXT)
    reason = caught.value.reason
    assert reason.startswith("command exited with code 4; stderr (last 2048 bytes): noise")
    assert reason.endswith("Traceback: disk /var not found")
    assert len(reason) < 2200


async def test_output_cap_drains_a_huge_output() -> None:
    """A child printing 20 MB is read to the end without blocking; the output is capped."""
    runtime = python_agent(
        """
        import sys
        block = "é" * 1_000_000 + "\\n"
        for _ in range(10):
            sys.stdout.write(block)
        print("sleep")
        """,
        settings=RuntimeSettings(environ=ENVIRON, max_output_bytes=1001),
    )
    with anyio.fail_after(20):
        reply = await runtime.invoke(CONTEXT)
    assert reply.output_truncated is True
    assert reply.output == "é" * 500
    assert reply.sleep is True


async def test_max_runtime_kills_the_whole_process_group(tmp_path: Path) -> None:
    """At max_runtime the child and its grandchild, both ignoring SIGTERM, are killed."""
    pids = tmp_path / "pids"
    script = f"""
        import os, signal, subprocess, sys, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"
        child = subprocess.Popen([sys.executable, "-c", code])
        open({str(pids)!r} + ".tmp", "w").write(f"{{os.getpid()}} {{child.pid}}")
        os.rename({str(pids)!r} + ".tmp", {str(pids)!r})
        time.sleep(600)
    """
    runtime = python_agent(script)
    with anyio.fail_after(10):
        result = await execute_run(
            runtime,
            agent_spec(command="python"),
            make_job(max_runtime=timedelta(seconds=2)),
            make_run(),
            SessionState(),
            SETTINGS,
            clock=FakeClock(NOW),
        )
    assert result.status == RunStatus.timed_out
    assert "max_runtime of 2s" in (result.error_message or "")
    child, grandchild = (int(pid) for pid in pids.read_text().split())
    assert not alive(child)
    assert not alive(grandchild)


async def test_leftover_processes_are_stopped_when_the_command_exits(tmp_path: Path) -> None:
    """A background process left holding stdout does not hang the run and is stopped."""
    pid_file = tmp_path / "pid"
    runtime = python_agent(
        f"""
        import subprocess, sys
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        open({str(pid_file)!r}, "w").write(str(child.pid))
        print("started")
        """
    )
    with anyio.fail_after(10):
        reply = await runtime.invoke(CONTEXT)
    assert reply.output == "started\n"
    assert not alive(int(pid_file.read_text()))


async def test_agent_timeout_stops_the_command() -> None:
    """An invocation past ``agent.timeout`` fails the run and names that limit."""
    spec = agent_spec(
        command="python",
        argv=(sys.executable, "-c", "import time; time.sleep(600)"),
        timeout=timedelta(milliseconds=500),
    )
    with anyio.fail_after(10):
        result = await execute_run(
            build_runtime(spec, SETTINGS),
            spec,
            make_job(session_mode=SessionMode.fully_ephemeral),
            make_run(),
            SessionState(),
            SETTINGS,
            clock=FakeClock(NOW),
        )
    assert result.status == RunStatus.failed
    assert "no reply within the agent's timeout of 500ms" in (result.error_message or "")


async def test_missing_variable_fails_without_leaking_values() -> None:
    """An unset variable fails the invocation, naming it and showing no other value."""
    runtime = python_agent(
        "print('never')",
        args=("--password=${DB_PASSWORD}",),
        env={"TOKEN": "${API_TOKEN}", "PASS": "${DB_PASSWORD}"},
    )
    with pytest.raises(AgentRunError) as caught:
        await runtime.invoke(CONTEXT)
    assert caught.value.reason == (
        "cannot resolve env TOKEN: environment variable 'API_TOKEN' is not set "
        "(used as ${API_TOKEN}); set it, or write ${API_TOKEN:-default} to give a default"
    )
    assert PRIVATE_VALUE not in str(caught.value)


async def test_unknown_command_is_a_clear_error() -> None:
    """A command that cannot be started fails with its name and the reason."""
    spec = agent_spec(command="no-such-binary-xyz", argv=("no-such-binary-xyz", "--flag"))
    with pytest.raises(AgentRunError) as caught:
        await SubprocessRuntime(spec, SETTINGS).invoke(CONTEXT)
    assert caught.value.reason.startswith("cannot start command 'no-such-binary-xyz'")
