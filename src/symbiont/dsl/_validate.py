"""Schema checks: the syntax tree of a file to typed agents and schedules."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from datetime import UTC
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from symbiont.core.enums import DeliverOn, MisfirePolicy, SessionMode
from symbiont.core.errors import DslError
from symbiont.cron import CronExpression
from symbiont.dsl import _convert as conv
from symbiont.dsl._blocks import (
    Converter,
    Field,
    block,
    delivery,
    field_values,
    heartbeat,
    policy,
    read_block,
)
from symbiont.dsl._convert import Invalid, suggest
from symbiont.dsl._parser import Entry, ListNode, Scalar
from symbiont.dsl.model import AgentSpec, Document, DslWarning, ScheduleSpec

# -- agents -------------------------------------------------------------------------------

_AGENT_KINDS = ("command", "handler", "url", "model")
_MODEL_ONLY = ("system_prompt", "provider", "base_url", "api_key")
_AGENT: dict[str, Converter] = {
    "name": conv.name,
    "command": conv.command,
    "handler": conv.handler,
    "url": conv.http_url,
    "model": conv.text,
    "system_prompt": conv.text,
    "provider": conv.choice("openai", "anthropic"),
    "base_url": conv.http_url,
    "api_key": conv.secret,
    "capabilities": conv.string_list,
    "timeout": conv.duration,
    "env": conv.env_map,
    "description": conv.string,
}


def _block_name(entry: Entry, fields: Mapping[str, Field]) -> str:
    """The block's name, from its header (``agent NAME {``) or its ``name:`` key."""
    what = entry.key
    inner = fields.get("name")
    if entry.label is None:
        if inner is None:
            problem = f"{what} needs a name: write '{what} NAME {{ ... }}' or 'name: \"...\"'"
            raise Invalid(entry, problem, key="name")
        return str(inner.value)
    header = conv.name(what, entry.label)
    if inner is not None and inner.value != header:
        problem = f"{what} is named '{header}' in its header but '{inner.value}' here: keep one"
        raise Invalid(inner.entry.value, problem, key="name")
    return header


def _agent_kind(name: str, block: Entry, fields: Mapping[str, Field]) -> str:
    kinds = [kind for kind in _AGENT_KINDS if kind in fields]
    allowed = "'command', 'handler', 'url' or 'model'"
    if not kinds:
        raise Invalid(block, f"agent '{name}' needs one of {allowed}", key="command")
    if len(kinds) > 1:
        second = fields[kinds[1]].entry
        problem = f"agent '{name}' has both '{kinds[0]}' and '{kinds[1]}': keep one of {allowed}"
        raise Invalid(second, problem, key=kinds[1])
    kind = kinds[0]
    for key in _MODEL_ONLY:
        if key in fields and kind != "model":
            problem = f"'{key}' applies only to model agents; agent '{name}' is a {kind} agent"
            raise Invalid(fields[key].entry, problem, key=key)
    if kind == "model" and "system_prompt" not in fields:
        problem = f"model agent '{name}' needs 'system_prompt'"
        raise Invalid(block, problem, key="system_prompt")
    return kind


def agent(entry: Entry, path: str) -> AgentSpec:
    """Build the :class:`AgentSpec` of one ``agent NAME { ... }`` entry."""
    table = block(entry.key, entry.value)
    fields = read_block(table, _AGENT, "agent")
    name = _block_name(entry, fields)
    _agent_kind(name, entry, fields)
    values = field_values(fields)
    values["name"] = name
    if "command" in values:
        values["argv"] = tuple(shlex.split(values["command"]))
    if "env" in values:
        values["env"] = MappingProxyType(values["env"])
    return AgentSpec(path=path, line=entry.line, column=entry.column, **values)


# -- schedules ----------------------------------------------------------------------------

_SCHEDULE: dict[str, Converter] = {
    "name": conv.name,
    "agent": conv.name,
    "cron": conv.text,
    "at": conv.instant,
    "timezone": conv.timezone,
    "session_mode": conv.enum(SessionMode),
    "delivery": delivery,
    "deliver_on": conv.enum(DeliverOn),
    "webhook_url": conv.http_url,
    "webhook_headers": conv.header_map,
    "webhook_secret": conv.secret,
    "slack_channel": conv.text,
    "email_recipients": conv.email_list,
    "policy": policy,
    "heartbeat": heartbeat,
    "max_retries": conv.integer(0),
    "retry_delay": conv.duration,
    "max_concurrent": conv.integer(1),
    "jitter_seconds": conv.integer(0),
    "misfire_policy": conv.enum(MisfirePolicy),
    "agent_pin_jwt": conv.text,
    "input": conv.string,
    "description": conv.string,
}


def _when(name: str, block: Entry, fields: Mapping[str, Field], values: dict[str, Any]) -> None:
    """Check ``cron`` / ``at`` against ``timezone``; store ``at`` as aware UTC."""
    if "cron" in fields and "at" in fields:
        later = max(fields["cron"].entry, fields["at"].entry, key=lambda e: (e.line, e.column))
        problem = f"schedule '{name}' has both 'cron' and 'at': keep one"
        raise Invalid(later, problem, key=later.key)
    zone = values.get("timezone", "UTC")
    if "cron" in fields:
        try:
            CronExpression.parse(values["cron"], timezone=zone, seed=name)
        except ValueError as exc:  # CronError, or any other complaint about the value
            raise Invalid(fields["cron"].entry.value, str(exc), key="cron") from None
    elif "at" in fields:
        moment = values["at"]
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo(zone))
        try:
            values["at"] = moment.astimezone(UTC)
        except OverflowError:
            problem = "'at' is out of range: use a time between years 1 and 9999 in UTC"
            raise Invalid(fields["at"].entry.value, problem, key="at") from None
    else:
        problem = f"schedule '{name}' needs 'cron' (recurring) or 'at' (one-shot)"
        raise Invalid(block, problem, key="cron")


