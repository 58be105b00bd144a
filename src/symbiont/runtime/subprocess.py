"""`SubprocessRuntime`: command agents, run as a process group without a shell."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

import anyio
from anyio.abc import Process

from symbiont.core.errors import AgentRunError
from symbiont.dsl import AgentSpec
from symbiont.runtime._base import context_json, resolve_for, split_sleep
from symbiont.runtime._process import CappedBuffer, TailBuffer, drain, feed, stop_group
from symbiont.runtime.base import AgentContext, AgentReply, RuntimeSettings

__all__ = ("BASE_ENV_VARS", "ENV_VALUE_LIMIT", "STDERR_TAIL_BYTES", "SubprocessRuntime")

BASE_ENV_VARS = ("PATH", "HOME", "LANG", "TZ")
"""Variables copied from `RuntimeSettings.environ` into every command's environment."""

ENV_VALUE_LIMIT = 32 * 1024
"""``SYMBI_INPUT`` and ``SYMBI_PREVIOUS_SUMMARY`` are cut to this many characters (stdin
and the context file carry them whole); the kernel refuses larger single variables."""

STDERR_TAIL_BYTES = 2048
"""How much of the end of stderr a failure's message carries."""

_PIPES_CLOSE_S = 1.0
"""After the command and its group are gone: the longest wait for its pipes to close
(a process that left the group may still hold them)."""


class SubprocessRuntime:
    """Runs a command agent: one process group per invocation, never through a shell.

    Args:
        agent: a command agent (``agent.argv`` is not empty).
        settings: output cap, kill grace, temp folder and the variables that
            ``${VAR}`` placeholders in ``argv`` and ``env`` resolve against.
    """

    def __init__(self, agent: AgentSpec, settings: RuntimeSettings) -> None:
        if not agent.argv:
            raise ValueError(f"agent {agent.name!r} is not a command agent (argv is empty)")
        self._agent = agent
        self._settings = settings

    async def invoke(self, context: AgentContext) -> AgentReply:  # noqa: D102 - see AgentRuntime
        environ = self._settings.environ
        argv = [
            resolve_for(self._agent.name, f"command argument {index}", arg, environ)
            for index, arg in enumerate(self._agent.argv)
        ]
        folder = Path(tempfile.mkdtemp(prefix="symbi-run-", dir=self._settings.work_dir))
        try:
            context_file = folder / "context.json"
            summary_file = folder / "summary.txt"
            context_file.write_text(json.dumps(context_json(context)), encoding="utf-8")
            env = self._environment(context, context_file, summary_file)
            stdout, stderr, code = await self._run(argv, env, (context.input or "").encode())
            summary = _read_summary(summary_file)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        if code != 0:
            raise AgentRunError(self._agent.name, _exit_problem(code, stderr.text()))
        output, sleep = split_sleep(stdout.text())
        if stdout.truncated and not sleep:
            sleep = split_sleep(stdout.tail_text())[1]
        return AgentReply(
            output=output, summary=summary, sleep=sleep, output_truncated=stdout.truncated
        )

    def _environment(
        self, context: AgentContext, context_file: Path, summary_file: Path
    ) -> dict[str, str]:
        """A minimal safe base, then the agent's ``env``, then the ``SYMBI_*`` context."""
        environ = self._settings.environ
        env = {name: environ[name] for name in BASE_ENV_VARS if name in environ}
        env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
        for name, value in self._agent.env.items():
            env[name] = resolve_for(self._agent.name, f"env {name}", value, environ)
        env.update(_context_env(context))
        env["SYMBI_CONTEXT_FILE"] = str(context_file)
        env["SYMBI_SUMMARY_FILE"] = str(summary_file)
        return {name: value.replace("\0", "") for name, value in env.items()}

    async def _run(
        self, argv: list[str], env: Mapping[str, str], data: bytes
    ) -> tuple[CappedBuffer, TailBuffer, int]:
        """Start *argv*, feed *data*, collect its output and return its exit code."""
        process = await self._start(argv, env)
        stdout = CappedBuffer(self._settings.max_output_bytes)
        stderr = TailBuffer(STDERR_TAIL_BYTES)
        grace_s = self._settings.kill_grace.total_seconds()
        try:
            async with anyio.create_task_group() as streams:
                if process.stdin is not None:
                    streams.start_soon(feed, process.stdin, data)
                if process.stdout is not None:
                    streams.start_soon(drain, process.stdout, stdout)
                if process.stderr is not None:
                    streams.start_soon(drain, process.stderr, stderr)
                code = await process.wait()
                # Whatever the command left running in its group is stopped too.
                await stop_group(process.pid, grace_s)
                streams.cancel_scope.deadline = anyio.current_time() + _PIPES_CLOSE_S
        finally:
            with anyio.CancelScope(shield=True):
                await stop_group(process.pid, grace_s)
                with anyio.move_on_after(_PIPES_CLOSE_S):
                    await process.aclose()
        return stdout, stderr, code

    async def _start(self, argv: list[str], env: Mapping[str, str]) -> Process:
        try:
            return await anyio.open_process(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                start_new_session=True,
            )
        except OSError as exc:
            problem = exc.strerror or type(exc).__name__
            raise AgentRunError(
                self._agent.name,
                f"cannot start command {argv[0]!r}: {problem} "
                "(is it installed and on the PATH given to agents?)",
            ) from None


def _context_env(context: AgentContext) -> dict[str, str]:
    return {
        "SYMBI_JOB_NAME": context.job_name,
        "SYMBI_JOB_ID": context.job_id,
        "SYMBI_RUN_ID": context.run_id,
        "SYMBI_ATTEMPT": str(context.attempt),
        "SYMBI_ITERATION": str(context.iteration),
        "SYMBI_TRIGGER": context.trigger,
        "SYMBI_SCHEDULED_FOR": context.scheduled_for.isoformat().replace("+00:00", "Z"),
        "SYMBI_SESSION_MODE": str(context.session_mode),
        "SYMBI_INPUT": (context.input or "")[:ENV_VALUE_LIMIT],
        "SYMBI_PREVIOUS_SUMMARY": (context.previous_summary or "")[:ENV_VALUE_LIMIT],
    }


def _read_summary(path: Path) -> str | None:
    """The summary the command wrote to ``SYMBI_SUMMARY_FILE``, or None if it wrote none."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None
    return text or None


def _exit_problem(code: int, stderr: str) -> str:
    if code < 0:
        try:
            reason = f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            reason = f"was killed by signal {-code}"
    else:
        reason = f"exited with code {code}"
    tail = f"; stderr (last {STDERR_TAIL_BYTES} bytes): {stderr}" if stderr else "; no stderr"
    return f"command {reason}{tail}"
