"""`StdoutChannel`: a readable block per run on the daemon's standard output."""

from __future__ import annotations

import io

import pytest

from symbiont.core.enums import RunStatus
from symbiont.core.errors import DeliveryError
from symbiont.delivery import StdoutChannel
from tests.unit.delivery.helpers import make_job, make_run, settings

pytestmark = pytest.mark.anyio
RULE = "─" * 60


async def test_prints_job_run_status_and_output() -> None:
    """A successful run prints its job, run id, status, facts, link and output."""
    stream = io.StringIO()
    channel = StdoutChannel(settings(public_url="https://symbi.example.com/"), stream=stream)
    await channel.deliver(make_job(), make_run(), "3 disks ok\n")
    assert stream.getvalue() == (
        "┌ disk-check · run run-7f3a · succeeded\n"
        "│ agent disk-agent · trigger schedule · attempt 1 · took 2.4 s\n"
        "│ https://symbi.example.com/runs/run-7f3a\n"
        f"{RULE}\n"
        "3 disks ok\n"
        f"{RULE}\n"
    )


async def test_a_failed_run_shows_its_error_and_missing_output() -> None:
    """A failed run without output shows the error and ``(no output)``."""
    stream = io.StringIO()
    await StdoutChannel(settings(), stream=stream).deliver(
        make_job(), make_run(RunStatus.failed, execution_time_ms=None), ""
    )
    text = stream.getvalue()
    assert "┌ disk-check · run run-7f3a · failed\n" in text
    assert "took n/a" in text
    assert "│ error: exit status 2\n" in text
    assert f"{RULE}\n(no output)\n{RULE}\n" in text


async def test_a_closed_stream_is_a_failed_delivery() -> None:
    """Writing to a closed stream fails the delivery instead of raising ValueError."""
    stream = io.StringIO()
    stream.close()
    with pytest.raises(DeliveryError, match="cannot write to standard output"):
        await StdoutChannel(settings(), stream=stream).deliver(make_job(), make_run(), "x")


async def test_writes_to_the_process_stdout_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    """Without a stream the block goes to ``sys.stdout`` as it is at delivery time."""
    await StdoutChannel(settings()).deliver(make_job(), make_run(), "hello")
    assert "hello\n" in capsys.readouterr().out
