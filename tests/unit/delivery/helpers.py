"""Test helpers for the delivery suites: jobs and runs, real local servers, test channels."""

from __future__ import annotations

import json
import socket
import ssl
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anyio
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from symbiont.core.enums import RunStatus, RunTrigger
from symbiont.core.errors import DeliveryError
from symbiont.core.models import Job, Run
from symbiont.delivery import DeliverySettings, RetrySettings

NOW = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
FAST_RETRY = RetrySettings(
    attempts=3, backoff=timedelta(milliseconds=1), max_backoff=timedelta(milliseconds=5)
)


def make_job(**fields: Any) -> Job:
    """A job named ``disk-check`` with *fields* overriding the defaults."""
    base = Job(
        id="job-1",
        name="disk-check",
        agent_id="disk-agent",
        cron_expr="0 * * * *",
        created_at=NOW,
        updated_at=NOW,
    )
    return replace(base, **fields)


def make_run(status: RunStatus = RunStatus.succeeded, **fields: Any) -> Run:
    """A finished run of `make_job`'s job."""
    base = Run(
        id="run-7f3a",
        job_id="job-1",
        job_name="disk-check",
        trigger=RunTrigger.schedule,
        scheduled_for=NOW,
        status=status,
        attempt=1,
        started_at=NOW + timedelta(seconds=1),
        finished_at=NOW + timedelta(seconds=3, milliseconds=400),
        execution_time_ms=2400,
        error_message=None if status == RunStatus.succeeded else "exit status 2",
        created_at=NOW,
    )
    return replace(base, **fields)


def settings(**fields: Any) -> DeliverySettings:
    """Delivery settings with fast retries, *fields* overriding."""
    return replace(DeliverySettings(retry=FAST_RETRY), **fields)


def free_port() -> int:
    """A loopback TCP port nobody listens on (at the time of asking)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- HTTP ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Recorded:
    """One request a `Receiver` got."""

    path: str
    headers: Mapping[str, str]
    """Header names in lower case."""
    body: bytes

    def json(self) -> Any:
        """The body decoded as JSON."""
        return json.loads(self.body)


Answer = tuple[int, Mapping[str, str], bytes]
"""Status, headers and body of a reply."""


def json_answer(status: int, data: object, **headers: str) -> Answer:
    """A JSON reply."""
    return status, {"content-type": "application/json", **headers}, json.dumps(data).encode()


def text_answer(status: int, text: str = "") -> Answer:
    """A plain-text reply."""
    return status, {"content-type": "text/plain"}, text.encode()


@dataclass(slots=True)
class Receiver:
    """A real HTTP server on 127.0.0.1 that records requests and answers from `respond`."""

    url: str
    respond: Callable[[Recorded], Answer]
    requests: list[Recorded] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    """Set when the server stops, so handlers that hang (`hang`) return."""

    def hang(self, _: Recorded) -> Answer:
        """An answer that comes only when the server stops (a receiver that hangs)."""
        self.release.wait(30)
        return text_answer(200, "late")


@contextmanager
def receiver(respond: Callable[[Recorded], Answer] | None = None) -> Iterator[Receiver]:
    """Run a threaded HTTP receiver on a free loopback port until the block ends."""
    server: Receiver

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
            try:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass  # the client gave up (a timeout test)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
            """Keep test output quiet."""

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    server = Receiver(
        url=f"http://127.0.0.1:{httpd.server_address[1]}",
        respond=respond or (lambda _: text_answer(200, "ok")),
    )
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join()


# --- SMTP ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Mail:
    """One message an `SmtpServer` accepted."""

    sender: str
    recipients: list[str]
    content: bytes
    login: str | None
    """The user that authenticated, if any."""
    tls: bool
    """Whether the session was encrypted when the message came."""


@dataclass(slots=True)
class SmtpServer:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 and what it received."""

    host: str
    port: int
    mails: list[Mail] = field(default_factory=list)
    refuse: str | None = None
    """An SMTP reply (``"550 ..."``) given to every ``RCPT TO`` instead of accepting it."""
    refuse_addresses: dict[str, str] = field(default_factory=dict)
    """SMTP replies given to ``RCPT TO`` for these addresses only."""


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, _: SMTP, __: Session, envelope: Envelope, address: str, ___: list[str]
    ) -> str:
        if self.server.refuse is not None:
            return self.server.refuse
        if address in self.server.refuse_addresses:
            return self.server.refuse_addresses[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        login = session.auth_data.login.decode() if session.authenticated else None
        encrypted = server.transport is not None and (
            server.transport.get_extra_info("ssl_object") is not None
        )
        content = envelope.original_content or b""
        self.server.mails.append(
            Mail(
                sender=str(envelope.mail_from),
                recipients=list(envelope.rcpt_tos),
                content=content,
                login=login,
                tls=encrypted,
            )
        )
        return "250 Message accepted"


def _authenticator(users: Mapping[str, str]) -> Callable[..., AuthResult]:
    def check(_: SMTP, __: Session, ___: Envelope, mechanism: str, data: Any) -> AuthResult:
        if mechanism not in {"LOGIN", "PLAIN"} or not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user, password = data.login.decode(), data.password.decode()
        if users.get(user) != password:
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True, auth_data=data)

    return check


