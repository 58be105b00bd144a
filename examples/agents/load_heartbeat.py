"""A heartbeat agent: assess the load, act when it is high, then answer `sleep`.

Iteration 1 assesses. When the load per CPU is high it "acts" by listing the busiest
processes (from /proc) and asks for another look; the next iteration re-assesses with
the previous summary in SYMBI_PREVIOUS_SUMMARY. When all is calm it prints `sleep`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HIGH = 1.5
MAX_LOOKS = 3


def busiest(limit: int = 5) -> list[tuple[int, str, int]]:
    """Return (pid, command, cpu ticks) of the processes that used the most CPU."""
    rows = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            name = (entry / "comm").read_text().strip()
        except OSError:
            continue
        rows.append((int(entry.name), name, int(fields[11]) + int(fields[12])))
    return sorted(rows, key=lambda row: row[2], reverse=True)[:limit]


def main() -> int:
    """Print the assessment, the action taken, and `sleep` when done."""
    iteration = int(os.environ.get("SYMBI_ITERATION", "1"))
    load = os.getloadavg()[0] / (os.cpu_count() or 1)
    print(f"iteration {iteration}: load per CPU {load:.2f}")
    if os.environ.get("SYMBI_PREVIOUS_SUMMARY"):
        print(f"earlier: {os.environ['SYMBI_PREVIOUS_SUMMARY']}")
    if load >= HIGH and iteration < MAX_LOOKS:
        print("load is high; busiest processes:")
        for pid, name, ticks in busiest():
            print(f"  {pid:>7} {name:<20} {ticks} ticks")
        summary = f"high load {load:.2f}/cpu at iteration {iteration}"
    else:
        summary = f"load {load:.2f}/cpu, nothing to do"
        print(summary)
        print("sleep")
    if os.environ.get("SYMBI_SUMMARY_FILE"):
        Path(os.environ["SYMBI_SUMMARY_FILE"]).write_text(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
