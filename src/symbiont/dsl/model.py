"""The typed result of parsing a ``.symbi`` file: agents and schedules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Literal

from symbiont.core.enums import DeliverOn, MisfirePolicy, SessionMode
from symbiont.core.models import Heartbeat, Policy

AgentKind = Literal["command", "handler", "url", "model"]
"""How an agent runs: a process, a Python callable, an HTTP endpoint or an LLM."""

Provider = Literal["openai", "anthropic"]
"""The API dialect of a model agent's endpoint."""


def _empty_map() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentSpec:
    """One ``agent NAME { ... }`` block.

    Exactly one of ``command``, ``handler``, ``url`` and ``model`` is set; :attr:`kind`
    tells which. ``${VAR}`` placeholders stay as written in every string.
    """

    name: str
    """The agent's name, which schedules give as ``agent: "NAME"``."""
    path: str
    """The file the block comes from (``"<string>"`` for text)."""
    line: int
    """Line of the ``agent`` keyword."""
    column: int
    """Column of the ``agent`` keyword."""
    command: str | None = None
    """The command line as written (command agents)."""
    argv: tuple[str, ...] = ()
    """``command`` split with :func:`shlex.split`; run without a shell."""
    handler: str | None = None
    """``"pkg.module:function"`` (handler agents)."""
    url: str | None = None
    """The endpoint that receives a JSON POST per run (HTTP agents)."""
    model: str | None = None
    """The model name (LLM agents)."""
    system_prompt: str | None = None
    """The system prompt (LLM agents)."""
    provider: Provider | None = None
    """The endpoint's API dialect; ``None`` leaves the choice to the runtime."""
    base_url: str | None = None
    """The endpoint of an OpenAI-compatible or Anthropic API (LLM agents)."""
    api_key: str | None = None
    """The API key as a ``${VAR}`` placeholder, resolved only when the agent runs."""
    capabilities: tuple[str, ...] = ()
    """What the agent may do; policies check ``require_capabilities`` against it."""
    timeout: timedelta | None = None
    """Longest time one call of the agent may take."""
    env: Mapping[str, str] = field(default_factory=_empty_map)
    """Extra environment variables for the agent (values may hold placeholders)."""
    description: str | None = None
    """Free text for people."""

    @property
    def kind(self) -> AgentKind:
        """How the agent runs: ``"command"``, ``"handler"``, ``"url"`` or ``"model"``."""
        if self.command is not None:
            return "command"
        if self.handler is not None:
            return "handler"
        if self.url is not None:
            return "url"
        return "model"


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduleSpec:
    """One ``schedule { ... }`` block: when an agent runs, how, and where output goes.

    Exactly one of ``cron`` and ``at`` is set.
    """

    name: str
    """Unique job name; jobs are registered idempotently by it."""
    agent: str
    """The name of the agent to run (it may be defined in another file)."""
    path: str
    """The file the block comes from (``"<string>"`` for text)."""
    line: int
    """Line of the ``schedule`` keyword."""
    column: int
    """Column of the ``schedule`` keyword."""
    cron: str | None = None
    """A cron expression (5, 6 or 7 fields, or a macro), read in :attr:`timezone`."""
    at: datetime | None = None
    """The one instant a one-shot job runs, as an aware UTC datetime."""
    timezone: str = "UTC"
    """IANA zone the cron expression (and a naive ``at``) is read in."""
    session_mode: SessionMode = SessionMode.ephemeral_with_summary
    """What a run carries over from the previous ones."""
    delivery: tuple[str, ...] = ()
    """Channels: ``stdout``, ``log_file``, ``webhook``, ``slack``, ``email``, ``custom:NAME``."""
    deliver_on: DeliverOn = DeliverOn.always
    """Which runs are delivered: all of them, successes only or failures only."""
    webhook_url: str | None = None
    """Where the ``webhook`` channel POSTs."""
    webhook_headers: Mapping[str, str] = field(default_factory=_empty_map)
    """Extra HTTP headers of the ``webhook`` channel (values may hold placeholders)."""
    webhook_secret: str | None = None
    """A ``${VAR}`` placeholder for the key that signs webhook bodies."""
    slack_channel: str | None = None
    """The ``slack`` channel's target; ``None`` uses the daemon's ``slack_default_channel``."""
    email_recipients: tuple[str, ...] = ()
    """Addresses the ``email`` channel writes to."""
    policy: Policy = field(default_factory=Policy)
    """Conditions checked before each run."""
    heartbeat: Heartbeat = field(default_factory=Heartbeat)
    """The assess -> act -> sleep loop inside each run."""
    max_retries: int | None = None
    """Consecutive failures before dead-letter; ``None`` uses the daemon's default."""
    retry_delay: timedelta | None = None
    """Retry a failed occurrence after this delay, before the next scheduled one."""
    max_concurrent: int = 1
    """Most runs of this job at once across the cluster."""
    jitter_seconds: int = 0
    """Random delay of 0 to N seconds added to each start."""
    misfire_policy: MisfirePolicy = MisfirePolicy.run_once
    """What to do with occurrences missed while the daemon was down or the job paused."""
    agent_pin_jwt: str | None = None
    """The AgentPin ES256 JWT, usually a ``${VAR}`` placeholder."""
    input: str | None = None
    """The input each scheduled run gets."""
    description: str | None = None
    """Free text for people."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DslWarning:
    """Something valid but probably unintended; ``symbi validate`` prints it."""

    path: str
    """The file."""
    line: int
    """1-based line."""
    column: int
    """1-based column."""
    message: str
    """What looks wrong and what happens because of it."""

    def __str__(self) -> str:
        """Return ``path:line:col: warning: message``."""
        return f"{self.path}:{self.line}:{self.column}: warning: {self.message}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Document:
    """Everything one ``.symbi`` file defines."""

    path: str
    """The file (``"<string>"`` for text)."""
    agents: tuple[AgentSpec, ...] = ()
    """The agents, in source order; names are unique in a file."""
    schedules: tuple[ScheduleSpec, ...] = ()
    """The schedules, in source order; names are unique in a file."""
    warnings: tuple[DslWarning, ...] = ()
    """Valid but suspicious definitions, in source order."""

    def agent(self, name: str) -> AgentSpec | None:
        """Return the agent called *name*, or ``None`` if this file defines none."""
        return next((agent for agent in self.agents if agent.name == name), None)

    def schedule(self, name: str) -> ScheduleSpec | None:
        """Return the schedule called *name*, or ``None`` if this file defines none."""
        return next((item for item in self.schedules if item.name == name), None)
