"""The benchmark scripts keep working: each runs its quick mode to completion."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.postgres
def test_store_benchmark_quick(postgres_url: str) -> None:
    """benchmarks/store.py --quick prints a table with a ratio for both backends."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "store.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={"SYMBI_TEST_POSTGRES_URL": postgres_url, "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert "| sqlite | read 100 due of 3,000 |" in result.stdout
    assert "| postgres | claim_due 100 (with writes) |" in result.stdout
