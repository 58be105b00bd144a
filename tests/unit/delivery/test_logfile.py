"""`LogFileChannel`: JSON lines per job, rotation by size, names that cannot escape the folder."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest

from symbiont.core.enums import RunStatus
from symbiont.core.errors import DeliveryError
from symbiont.delivery import LogFileChannel, LogFileSettings
from symbiont.delivery.logfile import MAX_STEM_CHARS, log_file_name
from tests.unit.delivery.helpers import InstantClock, make_job, make_run, settings

pytestmark = pytest.mark.anyio


def channel(folder: Path | None, *, max_bytes: int = 0, backups: int = 3) -> LogFileChannel:
    """A log_file channel writing under *folder*."""
    log_file = LogFileSettings(folder=folder, max_bytes=max_bytes, backups=backups)
    return LogFileChannel(settings(log_file=log_file), clock=InstantClock())


def listing(folder: Path) -> list[str]:
    """The names in *folder*, sorted."""
    return sorted(path.name for path in folder.iterdir())


def sizes(folder: Path) -> list[int]:
    """The sizes of the files in *folder*."""
    return [path.stat().st_size for path in folder.iterdir()]


def lines(path: Path) -> list[dict[str, object]]:
    """The JSON objects of a log file, one per line."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


async def test_each_run_appends_one_json_line(tmp_path: Path) -> None:
    """Two runs give two lines in ``<job>.log`` with every documented field."""
    logs = channel(tmp_path / "logs")
    job = make_job()
    await logs.deliver(job, make_run(), "3 disks ok\n")
    await logs.deliver(job, make_run(RunStatus.failed, id="run-2", attempt=2), "")
    first, second = lines(tmp_path / "logs" / "disk-check.log")
    assert first == {
        "ts": "2026-03-02T08:30:00Z",
        "job_id": "job-1",
        "job_name": "disk-check",
        "run_id": "run-7f3a",
        "status": "succeeded",
        "trigger": "schedule",
        "attempt": 1,
        "scheduled_for": "2026-03-02T08:30:00Z",
        "started_at": "2026-03-02T08:30:01Z",
        "finished_at": "2026-03-02T08:30:03.400000Z",
        "execution_time_ms": 2400,
        "output": "3 disks ok\n",
        "error_message": None,
    }
    assert (second["run_id"], second["status"], second["attempt"]) == ("run-2", "failed", 2)
    assert second["error_message"] == "exit status 2"


async def test_output_keeps_unicode_and_newlines_on_one_line(tmp_path: Path) -> None:
    """Multi-line, non-ASCII output stays one JSON line and reads back unchanged."""
    await channel(tmp_path).deliver(make_job(), make_run(), "naïve ✓\nline 2\n")
    text = (tmp_path / "disk-check.log").read_text(encoding="utf-8")
    assert text.count("\n") == 1
    assert "naïve ✓" in text
    assert lines(tmp_path / "disk-check.log")[0]["output"] == "naïve ✓\nline 2\n"


async def test_files_rotate_by_size_keeping_the_newest_backups(tmp_path: Path) -> None:
    """Past ``max_bytes`` the file becomes ``.1`` (older ones shift); only ``backups`` remain."""
    logs = channel(tmp_path, max_bytes=1000, backups=2)
    for number in range(8):
        await logs.deliver(make_job(), make_run(id=f"run-{number}"), "x" * 300)
    names = listing(tmp_path)
    assert names == ["disk-check.log", "disk-check.log.1", "disk-check.log.2"]
    current = [line["run_id"] for line in lines(tmp_path / "disk-check.log")]
    newest_backup = [line["run_id"] for line in lines(tmp_path / "disk-check.log.1")]
    oldest_backup = [line["run_id"] for line in lines(tmp_path / "disk-check.log.2")]
    assert (oldest_backup, newest_backup, current) == (["run-5"], ["run-6"], ["run-7"])
    assert all(size <= 1000 for size in sizes(tmp_path))


