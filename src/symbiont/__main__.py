"""``python -m symbiont``: the same as the ``symbi`` command."""

from __future__ import annotations

from symbiont.cli.main import main

main()
