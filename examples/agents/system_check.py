"""A system check agent: disk, memory and load, written as a Markdown report.

symbiont runs it as a `command` agent: it reads its context from SYMBI_* variables,
prints the report (the run's output), writes a one-line summary to SYMBI_SUMMARY_FILE
(carried to the next run), and exits 1 when something is critical (the run fails).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
from pathlib import Path

WARN, CRITICAL = 85.0, 95.0


def disk_usage(paths: list[str]) -> list[tuple[str, float, int]]:
    """Return (path, percent used, free bytes) for each existing path."""
    rows = []
    for path in paths:
        if Path(path).exists():
            usage = shutil.disk_usage(path)
            rows.append((path, 100.0 * usage.used / usage.total, usage.free))
    return rows


def memory_percent() -> float | None:
    """Return the share of memory in use, from /proc/meminfo (Linux)."""
    try:
        info = {
            line.split(":")[0]: int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
        }
    except (OSError, ValueError, IndexError):
        return None
    return 100.0 * (1 - info["MemAvailable"] / info["MemTotal"])


def main() -> int:
    """Print the report; return 1 when a disk is critically full."""
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    disks = disk_usage(["/", os.environ.get("TMPDIR", "/tmp")])  # noqa: S108 - reading usage only
    memory = memory_percent()
    load = os.getloadavg()[0] / (os.cpu_count() or 1)
    lines = [f"# System check ({now})", "", "| disk | used | free |", "|---|---|---|"]
    lines += [f"| {p} | {pct:.1f}% | {free / 2**30:.1f} GiB |" for p, pct, free in disks]
    lines += ["", f"memory used: {memory:.1f}%" if memory is not None else "memory: n/a"]
    lines += [f"load per CPU (1 min): {load:.2f}"]
    worst = max((pct for _, pct, _ in disks), default=0.0)
    status = "CRITICAL" if worst >= CRITICAL else "WARNING" if worst >= WARN else "OK"
    previous = os.environ.get("SYMBI_PREVIOUS_SUMMARY")
    if previous:
        lines += ["", f"previous run: {previous}"]
    lines += ["", f"status: {status}"]
    report = "\n".join(lines)
    print(report)
    summary = f"{status}: disk {worst:.0f}%, load/cpu {load:.2f}"
    if memory is not None:
        summary += f", memory {memory:.0f}%"
    if os.environ.get("SYMBI_SUMMARY_FILE"):
        Path(os.environ["SYMBI_SUMMARY_FILE"]).write_text(summary)
    out_dir = Path(os.environ.get("SYMBI_REPORT_DIR", ".symbi/reports"))
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "system-check-latest.md").write_text(report + "\n")
    if status == "CRITICAL":
        print(f"disk above {CRITICAL:.0f}%", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
