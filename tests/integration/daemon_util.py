"""Run `symbi up` as a real subprocess and read its structured log."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


class DaemonProcess:
    """A `symbi up` child process whose JSON log goes to a file."""

    def __init__(self, workdir: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.log_path = workdir / f"daemon-{time.monotonic_ns()}.log"
        self._log = self.log_path.open("w")
        full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "symbiont", "up", "--port", "0", *args],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=full_env,
            cwd=workdir,
        )
        self.url = ""

    def events(self) -> list[dict[str, Any]]:
        """Return the log lines written so far, parsed."""
        lines = self.log_path.read_text().splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    def wait_ready(self, deadline_s: float = 30) -> str:
        """Wait for the `daemon.started` log line; return the API base URL."""
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            for event in self.events():
                if event.get("event") == "daemon.started":
                    self.url = str(event["api"])
                    return self.url
            if self.proc.poll() is not None:
                raise AssertionError(f"daemon exited early:\n{self.log_path.read_text()}")
            time.sleep(0.05)
        raise AssertionError(f"daemon not ready:\n{self.log_path.read_text()}")

    def stop(self, sig: int = signal.SIGTERM, deadline_s: float = 30) -> int:
        """Send *sig* and wait for the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=deadline_s)
        finally:
            self._log.close()

    def kill(self) -> None:
        """Kill with SIGKILL (kill -9): no cleanup at all."""
        self.proc.kill()
        self.proc.wait(timeout=10)
        self._log.close()
