"""The public surface of ``symbiont.policy.agentpin``."""

from __future__ import annotations

from symbiont.policy import agentpin


def test_all_is_a_tuple_of_real_names() -> None:
    """``__all__`` is a tuple (ruff RUF022 keeps it sorted), each name resolving on the module."""
    assert isinstance(agentpin.__all__, tuple)
    assert [name for name in agentpin.__all__ if not hasattr(agentpin, name)] == []


def test_every_public_definition_is_exported() -> None:
    """Each public class, function and constant of AgentPin (and its helpers) is in __all__."""
    homes = {"symbiont.policy.agentpin", "symbiont.policy._agentpin_keys"}
    defined = {
        name
        for name, value in vars(agentpin).items()
        if not name.startswith("_")
        and (
            getattr(value, "__module__", None) in homes
            or (name.isupper() and isinstance(value, str | int))
        )
    }
    helpers = {"shown", "b64url_decode"}  # used by the verifier, not part of the API
    assert defined - helpers == set(agentpin.__all__)
