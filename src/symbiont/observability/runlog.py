"""The run log: one structured line per finished run, fed by scheduler events."""

from __future__ import annotations

import structlog

from symbiont.core.enums import RunStatus
from symbiont.core.events import Event, EventBus, RunFinished

_log = structlog.get_logger("symbiont.runs")
_PREVIEW = 200


def _on_event(event: Event) -> None:
    if not isinstance(event, RunFinished):
        return
    run = event.run
    fields = {
        "job": run.job_name,
        "run_id": run.id,
        "status": run.status.value,
        "trigger": run.trigger.value,
        "attempt": run.attempt,
        "iterations": run.iterations,
        "duration_ms": run.execution_time_ms,
    }
    if run.output:
        fields["output"] = run.output.strip()[:_PREVIEW]
    if run.error_message:
        fields["error"] = run.error_message[:_PREVIEW]
    if event.dead_lettered:
        fields["dead_lettered"] = True
    if run.status is RunStatus.succeeded:
        _log.info("run.finished", **fields)
    else:
        _log.warning("run.finished", **fields)


def log_runs(events: EventBus) -> None:
    """Log every finished run on *events* (status, timing, a preview of output or error)."""
    events.subscribe(_on_event)
