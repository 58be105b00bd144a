"""benchmarks/dispatch.py keeps working: its quick mode runs every engine and prints the tables."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_dispatch_benchmark_quick() -> None:
    """--quick runs a burst per engine, a steady and an idle window, and prints the tables."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "dispatch.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "| N | engine | T → last start |" in out
    for engine in ("symbiont", "aps-asyncio-memory", "aps-background-sqlalchemy"):
        assert f"| 200 | {engine} |" in out
    assert "failed" not in out, out
    assert "## steady" in out
    assert "## idle" in out
    assert "| target (symbiont, SQLite) | measured | met |" in out
