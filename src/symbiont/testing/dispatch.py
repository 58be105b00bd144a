"""`ScriptedDispatcher`: a dispatcher whose runs end as a test says, when it says."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import anyio

from symbiont.core.enums import RunStatus
from symbiont.core.models import Job, Run
from symbiont.store.base import RunOutcome, SessionState

Script = Callable[[Job, Run], RunOutcome]


class ScriptedDispatcher:
    """Records every run it is given and ends it with a scripted outcome.

    By default a run succeeds with output ``"ok <job name>"``. `script` sets a job's outcome
    function; `hold` makes a job's runs wait until `release` is called.
    """

    def __init__(self) -> None:
        self.calls: list[tuple[Job, Run]] = []
        self.running: dict[str, int] = defaultdict(int)
        self._scripts: dict[str, Script] = {}
        self._gates: dict[str, anyio.Event] = {}

    def script(self, job_name: str, outcome: Script) -> None:
        """End runs of *job_name* with ``outcome(job, run)``."""
        self._scripts[job_name] = outcome

    def hold(self, job_name: str) -> None:
        """Make runs of *job_name* block until `release`."""
        self._gates[job_name] = anyio.Event()

    def release(self, job_name: str) -> None:
        """Let held runs of *job_name* finish."""
        self._gates.pop(job_name).set()

    async def __call__(self, job: Job, run: Run, session: SessionState | None = None) -> RunOutcome:
        """Run *run*: record it, wait if held, then return the scripted outcome."""
        del session  # scripted runs carry nothing
        self.calls.append((job, run))
        self.running[job.name] += 1
        try:
            gate = self._gates.get(job.name)
            if gate is not None:
                await gate.wait()
            script = self._scripts.get(job.name)
            if script is not None:
                return script(job, run)
            return RunOutcome(status=RunStatus.succeeded, output=f"ok {job.name}")
        finally:
            self.running[job.name] -= 1
