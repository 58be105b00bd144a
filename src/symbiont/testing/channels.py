"""`RecordingChannel`: a custom delivery channel that records what it receives.

Use it as ``custom:NAME`` in tests and demos: in-process it keeps deliveries in
`RecordingChannel.delivered`; when ``SYMBI_RECORDING_FILE`` is set in the daemon's
environment it also appends one JSON line per delivery to that file, so a test can read
what a daemon in another process delivered.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

from symbiont.core.models import Job, Run


class RecordingChannel:
    """Records each delivery (job name, run id, status, output)."""

    name = "custom:recorder"
    delivered: ClassVar[list[dict[str, Any]]] = []

    def __init__(self, settings: Any) -> None:
        environ = getattr(settings, "environ", {}) or {}
        target = environ.get("SYMBI_RECORDING_FILE")
        self._file = Path(target) if target else None

    async def deliver(self, job: Job, run: Run, output: str) -> None:
        """Record *output* of *run*."""
        entry = {"job": job.name, "run_id": run.id, "status": run.status.value, "output": output}
        RecordingChannel.delivered.append(entry)
        if self._file is not None:
            with self._file.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(entry) + "\n")
