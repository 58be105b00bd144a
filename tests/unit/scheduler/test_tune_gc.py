"""The daemon process's garbage-collector settings."""

from __future__ import annotations

import subprocess
import sys

from symbiont.scheduler.daemon import GC_GEN0_THRESHOLD


def test_tune_gc_raises_the_young_threshold_and_freezes_start_up_objects() -> None:
    """Young collections become rare; what exists at start-up is never scanned again."""
    code = (
        "import gc; from symbiont.scheduler.daemon import tune_gc; "
        "before = gc.get_threshold(); tune_gc(); after = gc.get_threshold(); "
        "print(before[0], after[0], before[1:] == after[1:], gc.get_freeze_count() > 1000)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    assert out == ["700", str(GC_GEN0_THRESHOLD), "True", "True"]
