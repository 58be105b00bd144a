"""The agent runtime: invoking agents of every kind and executing runs.

``build_runtime(agent, settings)`` gives the runtime of an agent definition;
``await execute_run(runtime, agent, job, run, session, settings, clock=clock)`` runs it
once for a job (heartbeat, session modes, limits) and returns a `RunResult`.
"""

from __future__ import annotations

from symbiont.core.errors import AgentRunError
from symbiont.runtime.base import (
    AgentContext,
    AgentReply,
    AgentRuntime,
    RunResult,
    RuntimeSettings,
)
from symbiont.runtime.build import build_runtime
from symbiont.runtime.executor import execute_run
from symbiont.runtime.handler import HandlerRuntime
from symbiont.runtime.http import HttpRuntime
from symbiont.runtime.model import ModelRuntime
from symbiont.runtime.subprocess import SubprocessRuntime
from symbiont.runtime.templates import TemplateError, resolve_template

__all__ = (
    "AgentContext",
    "AgentReply",
    "AgentRunError",
    "AgentRuntime",
    "HandlerRuntime",
    "HttpRuntime",
    "ModelRuntime",
    "RunResult",
    "RuntimeSettings",
    "SubprocessRuntime",
    "TemplateError",
    "build_runtime",
    "execute_run",
    "resolve_template",
)
