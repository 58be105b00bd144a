"""Test helpers for the runtime suites: agent specs, jobs, a scripted runtime, an HTTP server."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from symbiont.core.enums import RunStatus, RunTrigger, SessionMode
from symbiont.core.models import Heartbeat, Job, Policy, Run
from symbiont.dsl import AgentSpec
from symbiont.runtime import AgentContext, AgentReply

NOW = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)


def agent_spec(name: str = "agent", **fields: Any) -> AgentSpec:
    """An `AgentSpec` as the DSL would build it (kind given by *fields*)."""
    return AgentSpec(name=name, path="<test>", line=1, column=1, **fields)


def make_job(
    *,
    session_mode: SessionMode = SessionMode.ephemeral_with_summary,
    heartbeat: Heartbeat | None = None,
    max_runtime: timedelta | None = None,
    job_input: str | None = "check the disks",
) -> Job:
    """A job with the settings the executor reads."""
    return Job(
        id="job-1",
        name="disk-check",
        agent_id="agent",
        cron_expr="0 * * * *",
        session_mode=session_mode,
        heartbeat=heartbeat or Heartbeat(),
        policy=Policy(max_runtime=max_runtime),
        input=job_input,
        created_at=NOW,
        updated_at=NOW,
    )


def make_run(run_id: str = "run-1", *, run_input: str | None = None, attempt: int = 1) -> Run:
    """A running run of `make_job`'s job."""
    return Run(
        id=run_id,
        job_id="job-1",
        job_name="disk-check",
        trigger=RunTrigger.schedule,
        scheduled_for=NOW,
        status=RunStatus.running,
        attempt=attempt,
        input=run_input,
        created_at=NOW,
    )


Script = Callable[[AgentContext], AgentReply | str]


class ScriptedRuntime:
    """An `AgentRuntime` that records each context and answers from a script."""

    def __init__(self, script: Script | list[AgentReply | str]) -> None:
        self.contexts: list[AgentContext] = []
        self._script = script

    async def invoke(self, context: AgentContext) -> AgentReply:
        """Record *context* and return the scripted reply (a str becomes its output)."""
        self.contexts.append(context)
        if callable(self._script):
            reply = self._script(context)
        else:
            reply = self._script[len(self.contexts) - 1]
        return AgentReply(output=reply) if isinstance(reply, str) else reply


@dataclass(slots=True)
class Recorded:
    """One request the fake server received."""

    path: str
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        """The body decoded as JSON."""
        return json.loads(self.body)


Answer = tuple[int, Mapping[str, str], bytes]
"""Status, headers and body of a reply."""


def json_answer(status: int, data: object, **headers: str) -> Answer:
    """A JSON reply."""
    return status, {"content-type": "application/json", **headers}, json.dumps(data).encode()


@dataclass(slots=True)
class FakeServer:
    """A real HTTP server on 127.0.0.1 whose replies come from :attr:`respond`."""

    url: str
    respond: Callable[[Recorded], Answer]
    requests: list[Recorded] = field(default_factory=list)


@contextmanager
def serve(respond: Callable[[Recorded], Answer]) -> Iterator[FakeServer]:
    """Run a threaded HTTP server on a free loopback port until the block ends."""
    server: FakeServer

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            recorded = Recorded(
                path=self.path,
                headers={key.lower(): value for key, value in self.headers.items()},
                body=self.rfile.read(length),
            )
            server.requests.append(recorded)
            status, headers, body = server.respond(recorded)
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
            """Keep test output quiet."""

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    server = FakeServer(url=f"http://127.0.0.1:{httpd.server_address[1]}", respond=respond)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()
