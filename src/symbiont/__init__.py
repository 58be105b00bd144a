"""symbiont: a production scheduler for AI agents."""

from __future__ import annotations

from symbiont.core.errors import SymbiontError

__version__ = "0.1.0"

__all__ = ("SymbiontError", "__version__")
