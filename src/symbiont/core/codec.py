"""Plain-JSON forms of the nested domain values (policy, heartbeat), shared by store and API."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time, timedelta
from typing import Any

from symbiont.core.enums import SessionMode
from symbiont.core.models import AllowedHours, Heartbeat, Policy


def policy_to_dict(policy: Policy) -> dict[str, Any]:
    """Encode a policy as plain JSON values (durations in seconds, times as HH:MM:SS)."""
    hours = policy.allowed_hours
    return {
        "require_approval": policy.require_approval,
        "approvers": list(policy.approvers),
        "max_runtime_s": None if policy.max_runtime is None else policy.max_runtime.total_seconds(),
        "require_capabilities": list(policy.require_capabilities),
        "allowed_hours": None
        if hours is None
        else {
            "start": hours.start.isoformat(),
            "end": hours.end.isoformat(),
            "timezone": hours.timezone,
        },
        "allowed_environments": list(policy.allowed_environments),
        "require_agent_pin": policy.require_agent_pin,
    }


def policy_from_dict(data: Mapping[str, Any]) -> Policy:
    """Decode `policy_to_dict`'s output."""
    hours = data.get("allowed_hours")
    runtime = data.get("max_runtime_s")
    return Policy(
        require_approval=bool(data.get("require_approval", False)),
        approvers=tuple(data.get("approvers", ())),
        max_runtime=None if runtime is None else timedelta(seconds=runtime),
        require_capabilities=tuple(data.get("require_capabilities", ())),
        allowed_hours=None
        if hours is None
        else AllowedHours(
            start=time.fromisoformat(hours["start"]),
            end=time.fromisoformat(hours["end"]),
            timezone=hours.get("timezone", "UTC"),
        ),
        allowed_environments=tuple(data.get("allowed_environments", ())),
        require_agent_pin=bool(data.get("require_agent_pin", False)),
    )


def heartbeat_to_dict(heartbeat: Heartbeat) -> dict[str, Any]:
    """Encode heartbeat settings as plain JSON values."""
    return {
        "enabled": heartbeat.enabled,
        "context_mode": heartbeat.context_mode.value,
        "max_iterations": heartbeat.max_iterations,
    }


def heartbeat_from_dict(data: Mapping[str, Any]) -> Heartbeat:
    """Decode `heartbeat_to_dict`'s output."""
    return Heartbeat(
        enabled=bool(data.get("enabled", False)),
        context_mode=SessionMode(data.get("context_mode", SessionMode.ephemeral_with_summary)),
        max_iterations=int(data.get("max_iterations", 10)),
    )
