"""Validation of job definitions given as API-named fields (JSON values or typed values).

Every rule that can be broken is collected, so one 422 lists all problems at once.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from symbiont.core.durations import format_duration, parse_duration
from symbiont.core.enums import DeliverOn, DeliveryKind, MisfirePolicy, SessionMode
from symbiont.core.errors import CronError, ValidationError
from symbiont.core.models import AllowedHours, Heartbeat, Policy
from symbiont.scheduler.planner import expression_for

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
"""A job name, matched whole (``fullmatch``: ``$`` would also accept a final line break)."""
_HEADER_NAME_RE = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
"""An HTTP header name (RFC 9110 token)."""
_SHOWN = 60
"""Longest value quoted whole in a message."""
MAX_TEXT = 64 * 1024
MAX_SHORT = 1024
MAX_ITEMS = 50
MAX_DURATION = timedelta(days=3650)
"""Longest retry_delay or max_runtime: ten years (later times would leave the calendar)."""
_CHANNELS = tuple(k.value for k in DeliveryKind if k.value != "custom")
_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class _Problems(list[tuple[str, str]]):
    def add(self, name: str, message: str) -> None:
        self.append((name, message))


def _text(limit: int) -> Callable[[Any, _Problems, str], Any]:
    """A string of at most *limit* UTF-8 bytes, without NUL (no store keeps one everywhere)."""

    def check(value: Any, problems: _Problems, name: str) -> Any:
        if value is None:
            return None
        if not isinstance(value, str):
            problems.add(name, f"expected a string, got {type(value).__name__}")
            return value
        try:
            size = len(value.encode())
        except UnicodeEncodeError:  # JSON can carry "\ud800"; no file or database can
            problems.add(name, "is not valid Unicode: it holds an unpaired surrogate")
            return value
        if size > limit:
            problems.add(name, f"is {size} bytes; at most {limit} allowed")
        elif "\0" in value:
            problems.add(name, "holds a NUL character, which no text may hold")
        return value

    return check


def check_text(name: str, value: str | None, limit: int = MAX_SHORT) -> None:
    """Check one free-text value given outside a definition (a rejection's reason).

    Raises:
        ValidationError: it is too long or holds a NUL.
    """
    problems = _Problems()
    _text(limit)(value, problems, name)
    if problems:
        raise ValidationError(list(problems))


def _required_text(value: Any, problems: _Problems, name: str) -> Any:
    if value is None or value == "":
        problems.add(name, "is required")
        return value
    return _text(MAX_SHORT)(value, problems, name)


def _shown(value: Any) -> str:
    """*value* quoted for a message, cut when long (the problem is still named)."""
    text = repr(value)
    return text if len(text) <= _SHOWN else f"{text[: _SHOWN - 3]}... ({len(str(value))} chars)"


def _name(value: Any, problems: _Problems, name: str) -> Any:
    if not isinstance(value, str) or not NAME_RE.fullmatch(value):
        problems.add(
            name,
            f"{_shown(value)} is not a valid job name: use 1-128 letters, digits, '.', '_'"
            " or '-', starting with a letter or digit",
        )
    return value


def _int(
    minimum: int, maximum: int, default: int | None = None
) -> Callable[[Any, _Problems, str], Any]:
    """An integer in range; null gives *default* (as it gives () to lists and {} to maps)."""

    def check(value: Any, problems: _Problems, name: str) -> Any:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            problems.add(name, f"expected an integer, got {value!r}")
        elif not minimum <= value <= maximum:
            problems.add(name, f"{value} is out of range {minimum}-{maximum}")
        return value

    return check


def _enum(kind: type[Any]) -> Callable[[Any, _Problems, str], Any]:
    def check(value: Any, problems: _Problems, name: str) -> Any:
        try:
            return kind(value)
        except ValueError:
            allowed = sorted({m.value for m in kind})
            problems.add(
                name, f"{value!r} is not one of {', '.join(allowed)}{_hint(value, allowed)}"
            )
            return value

    return check


def _hint(value: Any, options: list[str] | tuple[str, ...]) -> str:
    text = str(value)
    prefixed = [o for o in options if text and o.startswith(text)]
    close = prefixed[:1] or difflib.get_close_matches(text, options, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _timezone(value: Any, problems: _Problems, name: str) -> Any:
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        problems.add(name, f"{value!r} is not an IANA time zone (for example 'Europe/Berlin')")
    return value


def _instant(value: Any, problems: _Problems, name: str) -> Any:
    if value is None or isinstance(value, datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        problems.add(name, f"{value!r} is not an ISO 8601 time such as 2026-02-15T14:30:00Z")
        return value
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _duration(value: Any, problems: _Problems, name: str) -> Any:
    """A duration: ``"90s"``, a number of seconds or a timedelta, from 0 to `MAX_DURATION`."""
    if value is None:
        return None
    longest = MAX_DURATION.total_seconds()
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not 0 <= value <= longest:  # NaN fails too
            problems.add(name, f"{value!r} seconds is out of range 0-{longest:.0f}")
            return value
        return timedelta(seconds=value)
    if isinstance(value, timedelta):
        duration = value
    else:
        try:
            duration = parse_duration(str(value))
        except ValueError as exc:
            problems.add(name, str(exc))
            return value
    if not timedelta(0) <= duration <= MAX_DURATION:
        shown = format_duration(duration) if duration >= timedelta(0) else str(duration)
        problems.add(name, f"{shown} is out of range 0s-{MAX_DURATION.days}d")
    return duration


def _strings(value: Any, problems: _Problems, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        problems.add(name, "expected a list of strings")
        return ()
    for item in value:
        _text(MAX_SHORT)(item, problems, name)
    if len(value) > MAX_ITEMS:
        problems.add(name, f"has {len(value)} items; at most {MAX_ITEMS} allowed")
    return tuple(value)


def _delivery(value: Any, problems: _Problems, name: str) -> tuple[str, ...]:
    channels = _strings(value, problems, name)
    for channel in channels:
        if channel.startswith("custom:") and len(channel) > len("custom:"):
            continue
        if channel not in _CHANNELS:
            problems.add(
                name,
                f"unknown channel {channel!r}; use {', '.join(_CHANNELS)} or custom:NAME"
                + _hint(channel, _CHANNELS),
            )
    return channels


def _emails(value: Any, problems: _Problems, name: str) -> tuple[str, ...]:
    addresses = _strings(value, problems, name)
    for address in addresses:
        if not _EMAIL_RE.fullmatch(address) and "${" not in address:
            problems.add(name, f"{address!r} is not an email address")
    return addresses


def _headers(value: Any, problems: _Problems, name: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        problems.add(name, "expected a map of header names to string values")
        return {}
    if len(value) > MAX_ITEMS:
        problems.add(name, f"has {len(value)} headers; at most {MAX_ITEMS} allowed")
    for key, text in value.items():
        if not _HEADER_NAME_RE.fullmatch(key):
            problems.add(f"{name}.{_shown(key)}", "is not a header name (letters, digits, '-')")
        elif "\r" in text or "\n" in text:
            problems.add(f"{name}.{key}", "holds a line break; a header stays on one line")
        else:
            _text(MAX_SHORT)(text, problems, f"{name}.{key}")
    return dict(value)


def _time_of_day(value: Any, problems: _Problems, name: str) -> time:
    if isinstance(value, time):
        return value
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        problems.add(name, f"{value!r} is not a time of day such as '04:00'")
        return time(0)


def _allowed_hours(value: Any, problems: _Problems, name: str) -> AllowedHours | None:
    if value is None or isinstance(value, AllowedHours):
        return value
    if not isinstance(value, Mapping):
        problems.add(name, "expected {start, end, timezone}")
        return None
    _unknown(value, {"start", "end", "timezone"}, problems, name)
    zone = value.get("timezone", "UTC")
    _timezone(zone, problems, f"{name}.timezone")
    return AllowedHours(
        start=_time_of_day(value.get("start"), problems, f"{name}.start"),
        end=_time_of_day(value.get("end"), problems, f"{name}.end"),
        timezone=str(zone),
    )


def _bool(value: Any, problems: _Problems, name: str) -> bool:
    if not isinstance(value, bool):
        problems.add(name, f"expected true or false, got {value!r}")
        return False
    return value


def _policy(value: Any, problems: _Problems, name: str) -> Policy:
    if value is None:
        return Policy()
    if isinstance(value, Policy):
        return value
    if not isinstance(value, Mapping):
        problems.add(name, "expected an object")
        return Policy()
    rules: dict[str, Callable[[Any, _Problems, str], Any]] = {
        "require_approval": _bool,
        "approvers": _strings,
        "max_runtime": _duration,
        "require_capabilities": _strings,
        "allowed_hours": _allowed_hours,
        "allowed_environments": _strings,
        "require_agent_pin": _bool,
    }
    _unknown(value, set(rules), problems, name)
    values = {k: rules[k](v, problems, f"{name}.{k}") for k, v in value.items() if k in rules}
    try:
        return Policy(**values)
    except TypeError:
        return Policy()


def _heartbeat(value: Any, problems: _Problems, name: str) -> Heartbeat:
    if value is None:
        return Heartbeat()
    if isinstance(value, Heartbeat):
        return value
    if not isinstance(value, Mapping):
        problems.add(name, "expected an object")
        return Heartbeat()
    rules: dict[str, Callable[[Any, _Problems, str], Any]] = {
        "enabled": _bool,
        "context_mode": _enum(SessionMode),
        "max_iterations": _int(1, 10_000),
    }
    _unknown(value, set(rules), problems, name)
    values = {k: rules[k](v, problems, f"{name}.{k}") for k, v in value.items() if k in rules}
    try:
        return Heartbeat(**values)
    except TypeError:
        return Heartbeat()


def _unknown(value: Mapping[str, Any], known: set[str], problems: _Problems, name: str) -> None:
    for key in value:
        if key not in known:
            where = f"{name}.{key}" if name else key
            problems.add(where, "unknown field" + _hint(key, sorted(known)))


RULES: dict[str, Callable[[Any, _Problems, str], Any]] = {
    "name": _name,
    "agent_id": _required_text,
    "cron_expr": _text(MAX_SHORT),
    "at": _instant,
    "timezone": _timezone,
    "session_mode": _enum(SessionMode),
    "delivery": _delivery,
    "webhook_url": _text(MAX_SHORT),
    "webhook_headers": _headers,
    "webhook_secret": _text(MAX_SHORT),
    "slack_channel": _text(MAX_SHORT),
    "email_recipients": _emails,
    "deliver_on": _enum(DeliverOn),
    "policy": _policy,
    "heartbeat": _heartbeat,
    "max_retries": _int(0, 1_000_000),
    "retry_delay": _duration,
    "max_concurrent": _int(1, 10_000, default=1),
    "jitter_seconds": _int(0, 86_400, default=0),
    "misfire_policy": _enum(MisfirePolicy),
    "agent_pin_jwt": _text(16 * 1024),
    "input": _text(MAX_TEXT),
    "description": _text(4 * 1024),
}
"""One validator per definition field, by its API name."""


def convert_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Validate and convert definition fields; raise `ValidationError` listing every problem."""
    problems = _Problems()
    _unknown(fields, set(RULES), problems, "")
    values = {k: RULES[k](v, problems, k) for k, v in fields.items() if k in RULES}
    if problems:
        raise ValidationError(list(problems))
    return values


def check_definition(values: Mapping[str, Any]) -> None:
    """Check the rules between fields of a complete definition; raise `ValidationError`."""
    problems = _Problems()
    cron, at = values.get("cron_expr"), values.get("at")
    if (cron is None) == (at is None):
        problems.add("cron_expr", "give exactly one of cron_expr (recurring) and at (one-shot)")
    if cron is not None:
        try:
            expression_for(cron, values.get("timezone", "UTC"), str(values.get("name", "")))
        except CronError as exc:
            problems.add("cron_expr", str(exc))
    delivery = values.get("delivery", ())
    if "webhook" in delivery and not values.get("webhook_url"):
        problems.add("webhook_url", "is required when delivery includes 'webhook'")
    if "email" in delivery and not values.get("email_recipients"):
        problems.add("email_recipients", "is required when delivery includes 'email'")
    if problems:
        raise ValidationError(list(problems))
