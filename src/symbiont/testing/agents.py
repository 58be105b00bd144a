"""Handler agents for tests and demos: ``handler: "symbiont.testing.agents:echo"``."""

from __future__ import annotations

import anyio

from symbiont.runtime.base import AgentContext, AgentReply


async def echo(context: AgentContext) -> AgentReply:
    """Answer with the job name, run id and input; ends a heartbeat at once."""
    text = f"{context.job_name} {context.run_id} {context.input or ''}".strip()
    return AgentReply(output=text, summary=f"echoed {context.job_name}", sleep=True)


async def slow(context: AgentContext) -> AgentReply:
    """Take three seconds (long enough to kill a node mid-run), then answer like `echo`."""
    await anyio.sleep(3)
    return await echo(context)
