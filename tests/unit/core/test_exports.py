"""Public names: every package's __all__ matches what it defines, and the spec's names exist."""

from __future__ import annotations

import importlib

import pytest

PACKAGES = [
    "symbiont",
    "symbiont.core",
    "symbiont.cron",
    "symbiont.dsl",
    "symbiont.store",
    "symbiont.runtime",
    "symbiont.scheduler",
    "symbiont.service",
    "symbiont.testing",
]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_a_sorted_tuple_of_real_names(name: str) -> None:
    """__all__ is a tuple, and each name in it resolves on the package."""
    module = importlib.import_module(name)
    exported = module.__all__
    assert isinstance(exported, tuple)
    missing = [item for item in exported if not hasattr(module, item)]
    assert missing == []


def test_spec_names_are_aliases() -> None:
    """The spec's type names refer to symbiont's own types and values."""
    from symbiont import core  # noqa: PLC0415 - the subject of the test

    assert core.CronJobDefinition is core.Job
    assert core.JobRunRecord is core.Run
    assert core.HeartbeatContextMode is core.SessionMode
    assert core.SessionIsolationMode is core.SessionMode
    assert core.DeliveryChannel.LogFile == "log_file"
    assert core.SessionMode.EphemeralWithSummary == "ephemeral_with_summary"
    assert core.JobStatus.DeadLetter == "dead_letter"
    assert core.SecurityEventType.AgentPinVerificationFailed == "AgentPinVerificationFailed"
