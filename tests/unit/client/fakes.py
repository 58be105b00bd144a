"""A recording fake daemon for the client's unit tests (httpx.MockTransport)."""

from __future__ import annotations

import json
from typing import Any

import httpx

JOB: dict[str, Any] = {
    "id": "0b7e",
    "name": "hourly-metrics",
    "agent_id": "metrics-agent",
    "cron_expr": "0 0 * * * *",
    "at": None,
    "timezone": "UTC",
    "schedule_description": "At 0 minutes past the hour",
    "status": "active",
    "status_reason": None,
    "session_mode": "ephemeral_with_summary",
    "delivery": ["slack", "log_file"],
    "webhook_url": None,
    "webhook_headers": {"X-Token": "***"},
    "webhook_secret": None,
    "slack_channel": "#metrics",
    "email_recipients": [],
    "deliver_on": "always",
    "policy": {"require_approval": False},
    "heartbeat": {"enabled": False},
    "max_retries": None,
    "retry_delay_seconds": None,
    "max_concurrent": 1,
    "jitter_seconds": 0,
    "misfire_policy": "run_once",
    "agent_pin_jwt": None,
    "input": None,
    "description": None,
    "next_run": "2026-03-01T13:00:00Z",
    "last_run": None,
    "run_count": 0,
    "failure_count": 0,
    "source": "api",
    "created_at": "2026-03-01T12:00:00.123456Z",
    "updated_at": "2026-03-01T12:00:00.123456+00:00",
}
RUN: dict[str, Any] = {
    "id": "r1",
    "job_id": "0b7e",
    "job_name": "hourly-metrics",
    "trigger": "manual",
    "scheduled_for": "2026-03-01T12:00:01Z",
    "status": "failed",
    "attempt": 1,
    "input": "Generate metrics report",
    "output": None,
    "summary": None,
    "error_message": "agent 'metrics-agent' failed: exit 2",
    "iterations": 1,
    "started_at": "2026-03-01T12:00:01Z",
    "finished_at": "2026-03-01T12:00:02Z",
    "execution_time_ms": 1000,
    "deliveries": [{"channel": "slack", "status": "failed", "error": "no webhook"}],
    "node_id": "n1",
    "details": {"policy": "allowed"},
}
HEALTH: dict[str, Any] = {
    "status": "healthy",
    "active_jobs": 3,
    "paused_jobs": 1,
    "in_flight_jobs": 0,
    "metrics": {
        "runs_total": 5,
        "runs_succeeded": 4,
        "runs_failed": 1,
        "avg_execution_time_ms": 12,
    },
    "node_id": "n1",
    "dead_letter_jobs": 0,
    "last_tick": "2026-03-01T12:00:00+00:00",
    "store_errors": 0,
    "last_store_error": None,
}


class FakeDaemon:
    """Answers every request with the next scripted reply and records what it received.

    A reply is a response, an exception to raise (a transport failure), or a JSON value
    answered with status 200.
    """

    def __init__(self, *replies: object) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        """Record *request* and answer it with the next reply (the last one repeats)."""
        self.requests.append(request)
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if isinstance(reply, BaseException):
            raise reply
        if isinstance(reply, httpx.Response):
            return reply
        return httpx.Response(200, json=reply)

    @property
    def last(self) -> httpx.Request:
        """The last request received."""
        return self.requests[-1]

    def body(self, index: int = -1) -> Any:
        """The JSON body of a received request."""
        return json.loads(self.requests[index].content)


def error(status: int, message: str, code: str, details: object = None) -> httpx.Response:
    """An error response in the daemon's shape."""
    return httpx.Response(status, json={"error": message, "code": code, "details": details})
