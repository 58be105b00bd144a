"""Value converters: one syntax-tree value to one typed Python value, or an error."""

from __future__ import annotations

import difflib
import functools
import re
import shlex
import zoneinfo
from collections.abc import Callable, Iterable
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Protocol, TypeVar
from urllib.parse import urlsplit

from symbiont.core.durations import parse_duration
from symbiont.dsl._lexer import shorten
from symbiont.dsl._parser import ListNode, Scalar, Table, Value
from symbiont.dsl._templates import has_template

E = TypeVar("E", bound=StrEnum)

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}", re.ASCII)
"""Safe agent and schedule names."""
_NAME_RULE = "1-128 letters, digits, '.', '_' or '-', starting with a letter or digit"
_HANDLER_RE = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*", re.ASCII)
_ENV_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)
_HEADER_RE = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", re.ASCII)
_EMAIL_RE = re.compile(r"[^@\s<>,]+@[^@\s<>,]+\.[^@\s<>,]+")
_TIME_RE = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])(?::([0-5][0-9]))?", re.ASCII)
_INT_LIMIT = 2**31 - 1
_SHOWN = 40
"""Longest string shown whole in an error message."""


class Located(Protocol):
    """Anything with a source position: tokens, values, entries."""

    @property
    def line(self) -> int:
        """1-based line."""
        ...

    @property
    def column(self) -> int:
        """1-based column."""
        ...


class Invalid(Exception):
    """A value (or block) that does not validate; carries its position."""

    def __init__(
        self,
        node: Located,
        problem: str,
        *,
        key: str | None = None,
        suggestion: str | None = None,
    ) -> None:
        """Record *problem* at the position of *node*."""
        super().__init__(problem)
        self.line = node.line
        self.column = node.column
        self.problem = problem
        self.key = key
        self.suggestion = suggestion


def suggest(word: str, choices: Iterable[str]) -> str | None:
    """Return the choice closest to *word*, or ``None`` when none is close.

    A choice equal but for case, ``_`` and ``-`` wins, then the only choice that starts
    with *word*, then the closest by :func:`difflib.get_close_matches`.
    """
    options = list(choices)

    def squash(text: str) -> str:
        return text.lower().replace("_", "").replace("-", "")

    for option in options:
        if squash(option) == squash(word):
            return option
    starting = [
        option for option in options if squash(word) and squash(option).startswith(squash(word))
    ]
    if len(starting) == 1:
        return starting[0]
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return close[0] if close else None


def found(node: Value) -> str:
    """Describe *node* for an error message: ``string "x"``, ``integer 3``, ``a list``."""
    if isinstance(node, ListNode):
        return "a list [...]"
    if isinstance(node, Table):
        return "a block { ... }"
    if node.kind == "string":
        return f'string "{shorten(str(node.value), _SHOWN)}"'
    if node.kind == "boolean":
        return f"boolean {str(node.value).lower()}"
    return f"{node.kind} {node.value}"


def _expect(key: str, node: Value, what: str) -> Invalid:
    return Invalid(node, f"'{key}' expects {what}, got {found(node)}", key=key)


def string(key: str, node: Value) -> str:
    """A string (may be empty)."""
    if not isinstance(node, Scalar) or node.kind != "string":
        raise _expect(key, node, "a string in quotes")
    return str(node.value)


def text(key: str, node: Value) -> str:
    """A non-empty string."""
    value = string(key, node)
    if not value.strip():
        raise Invalid(node, f"'{key}' must not be empty", key=key)
    return value


def name(key: str, node: Value) -> str:
    """A safe agent or schedule name."""
    value = string(key, node)
    if NAME_RE.fullmatch(value) is None:
        raise _expect(key, node, f"a name of {_NAME_RULE}")
    return value


def boolean(key: str, node: Value) -> bool:
    """``true`` or ``false``."""
    if not isinstance(node, Scalar) or node.kind != "boolean":
        raise _expect(key, node, "true or false")
    return bool(node.value)


def integer(minimum: int) -> Callable[[str, Value], int]:
    """An integer of at least *minimum* (and at most 2**31 - 1)."""

    def convert(key: str, node: Value) -> int:
        what = f"an integer >= {minimum}"
        if not isinstance(node, Scalar) or node.kind != "integer":
            raise _expect(key, node, what)
        value = int(node.value)
        if value < minimum:
            raise _expect(key, node, what)
        if value > _INT_LIMIT:
            raise _expect(key, node, f"an integer between {minimum} and {_INT_LIMIT}")
        return value

    return convert


def duration(key: str, node: Value) -> timedelta:
    """A positive duration: ``90s``, ``"5m"``, ``"1h30m"`` or whole seconds."""
    what = 'a duration such as "5m", 90s or "1h30m"'
    if not isinstance(node, Scalar) or node.kind not in {"string", "duration", "integer"}:
        raise _expect(key, node, what)
    try:
        value = parse_duration(str(node.value))
    except ValueError as exc:
        if node.kind == "integer":
            raise _expect(key, node, what) from None
        raise Invalid(node, f"'{key}' expects a duration: {exc}", key=key) from None
    if value <= timedelta(0):
        raise _expect(key, node, f"a duration above zero ({what})")
    return value


def enum(cls: type[E]) -> Callable[[str, Value], E]:
    """One of the values of *cls* (the spec's CamelCase aliases are accepted too)."""

    def convert(key: str, node: Value) -> E:
        value = string(key, node)
        choices = [member.value for member in cls if member.name == member.value]
        if value in cls.__members__:
            return cls.__members__[value]
        if value in choices:
            return cls(value)
        problem = f"'{key}' expects one of {', '.join(choices)}, got {found(node)}"
        raise Invalid(node, problem, key=key, suggestion=suggest(value, choices))

    return convert


