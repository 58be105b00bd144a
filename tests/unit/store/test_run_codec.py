"""Run rows: the fast constructor and the row codec agree with the dataclass."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from symbiont.core.enums import RunStatus, RunTrigger
from symbiont.core.models import DeliveryResult, Run
from symbiont.store._sql import build_run, row_to_run, run_to_row

T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


def _full_run() -> Run:
    return Run(
        id="0190a0a0-0000-7000-8000-000000000001",
        job_id="job-1",
        job_name="nightly",
        trigger=RunTrigger.catchup,
        scheduled_for=T0,
        status=RunStatus.failed,
        attempt=3,
        input="hello",
        output="out",
        summary="sum",
        error_message="boom",
        iterations=4,
        started_at=T0 + timedelta(seconds=1),
        finished_at=T0 + timedelta(seconds=2),
        execution_time_ms=1000,
        deliveries=(DeliveryResult(channel="webhook", status="failed", error="500", attempts=3),),
        node_id="node-a",
        lease_expires_at=T0 + timedelta(seconds=30),
        details={"output_truncated": True},
        created_at=T0,
    )


def test_build_run_equals_the_keyword_constructor() -> None:
    """Every field lands in its own slot, in declaration order."""
    run = _full_run()
    values = [getattr(run, f.name) for f in dataclasses.fields(Run)]
    built = build_run(values)
    assert built == run
    assert type(built) is Run
    assert repr(built) == repr(run)


def test_rows_round_trip_a_run_with_every_field_set() -> None:
    """What the store writes it reads back unchanged, deliveries and details included."""
    run = _full_run()
    assert row_to_run(run_to_row(run)) == run
    bare = dataclasses.replace(run, deliveries=(), details={}, started_at=None, output=None)
    assert row_to_run(run_to_row(bare)) == bare