async def test_rotation_without_backups_starts_the_file_afresh(tmp_path: Path) -> None:
    """With ``backups = 0`` a full file is replaced, and no ``.1`` appears."""
    logs = channel(tmp_path, max_bytes=500, backups=0)
    for number in range(3):
        await logs.deliver(make_job(), make_run(id=f"run-{number}"), "y" * 300)
    assert listing(tmp_path) == ["disk-check.log"]
    assert [line["run_id"] for line in lines(tmp_path / "disk-check.log")] == ["run-2"]


async def test_concurrent_runs_never_interleave_or_lose_lines(tmp_path: Path) -> None:
    """Fifty concurrent deliveries of large outputs give fifty whole, parseable lines."""
    logs = channel(tmp_path)
    job = make_job()

    async def one(number: int) -> None:
        await logs.deliver(job, make_run(id=f"run-{number}"), str(number) * 20_000)

    async with anyio.create_task_group() as group:
        for number in range(50):
            group.start_soon(one, number)
    records = lines(tmp_path / "disk-check.log")
    assert sorted(str(record["run_id"]) for record in records) == sorted(
        f"run-{number}" for number in range(50)
    )
    assert all(record["output"] == record["run_id"][4:] * 20_000 for record in records)  # type: ignore[index]


@pytest.mark.parametrize(
    "name",
    ["../../etc/passwd", "/etc/passwd", "..", ".hidden", "a/b", "nul\x00byte", "spa ce", "é" * 300],
)
async def test_unsafe_names_stay_inside_the_folder(tmp_path: Path, name: str) -> None:
    """Whatever the job's name, its log is one safe file directly inside the log folder."""
    folder = tmp_path / "logs"
    await channel(folder).deliver(make_job(name=name), make_run(), "out")
    created = list(folder.iterdir())
    assert len(created) == 1
    file_name = created[0].name
    assert created[0].parent == folder
    assert not file_name.startswith(".")
    assert set(file_name) <= set(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"
    )
    assert len(file_name) <= MAX_STEM_CHARS + len(".log")
    assert listing(tmp_path) == ["logs"]


def test_safe_names_are_kept_and_changed_names_get_a_hash() -> None:
    """A safe name maps to itself; a changed one gets a hash, so names never collide."""
    assert log_file_name("disk-check_v2.1") == "disk-check_v2.1.log"
    assert log_file_name("a/b") != log_file_name("a_b")
    assert log_file_name("a/b").startswith("a_b-")
    assert log_file_name("..") == log_file_name("..")
    assert log_file_name("..") != log_file_name("...")


async def test_a_symbolic_link_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    """A job log that is a symbolic link leading outside the folder is not written through."""
    folder, outside = tmp_path / "logs", tmp_path / "outside.txt"
    folder.mkdir()
    outside.write_text("keep me\n")
    (folder / "disk-check.log").symlink_to(outside)
    with pytest.raises(DeliveryError, match="resolves outside the log folder"):
        await channel(folder).deliver(make_job(), make_run(), "out")
    assert outside.read_text() == "keep me\n"


async def test_no_folder_configured_is_a_clear_error(tmp_path: Path) -> None:
    """Without a log folder the channel fails, saying which setting to set."""
    with pytest.raises(DeliveryError) as caught:
        await channel(None).deliver(make_job(), make_run(), "out")
    assert caught.value.reason == "no log folder is configured: set SYMBI_LOG_DIR or [logging] dir"
    assert caught.value.retryable is False
    assert listing(tmp_path) == []


async def test_a_write_error_names_the_file(tmp_path: Path) -> None:
    """When the log path is taken by a folder, the failure names the file and the reason."""
    folder = tmp_path / "logs"
    (folder / "disk-check.log").mkdir(parents=True)
    with pytest.raises(DeliveryError) as caught:
        await channel(folder).deliver(make_job(), make_run(), "out")
    assert caught.value.reason == (
        f"cannot write {str(folder / 'disk-check.log')!r}: Is a directory"
    )