def choice(*options: str) -> Callable[[str, Value], str]:
    """One of the strings *options*."""

    def convert(key: str, node: Value) -> str:
        value = string(key, node)
        if value not in options:
            problem = f"'{key}' expects one of {', '.join(options)}, got {found(node)}"
            raise Invalid(node, problem, key=key, suggestion=suggest(value, options))
        return value

    return convert


def string_list(key: str, node: Value) -> tuple[str, ...]:
    """A list of non-empty strings."""
    if not isinstance(node, ListNode):
        raise _expect(key, node, 'a list of strings such as ["a", "b"]')
    items: list[str] = []
    for item in node.items:
        if not isinstance(item, Scalar) or item.kind != "string":
            raise Invalid(item, f"'{key}' items must be strings, got {found(item)}", key=key)
        if not str(item.value).strip():
            raise Invalid(item, f"'{key}' items must not be empty", key=key)
        items.append(str(item.value))
    return tuple(items)


def _string_map(
    key: str, node: Value, key_re: re.Pattern[str], key_rule: str, *, one_line: bool = False
) -> dict[str, str]:
    if not isinstance(node, Table):
        raise _expect(key, node, 'a map such as { "NAME": "value" }')
    result: dict[str, str] = {}
    for entry in node.entries:
        if entry.label is not None or key_re.fullmatch(entry.key) is None:
            problem = f"'{key}' has a bad name {entry.key!r}: {key_rule}"
            raise Invalid(entry, problem, key=key)
        value = string(f"{key}.{entry.key}", entry.value)
        if one_line and ("\n" in value or "\r" in value):
            problem = f"'{key}' value of {entry.key!r} must stay on one line"
            raise Invalid(entry.value, problem, key=key)
        result[entry.key] = value
    return result


def env_map(key: str, node: Value) -> dict[str, str]:
    """Environment variables: ``{ NAME: "value" }``."""
    rule = "use letters, digits and '_', not starting with a digit"
    return _string_map(key, node, _ENV_NAME_RE, rule)


def header_map(key: str, node: Value) -> dict[str, str]:
    """HTTP headers: ``{ "Name": "value" }``; values stay on one line."""
    rule = "use an HTTP header name such as 'Content-Type'"
    return _string_map(key, node, _HEADER_RE, rule, one_line=True)


def command(key: str, node: Value) -> str:
    """A command line, split like a POSIX shell would but never run by one."""
    value = text(key, node)
    try:
        argv = shlex.split(value)
    except ValueError as exc:
        raise Invalid(node, f"'{key}' is not a valid command line: {exc}", key=key) from None
    if not argv:
        raise Invalid(node, f"'{key}' must name a program", key=key)
    return value


def handler(key: str, node: Value) -> str:
    """A Python callable reference, ``"pkg.module:function"``."""
    value = string(key, node)
    if _HANDLER_RE.fullmatch(value) is None:
        raise _expect(key, node, 'a callable such as "pkg.module:function"')
    return value


def http_url(key: str, node: Value) -> str:
    """An ``http(s)://`` URL, or a string holding a ``${VAR}`` placeholder."""
    value = text(key, node)
    if has_template(value):
        return value
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc or " " in value:
        raise _expect(key, node, 'an http:// or https:// URL such as "https://example.com/hook"')
    return value


def secret(key: str, node: Value) -> str:
    """A secret, which must be a ``${VAR}`` placeholder rather than the secret itself."""
    value = text(key, node)
    if not has_template(value):
        problem = (
            f"'{key}' must be a ${{VAR}} placeholder such as \"${{API_KEY}}\", not the secret "
            "itself: secrets stay out of files and the database"
        )
        raise Invalid(node, problem, key=key)
    return value


def email_list(key: str, node: Value) -> tuple[str, ...]:
    """A list of e-mail addresses (or placeholders)."""
    addresses = string_list(key, node)
    for item in node.items if isinstance(node, ListNode) else ():
        address = str(item.value) if isinstance(item, Scalar) else ""
        if not has_template(address) and _EMAIL_RE.fullmatch(address) is None:
            raise _expect(key, item, 'e-mail addresses such as "ops@example.com"')
    return addresses


def time_of_day(key: str, node: Value) -> time:
    """A local time written ``"HH:MM"`` or ``"HH:MM:SS"``."""
    value = string(key, node)
    match = _TIME_RE.fullmatch(value)
    if match is None:
        raise _expect(key, node, 'a time "HH:MM" between "00:00" and "23:59"')
    hour, minute, second = match.groups()
    return time(int(hour), int(minute), int(second or 0))


@functools.cache
def _all_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def timezone(key: str, node: Value) -> str:
    """An IANA time zone name such as ``"Europe/Berlin"``."""
    value = string(key, node)
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        problem = f"'{key}' expects an IANA time zone such as \"Europe/Berlin\", got {found(node)}"
        raise Invalid(node, problem, key=key, suggestion=suggest(value, _all_zones())) from None
    return value


def instant(key: str, node: Value) -> datetime:
    """An ISO 8601 date-time; naive values are returned naive for the caller to localize."""
    value = string(key, node)
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        what = 'an ISO 8601 time such as "2030-01-15T09:00:00Z"'
        raise _expect(key, node, what) from None
