"""benchmarks/api.py keeps working: its quick mode measures all three endpoints."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_api_benchmark_quick() -> None:
    """The quick run prints one row per endpoint with no failed request."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "api.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith(("| GET", "| POST"))]
    assert len(rows) == 3
    assert all(row.rstrip(" |").endswith("| 0") for row in rows), rows
