"""Policy: the pure gate every run passes before it starts, and AgentPin identity."""

from __future__ import annotations

from symbiont.policy.gate import PinCheck, PolicyContext, PolicyGate, evaluate

__all__ = ("PinCheck", "PolicyContext", "PolicyGate", "evaluate")
