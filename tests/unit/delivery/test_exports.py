"""The public surface of ``symbiont.delivery``."""

from __future__ import annotations

import symbiont.delivery


def test_all_is_a_sorted_tuple_of_public_names() -> None:
    """``__all__`` is a sorted tuple naming exactly the public, importable names."""
    assert isinstance(symbiont.delivery.__all__, tuple)
    assert list(symbiont.delivery.__all__) == sorted(symbiont.delivery.__all__)
    for name in symbiont.delivery.__all__:
        assert hasattr(symbiont.delivery, name), name
    public = {
        name
        for name, value in vars(symbiont.delivery).items()
        if not name.startswith("_") and not isinstance(value, type(symbiont))
    }
    assert public - {"annotations"} == set(symbiont.delivery.__all__)
