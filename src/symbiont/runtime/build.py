"""`build_runtime`: the runtime that fits an agent definition."""

from __future__ import annotations

from symbiont.dsl import AgentSpec
from symbiont.runtime.base import AgentRuntime, RuntimeSettings
from symbiont.runtime.handler import HandlerRuntime
from symbiont.runtime.http import HttpRuntime
from symbiont.runtime.model import ModelRuntime
from symbiont.runtime.subprocess import SubprocessRuntime

__all__ = ("build_runtime",)


def build_runtime(agent: AgentSpec, settings: RuntimeSettings) -> AgentRuntime:
    """Return the runtime for *agent*'s kind.

    Nothing is resolved, imported or contacted here: placeholders are resolved, handlers
    imported and endpoints called when the agent is invoked, so a missing variable fails
    that agent's runs (with a clear error) rather than the daemon's start.

    Args:
        agent: a validated agent definition.
        settings: limits and the variables placeholders resolve against.

    Returns:
        A `SubprocessRuntime`, `HandlerRuntime`, `HttpRuntime` or `ModelRuntime`.
    """
    kind = agent.kind
    if kind == "command":
        return SubprocessRuntime(agent, settings)
    if kind == "handler":
        return HandlerRuntime(agent, settings)
    if kind == "url":
        return HttpRuntime(agent, settings)
    return ModelRuntime(agent, settings)
