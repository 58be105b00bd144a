"""The cron benchmark keeps working: its quick mode runs to completion and prints its table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_cron_benchmark_quick_run() -> None:
    """benchmarks/cron_next.py --quick exits 0 and prints a row per engine."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "cron_next.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for engine in ("symbiont", "croniter", "cronsim", "APScheduler 3"):
        assert f"| {engine} |" in result.stdout
    assert "next >= 20x faster than croniter" in result.stdout
