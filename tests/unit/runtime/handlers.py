"""Handler agents used by the handler tests (imported by ``"module:function"``)."""

from __future__ import annotations

import threading

from symbiont.runtime import AgentContext, AgentReply

CALLS: list[str] = []
"""Names of the handlers called, with the thread they ran in."""

NOT_CALLABLE = 42


def sync_upper(context: AgentContext) -> str:
    """Return the input in capitals, noting the thread it ran in."""
    CALLS.append(f"sync_upper:{threading.current_thread() is threading.main_thread()}")
    return (context.input or "").upper()


async def async_reply(context: AgentContext) -> AgentReply:
    """Return a full reply with a summary and sleep on the second iteration."""
    return AgentReply(
        output=f"iteration {context.iteration}",
        summary=f"summary {context.iteration}",
        sleep=context.iteration >= 2,
    )


def as_dict(context: AgentContext) -> dict[str, object]:
    """Return the dict form of a reply."""
    return {"output": f"run {context.run_id}", "summary": "all good", "sleep": True}


def sleepy_text(context: AgentContext) -> str:
    """Return text whose last line is ``sleep``."""
    return f"checked {context.job_name}\nsleep\n"


def broken(context: AgentContext) -> str:
    """Fail like buggy user code does."""
    raise KeyError(context.job_name)


def wrong_type(context: AgentContext) -> int:
    """Return something that is not a reply."""
    return context.iteration


def bad_dict(context: AgentContext) -> dict[str, object]:
    """Return a dict whose output is not text."""
    return {"output": context.iteration, "sleep": "yes"}


class Agents:
    """Handlers reached through a dotted attribute."""

    @staticmethod
    def nested(context: AgentContext) -> str:
        """Return the job name."""
        return context.job_name
