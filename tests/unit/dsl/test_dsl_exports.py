"""The public surface of ``symbiont.dsl``."""

from __future__ import annotations

import symbiont.dsl


def test_all_is_a_sorted_tuple_of_public_names() -> None:
    """``__all__`` is a tuple naming exactly the public, importable names."""
    assert isinstance(symbiont.dsl.__all__, tuple)
    assert list(symbiont.dsl.__all__) == sorted(symbiont.dsl.__all__)
    for name in symbiont.dsl.__all__:
        assert hasattr(symbiont.dsl, name), name
    public = {
        name
        for name, value in vars(symbiont.dsl).items()
        if not name.startswith("_") and not isinstance(value, type(symbiont))
    }
    assert public - {"annotations"} == set(symbiont.dsl.__all__)


def test_dsl_error_is_the_core_error() -> None:
    """``symbiont.dsl.DslError`` is the class from ``symbiont.core.errors``."""
    from symbiont.core.errors import DslError  # noqa: PLC0415 - the import is what is tested

    assert symbiont.dsl.DslError is DslError
