"""The public surface of ``symbiont.runtime``."""

from __future__ import annotations

import symbiont.runtime


def test_all_is_a_sorted_tuple_of_public_names() -> None:
    """``__all__`` is a sorted tuple naming exactly the public, importable names."""
    assert isinstance(symbiont.runtime.__all__, tuple)
    assert list(symbiont.runtime.__all__) == sorted(symbiont.runtime.__all__)
    for name in symbiont.runtime.__all__:
        assert hasattr(symbiont.runtime, name), name
    public = {
        name
        for name, value in vars(symbiont.runtime).items()
        if not name.startswith("_") and not isinstance(value, type(symbiont))
    }
    assert public - {"annotations"} == set(symbiont.runtime.__all__)
