"""Blocks and their schemas: reading ``key: value`` entries into typed values."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from symbiont.core.enums import SessionMode
from symbiont.core.models import AllowedHours, Heartbeat, Policy
from symbiont.dsl import _convert as conv
from symbiont.dsl._convert import Invalid, found, suggest
from symbiont.dsl._parser import Entry, ListNode, Table, Value

Converter = Callable[[str, Value], Any]
"""Turns one value (named by its key) into a typed value or raises Invalid."""


@dataclass(frozen=True, slots=True)
class Field:
    """A key's converted value and the entry it came from."""

    entry: Entry
    """The ``key: value`` entry."""
    value: Any
    """The converted value."""


def read_block(table: Table, schema: Mapping[str, Converter], where: str) -> dict[str, Field]:
    """Convert every entry of *table* with *schema*; *where* names the block in errors."""
    fields: dict[str, Field] = {}
    for entry in table.entries:
        if entry.label is not None:
            problem = f"'{entry.key}' takes no name here: write '{entry.key} {{ ... }}'"
            raise Invalid(entry.label, problem, key=entry.key)
        convert = schema.get(entry.key)
        if convert is None:
            raise _unknown_key(entry, schema, where)
        fields[entry.key] = Field(entry, convert(entry.key, entry.value))
    return fields


def _unknown_key(entry: Entry, schema: Mapping[str, Converter], where: str) -> Invalid:
    hint = suggest(entry.key, schema)
    problem = f"unknown key '{entry.key}' in {where}"
    if hint is None:
        problem += f"; allowed keys: {', '.join(sorted(schema))}"
    return Invalid(entry, problem, key=entry.key, suggestion=hint)


def block(key: str, node: Value) -> Table:
    """Return *node* if it is a ``{ ... }`` block; raise Invalid naming *key* otherwise."""
    if not isinstance(node, Table):
        raise Invalid(node, f"'{key}' expects a block {{ ... }}, got {found(node)}", key=key)
    return node


def field_values(fields: Mapping[str, Field]) -> dict[str, Any]:
    """Return the converted values of *fields* by key."""
    return {key: field.value for key, field in fields.items()}


# -- nested blocks ------------------------------------------------------------------------

_ALLOWED_HOURS: dict[str, Converter] = {
    "start": conv.time_of_day,
    "end": conv.time_of_day,
    "timezone": conv.timezone,
}


def allowed_hours(key: str, node: Value) -> AllowedHours:
    """``allowed_hours { start: "00:00" end: "04:00" timezone: "UTC" }``."""
    table = block(key, node)
    fields = read_block(table, _ALLOWED_HOURS, key)
    for required in ("start", "end"):
        if required not in fields:
            raise Invalid(table, f"'{key}' needs '{required}' (a time \"HH:MM\")", key=required)
    if fields["start"].value == fields["end"].value:
        problem = f"'{key}' start and end are equal: the window would be empty"
        raise Invalid(fields["end"].entry.value, problem, key="end")
    return AllowedHours(**field_values(fields))


_POLICY: dict[str, Converter] = {
    "require_approval": conv.boolean,
    "approvers": conv.string_list,
    "max_runtime": conv.duration,
    "require_capabilities": conv.string_list,
    "allowed_hours": allowed_hours,
    "allowed_environments": conv.string_list,
    "require_agent_pin": conv.boolean,
}


def policy(key: str, node: Value) -> Policy:
    """``policy { ... }``: the conditions checked before each run."""
    return Policy(**field_values(read_block(block(key, node), _POLICY, key)))


_HEARTBEAT: dict[str, Converter] = {
    "enabled": conv.boolean,
    "context_mode": conv.enum(SessionMode),
    "max_iterations": conv.integer(1),
}


def heartbeat(key: str, node: Value) -> Heartbeat:
    """``heartbeat { ... }``; writing the block turns it on unless ``enabled: false``."""
    values = field_values(read_block(block(key, node), _HEARTBEAT, key))
    values.setdefault("enabled", True)
    return Heartbeat(**values)


CHANNELS = ("stdout", "log_file", "webhook", "slack", "email")


def delivery(key: str, node: Value) -> tuple[str, ...]:
    """A list of channel names: the built-in ones or ``custom:NAME``."""
    channels = conv.string_list(key, node)
    items = node.items if isinstance(node, ListNode) else ()
    seen: set[str] = set()
    for channel, item in zip(channels, items, strict=True):
        if channel in seen:
            raise Invalid(item, f"'{key}' lists channel '{channel}' twice", key=key)
        seen.add(channel)
        custom = channel.removeprefix("custom:")
        if channel in CHANNELS or (custom != channel and conv.NAME_RE.fullmatch(custom)):
            continue
        if custom != channel:
            problem = f"'{key}' has a bad custom channel '{channel}': write \"custom:NAME\""
            raise Invalid(item, problem, key=key)
        problem = f"unknown delivery channel '{channel}': use {', '.join(CHANNELS)} or custom:NAME"
        raise Invalid(item, problem, key=key, suggestion=suggest(channel, CHANNELS))
    return channels
