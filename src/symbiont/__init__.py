"""symbiont: a production scheduler for AI agents."""

from __future__ import annotations

from symbiont.client import AsyncSymbiontClient, SymbiontClient
from symbiont.core.errors import SymbiontError

__version__ = "0.1.0"

__all__ = ("AsyncSymbiontClient", "SymbiontClient", "SymbiontError", "__version__")