def _channels(name: str, fields: Mapping[str, Field]) -> None:
    """Check that every channel in ``delivery`` has the keys it needs."""
    if "delivery" not in fields:
        return
    needs = {"webhook": "webhook_url", "email": "email_recipients"}
    node = fields["delivery"].entry.value
    for item in node.items if isinstance(node, ListNode) else ():
        channel = str(item.value) if isinstance(item, Scalar) else ""
        required = needs.get(channel)
        if required is not None and required not in fields:
            problem = f"schedule '{name}' delivers to '{channel}' but has no '{required}'"
            raise Invalid(item, problem, key=required)


_CHANNEL_KEYS = {
    "webhook_url": "webhook",
    "webhook_headers": "webhook",
    "webhook_secret": "webhook",
    "slack_channel": "slack",
    "email_recipients": "email",
}


def _warnings(name: str, fields: Mapping[str, Field], path: str) -> list[DslWarning]:
    """Valid but suspicious: channel settings for unused channels, a pin with no token."""
    notes: list[tuple[Entry, str]] = []
    channels = fields["delivery"].value if "delivery" in fields else ()
    for key, channel in _CHANNEL_KEYS.items():
        if key in fields and channel not in channels:
            message = f"'{key}' has no effect: '{channel}' is not in 'delivery'"
            notes.append((fields[key].entry, message))
    policy_field = fields.get("policy")
    pin_required = policy_field is not None and policy_field.value.require_agent_pin
    if policy_field is not None and pin_required and "agent_pin_jwt" not in fields:
        message = (
            f"schedule '{name}' requires an AgentPin but has no 'agent_pin_jwt': "
            "its runs will be denied until one is set"
        )
        notes.append((policy_field.entry, message))
    return [
        DslWarning(path=path, line=entry.line, column=entry.column, message=message)
        for entry, message in notes
    ]


def schedule(entry: Entry, path: str, warnings: list[DslWarning]) -> ScheduleSpec:
    """Build the :class:`ScheduleSpec` of one ``schedule { ... }`` entry.

    Warnings about the block are appended to *warnings*.
    """
    table = block(entry.key, entry.value)
    fields = read_block(table, _SCHEDULE, "schedule")
    name = _block_name(entry, fields)
    if "agent" not in fields:
        raise Invalid(entry, f"schedule '{name}' needs 'agent'", key="agent")
    values = field_values(fields)
    values["name"] = name
    _when(name, entry, fields, values)
    _channels(name, fields)
    warnings.extend(_warnings(name, fields, path))
    if "webhook_headers" in values:
        values["webhook_headers"] = MappingProxyType(values["webhook_headers"])
    return ScheduleSpec(path=path, line=entry.line, column=entry.column, **values)


# -- documents ----------------------------------------------------------------------------

_TOP_LEVEL = ("agent", "schedule")


def _check_unique(kind: str, items: list[Any], entries: list[Entry]) -> None:
    seen: dict[str, Entry] = {}
    for item, entry in zip(items, entries, strict=True):
        first = seen.setdefault(item.name, entry)
        if first is not entry:
            problem = (
                f"duplicate {kind} '{item.name}' (first defined at {first.line}:{first.column})"
            )
            raise Invalid(entry, problem, key="name")


def _document(entries: tuple[Entry, ...], path: str) -> Document:
    agents: list[AgentSpec] = []
    agent_entries: list[Entry] = []
    schedules: list[ScheduleSpec] = []
    schedule_entries: list[Entry] = []
    warnings: list[DslWarning] = []
    for entry in entries:
        if entry.key == "agent":
            agents.append(agent(entry, path))
            agent_entries.append(entry)
        elif entry.key == "schedule":
            schedules.append(schedule(entry, path, warnings))
            schedule_entries.append(entry)
        else:
            problem = (
                f"unknown top-level key '{entry.key}': a file holds 'agent NAME {{ ... }}' "
                "and 'schedule { ... }' blocks"
            )
            raise Invalid(entry, problem, key=entry.key, suggestion=suggest(entry.key, _TOP_LEVEL))
    _check_unique("agent", agents, agent_entries)
    _check_unique("schedule", schedules, schedule_entries)
    return Document(
        path=path, agents=tuple(agents), schedules=tuple(schedules), warnings=tuple(warnings)
    )


def build_document(entries: tuple[Entry, ...], path: str) -> Document:
    """Validate the top-level *entries* of one file and build its :class:`Document`.

    Args:
        entries: the parsed top-level entries.
        path: the file name used in errors and kept on every result.

    Returns:
        The file's agents and schedules.

    Raises:
        DslError: a schema rule is broken; the message locates and explains it.
    """
    try:
        return _document(entries, path)
    except Invalid as exc:
        raise DslError(
            path, exc.line, exc.column, exc.problem, key=exc.key, suggestion=exc.suggestion
        ) from None
