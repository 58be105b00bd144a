"""`HandlerRuntime`: handler agents, a Python callable given the `AgentContext`."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from functools import partial
from typing import Any

import anyio.to_thread

from symbiont.core.errors import AgentRunError
from symbiont.dsl import AgentSpec
from symbiont.runtime._base import reply_from_value
from symbiont.runtime.base import AgentContext, AgentReply, RuntimeSettings

__all__ = ("HandlerRuntime",)


class HandlerRuntime:
    """Calls a handler agent's ``"pkg.module:function"`` with the `AgentContext`.

    The callable is imported on the first invocation and kept. Coroutine functions are
    awaited on the event loop; plain functions run in a worker thread. A sync handler
    cannot be interrupted: on cancellation the run ends at once and the thread is left
    to finish on its own (its result is dropped).

    Args:
        agent: a handler agent (``agent.handler`` is set).
        settings: the output cap.
    """

    def __init__(self, agent: AgentSpec, settings: RuntimeSettings) -> None:
        if agent.handler is None:
            raise ValueError(f"agent {agent.name!r} is not a handler agent")
        self._agent = agent
        self._target = agent.handler
        self._settings = settings
        self._function: Callable[[AgentContext], Any] | None = None
        self._is_async = False

    async def invoke(self, context: AgentContext) -> AgentReply:  # noqa: D102 - see AgentRuntime
        function = self._load()
        if self._is_async:
            value = await function(context)
        else:
            value = await anyio.to_thread.run_sync(
                partial(function, context), abandon_on_cancel=True
            )
            if inspect.isawaitable(value):
                value = await value
        return reply_from_value(
            value, self._agent.name, self._settings.max_output_bytes, source="the handler"
        )

    def _load(self) -> Callable[[AgentContext], Any]:
        if self._function is None:
            self._function = load_callable(self._agent.name, self._target)
            self._is_async = inspect.iscoroutinefunction(self._function)
        return self._function


def load_callable(agent: str, target: str) -> Callable[[AgentContext], Any]:
    """Import ``"pkg.module:function"`` (the attribute may be dotted: ``"mod:Class.method"``).

    Raises:
        AgentRunError: the target is malformed, the module cannot be imported, or it has
            no such callable attribute (not retryable).
    """
    module_name, sep, attribute = target.partition(":")
    if not sep or not module_name or not attribute:
        raise AgentRunError(agent, f"handler {target!r} must look like 'pkg.module:function'")
    try:
        value: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise AgentRunError(
            agent,
            f"cannot import handler module {module_name!r}: no module named {exc.name!r}; "
            "install it or put its folder on PYTHONPATH",
        ) from None
    except Exception as exc:  # noqa: BLE001 - any error raised while importing user code
        raise AgentRunError(
            agent, f"importing handler module {module_name!r} failed: {type(exc).__name__}: {exc}"
        ) from None
    for part in attribute.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            raise AgentRunError(
                agent, f"handler module {module_name!r} has no attribute {attribute!r}"
            ) from None
    if not callable(value):
        raise AgentRunError(
            agent, f"handler {target!r} is not callable (got {type(value).__name__})"
        )
    function: Callable[[AgentContext], Any] = value
    return function
