"""Helpers of the bad-input and attack tests: a live daemon with a key, an HTTP receiver."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import httpx

from tests.integration.daemon_util import DaemonProcess

T = TypeVar("T")
API_KEY = "attack-test-key-7f3a9c"
"""The daemon's API key in these tests (given as SYMBI_API_KEY)."""


class Receiver(ThreadingHTTPServer):
    """An HTTP server on 127.0.0.1 that records every request and answers 204.

    Under ``/echo`` it answers 401 with a body that repeats what it was sent, as careless
    services do ("invalid token abc123"): the query, the bare credential of the
    ``Authorization`` header and ``X-Custom``.
    """

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self) -> str:
        """The base URL, ``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    def _record(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        assert isinstance(self.server, Receiver)
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.server.requests.append((self.command, self.path, headers, body))
        if not self.path.startswith("/echo"):
            self.send_response(204)
            self.end_headers()
            return
        credential = headers.get("authorization", "").rpartition(" ")[2]
        reply = f"invalid {self.path} {credential} {headers.get('x-custom')}".encode()
        self.send_response(401)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    do_POST = do_PUT = do_GET = _record  # noqa: N815 - http.server's hook names

    def log_message(self, *_: Any) -> None:
        return


@contextmanager
def receiving() -> Iterator[Receiver]:
    """A live receiver, shut down afterwards."""
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def running_daemon(
    workdir: Path, *args: str, env: dict[str, str] | None = None
) -> Iterator[tuple[DaemonProcess, httpx.Client]]:
    """`symbi up` in *workdir* with the test API key; a client that sends the key."""
    daemon = DaemonProcess(workdir, *args, env={"SYMBI_API_KEY": API_KEY, **(env or {})})
    try:
        url = daemon.wait_ready()
        headers = {"Authorization": f"Bearer {API_KEY}"}
        with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
            yield daemon, client
    finally:
        code = daemon.stop()
    assert code == 0, daemon.log_path.read_text()


def until(check: Callable[[], T | None], deadline_s: float = 30, what: str = "condition") -> T:
    """Poll *check* until it returns something truthy; fail after *deadline_s*."""
    end = time.monotonic() + deadline_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"{what} not met within {deadline_s} s")
        time.sleep(0.05)


def finished_run(client: httpx.Client, run_id: str, deadline_s: float = 30) -> dict[str, Any]:
    """Poll a run until it leaves queued/running; return it."""

    def done() -> dict[str, Any] | None:
        run: dict[str, Any] = client.get(f"/api/v1/runs/{run_id}").json()
        return None if run["status"] in {"queued", "running"} else run

    return until(done, deadline_s, f"run {run_id} finished")