@contextmanager
def smtp_server(
    *,
    users: Mapping[str, str] | None = None,
    starttls: ssl.SSLContext | None = None,
    implicit_tls: ssl.SSLContext | None = None,
) -> Iterator[SmtpServer]:
    """Run an aiosmtpd server on a free loopback port until the block ends.

    Args:
        users: when given, ``AUTH`` is required and these logins/passwords are accepted.
        starttls: offer (and require) STARTTLS with this server context.
        implicit_tls: speak TLS from the first byte with this server context.
    """
    server = SmtpServer(host="127.0.0.1", port=free_port())
    options: dict[str, Any] = {}
    if users is not None:
        options |= {"authenticator": _authenticator(users), "auth_required": True}
        options["auth_require_tls"] = starttls is not None or implicit_tls is not None
    if starttls is not None:
        options |= {"tls_context": starttls, "require_starttls": True}
    controller = Controller(
        _Handler(server),
        hostname=server.host,
        port=server.port,
        ssl_context=implicit_tls,
        server_hostname="localhost",
        ready_timeout=10,
        **options,
    )
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


@dataclass(slots=True)
class Certificates:
    """A test CA and a server context whose certificate it signed (for 127.0.0.1)."""

    ca_file: Path
    server_context: ssl.SSLContext


def certificates(folder: Path) -> Certificates:
    """Make a CA, a server certificate for 127.0.0.1 and localhost, and the CA's PEM file."""
    authority = trustme.CA()
    issued = authority.issue_cert("127.0.0.1", "localhost")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    issued.configure_cert(context)
    ca_file = folder / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    return Certificates(ca_file=ca_file, server_context=context)


# --- channels -----------------------------------------------------------------------------


@dataclass(slots=True)
class RecordingChannel:
    """A channel that records what it is given and fails as scripted.

    ``failures`` are raised one per call, in order; once they run out, calls succeed.
    """

    name: str = "recording"
    failures: list[Exception] = field(default_factory=list)
    calls: list[tuple[Job, Run, str]] = field(default_factory=list)

    async def deliver(self, job: Job, run: Run, output: str) -> None:
        """Record the call; raise the next scripted failure, if any."""
        self.calls.append((job, run, output))
        if self.failures:
            raise self.failures.pop(0)


@dataclass(slots=True)
class MeetingChannel:
    """A channel whose delivery finishes only once every channel of its group has started.

    Proves that a router delivers to channels concurrently: run one after another, the
    first would wait for the second forever (and the test's deadline would fail it).
    """

    name: str
    group: MeetingGroup

    async def deliver(self, job: Job, run: Run, output: str) -> None:
        """Arrive, then wait for the others."""
        del job, run, output
        self.group.arrived += 1
        if self.group.arrived == self.group.size:
            self.group.everyone.set()
        await self.group.everyone.wait()


@dataclass(slots=True)
class MeetingGroup:
    """The channels of a `MeetingChannel` meeting."""

    size: int
    arrived: int = 0
    everyone: anyio.Event = field(default_factory=anyio.Event)


def retryable(reason: str = "try again") -> DeliveryError:
    """A retryable failure of the ``recording`` channel."""
    return DeliveryError("recording", reason, retryable=True)


class InstantClock:
    """A `Clock` whose ``sleep`` returns at once and remembers how long it was asked for."""

    def __init__(self) -> None:
        self.slept: list[float] = []

    def now(self) -> datetime:
        """The fixed test time."""
        return NOW

    async def sleep(self, seconds: float) -> None:
        """Record *seconds* and return."""
        self.slept.append(seconds)
