"""``symbi run``: run one agent once, outside the scheduler, and print its output."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Annotated

import anyio
import typer

from symbiont.core.clock import SystemClock
from symbiont.core.enums import RunStatus, RunTrigger, SessionMode
from symbiont.core.models import Job, Run
from symbiont.dsl import AgentSpec, DslError, parse_file
from symbiont.runtime import RunResult, RuntimeSettings, build_runtime, execute_run
from symbiont.store.base import SessionState

EXIT_FAILED = 1
"""The agent ran and failed (or timed out)."""
EXIT_USAGE = 2
"""The command line or the agent files cannot be used."""
EXIT_UNKNOWN_AGENT = 3
"""No loaded file defines the agent."""


def _fail(problem: str, code: int) -> typer.Exit:
    typer.echo(f"symbi run: {problem}", err=True)
    return typer.Exit(code)


def _sources(agents_dir: Path, files: list[Path]) -> list[Path]:
    """The files to load: the ones named, else every ``*.symbi`` of the folder."""
    if files:
        missing = [path for path in files if not path.is_file()]
        if missing:
            raise _fail(f"no such file: {missing[0]}", EXIT_USAGE)
        return files
    if not agents_dir.is_dir():
        raise _fail(
            f"no agents folder {agents_dir}; pass --agents-dir DIR or --file FILE", EXIT_USAGE
        )
    return sorted(agents_dir.glob("*.symbi"))


def _load_agents(paths: list[Path]) -> dict[str, AgentSpec]:
    agents: dict[str, AgentSpec] = {}
    for path in paths:
        try:
            document = parse_file(path)
        except DslError as exc:
            raise _fail(str(exc), EXIT_USAGE) from None
        for agent in document.agents:
            if agent.name in agents:
                first = agents[agent.name]
                raise _fail(
                    f"{agent.path}:{agent.line}:{agent.column}: agent {agent.name!r} is "
                    f"already defined at {first.path}:{first.line}:{first.column}",
                    EXIT_USAGE,
                )
            agents[agent.name] = agent
    return agents


def _manual_run(agent: AgentSpec, text: str | None) -> tuple[Job, Run]:
    """A throw-away job and run: fully ephemeral, one iteration, run id ``manual-<uuid>``."""
    now = SystemClock().now()
    run_id = f"manual-{uuid.uuid4()}"
    job = Job(
        id=run_id,
        name=agent.name,
        agent_id=agent.name,
        session_mode=SessionMode.fully_ephemeral,
        input=text,
        source="cli",
        created_at=now,
        updated_at=now,
    )
    run = Run(
        id=run_id,
        job_id=job.id,
        job_name=agent.name,
        trigger=RunTrigger.manual,
        scheduled_for=now,
        status=RunStatus.running,
        input=text,
        created_at=now,
    )
    return job, run


async def _execute(agent: AgentSpec, text: str | None, settings: RuntimeSettings) -> RunResult:
    job, run = _manual_run(agent, text)
    runtime = build_runtime(agent, settings)
    return await execute_run(
        runtime, agent, job, run, SessionState(), settings, clock=SystemClock()
    )


def run(
    agent: Annotated[
        str, typer.Argument(help="The agent's name.", metavar="AGENT", show_default=False)
    ],
    input_text: Annotated[
        str | None,
        typer.Option(
            "--input",
            "-i",
            help="The input given to the agent.",
            metavar="TEXT",
            show_default=False,
        ),
    ] = None,
    agents_dir: Annotated[
        Path,
        typer.Option(
            "--agents-dir", help="Folder whose *.symbi files define agents.", metavar="DIR"
        ),
    ] = Path("agents"),
    files: Annotated[
        list[Path] | None,
        typer.Option(
            "--file",
            "-f",
            help="A .symbi file to load instead of the folder (repeatable).",
            metavar="FILE",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run one agent once with --input and print its output (no schedule, no history)."""
    agents = _load_agents(_sources(agents_dir, files or []))
    spec = agents.get(agent)
    if spec is None:
        known = ", ".join(sorted(agents)) or "none"
        raise _fail(f"no agent named {agent!r}; defined agents: {known}", EXIT_UNKNOWN_AGENT)
    # The CLI is an edge: the process environment is read here and handed down.
    settings = RuntimeSettings(environ=dict(os.environ))
    result = anyio.run(_execute, spec, input_text, settings)
    if result.status != RunStatus.succeeded:
        message = " | ".join((result.error_message or str(result.status)).splitlines())
        raise _fail(message, EXIT_FAILED)
    output = result.output or ""
    typer.echo(output, nl=not output.endswith("\n"))
    if result.details.get("output_truncated"):
        typer.echo("symbi run: the output was cut at the output size limit", err=True)
