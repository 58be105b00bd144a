"""`StdoutChannel`: prints a readable block per run to the daemon's standard output."""

from __future__ import annotations

import sys
from typing import TextIO

from symbiont.core.errors import DeliveryError
from symbiont.core.models import Job, Run
from symbiont.delivery._base import duration_text
from symbiont.delivery.settings import DeliverySettings

__all__ = ("StdoutChannel", "format_block")

_RULE = "─" * 60


def format_block(job: Job, run: Run, output: str, link: str | None = None) -> str:
    """The block printed for one run: a header line, the facts, the output, the error."""
    lines = [
        f"┌ {job.name} · run {run.id} · {run.status}",
        (
            f"│ agent {job.agent_id} · trigger {run.trigger} · attempt {run.attempt}"
            f" · took {duration_text(run)}"
        ),
    ]
    if link is not None:
        lines.append(f"│ {link}")
    if run.error_message:
        lines.append(f"│ error: {run.error_message}")
    lines.append(_RULE)
    lines.append(output.rstrip("\n") if output else "(no output)")
    lines.append(_RULE)
    return "\n".join(lines) + "\n"


class StdoutChannel:
    """The ``stdout`` channel.

    Args:
        settings: the delivery settings (for the link to the run).
        stream: where to write (the daemon's ``sys.stdout`` unless given).
    """

    name = "stdout"
    retry_attempts = 0
    """A closed stdout does not reopen: never retry."""

    def __init__(self, settings: DeliverySettings, *, stream: TextIO | None = None) -> None:
        self._settings = settings
        self._stream = stream

    async def deliver(self, job: Job, run: Run, output: str) -> None:  # noqa: D102 - see Channel
        link = self._settings.run_url(run.id)
        stream = self._stream if self._stream is not None else sys.stdout
        try:
            # One write per block, with no await in between: concurrent runs never interleave.
            stream.write(format_block(job, run, output, link))
            stream.flush()
        except (OSError, ValueError) as exc:
            raise DeliveryError(self.name, f"cannot write to standard output: {exc}") from None
