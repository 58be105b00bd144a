"""Every ``symbiont`` block of the scheduling guide, copied verbatim, and every example file."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from symbiont.core.enums import SessionMode
from symbiont.dsl import parse_file, parse_text
from symbiont.dsl._parser import Scalar, parse

EXAMPLES = sorted((Path(__file__).parents[3] / "examples").glob("*.symbi"))

SCHEDULE_BLOCK_STRUCTURE = """\
schedule {
  name: "daily-report"
  agent: "reporter-agent"
  cron: "0 0 9 * * *"

  session_mode: "ephemeral_with_summary"
  delivery: ["stdout", "log_file"]

  policy {
    require_approval: false
    max_runtime: "5m"
  }
}
"""

CRON_EXAMPLES = """\
# Every day at 9 AM
cron: "0 0 9 * * *"

# Every Monday at 6 PM
cron: "0 0 18 * * 1"

# Every 15 minutes
cron: "0 */15 * * * *"

# First day of every month at midnight
cron: "0 0 0 1 * *"
"""

ONE_SHOT = """\
schedule {
  name: "deployment-check"
  agent: "health-checker"
  at: "2026-02-15T14:30:00Z"  # ISO 8601 timestamp

  delivery: ["webhook"]
  webhook_url: "https://ops.example.com/hooks/deployment"
}
"""

HEARTBEAT_SCHEDULE = """\
schedule {
  name: "system-monitor"
  agent: "heartbeat-agent"
  cron: "0 */5 * * * *"  # Wake every 5 minutes

  heartbeat: {
    enabled: true
    context_mode: "ephemeral_with_summary"
    max_iterations: 100  # Safety limit
  }
}
"""

HEARTBEAT_AGENT = '''\
agent heartbeat_monitor {
  model: "claude-sonnet-4.5"
  system_prompt: """
  You are a system monitoring agent. On each heartbeat:
  1. Check system metrics (CPU, memory, disk)
  2. Review recent error logs
  3. If issues detected, take action:
     - Restart services if safe
     - Alert ops team via Slack
     - Log incident details
  4. Summarize findings
  5. Return 'sleep' when done
  """
}

schedule {
  name: "heartbeat-monitor"
  agent: "heartbeat_monitor"
  cron: "0 */10 * * * *"  # Every 10 minutes

  heartbeat: {
    enabled: true
    context_mode: "ephemeral_with_summary"
    max_iterations: 50
  }

  delivery: ["log_file", "slack"]
  slack_channel: "#ops-alerts"
}
'''

SESSION_MODE = """\
schedule {
  name: "data-pipeline"
  agent: "etl-agent"
  cron: "0 0 2 * * *"

  # Fresh context per run, summary of previous run included
  session_mode: "ephemeral_with_summary"
}
"""

SINGLE_CHANNEL = """\
schedule {
  name: "backup"
  agent: "backup-agent"
  cron: "0 0 3 * * *"
  delivery: ["log_file"]
}
"""

MULTIPLE_CHANNELS = """\
schedule {
  name: "security-scan"
  agent: "scanner"
  cron: "0 0 1 * * *"

  delivery: ["log_file", "slack", "email"]

  slack_channel: "#security"
  email_recipients: ["ops@example.com", "security@example.com"]
}
"""

WEBHOOK_DELIVERY = """\
schedule {
  name: "metrics-report"
  agent: "metrics-agent"
  cron: "0 */30 * * * *"

  delivery: ["webhook"]
  webhook_url: "https://metrics.example.com/ingest"
  webhook_headers: {
    "Authorization": "Bearer ${METRICS_API_KEY}"
    "Content-Type": "application/json"
  }
}
"""

POLICY_CONDITIONS = """\
schedule {
  name: "production-deploy"
  agent: "deploy-agent"
  cron: "0 0 0 * * 0"  # Sunday midnight

  policy {
    # Require human approval before execution
    require_approval: true

    # Maximum runtime before forced termination
    max_runtime: "30m"

    # Require specific capabilities
    require_capabilities: ["deployment", "production_write"]

    # Time window enforcement (UTC)
    allowed_hours: {
      start: "00:00"
      end: "04:00"
    }

    # Environment restrictions
    allowed_environments: ["staging", "production"]

    # AgentPin verification required
    require_agent_pin: true
  }
}
"""

PER_JOB_CONCURRENCY = """\
schedule {
  name: "data-sync"
  agent: "sync-agent"
  cron: "0 */5 * * * *"

  max_concurrent: 2  # Allow max 2 concurrent runs
}
"""

DEAD_LETTER = """\
schedule {
  name: "flaky-job"
  agent: "unreliable-agent"
  cron: "0 0 * * * *"

  max_retries: 3  # After 3 failures, move to dead-letter
}
"""

AGENT_PIN = """\
schedule {
  name: "secure-task"
  agent: "trusted-agent"
  cron: "0 0 * * * *"

  agent_pin_jwt: "${AGENT_PIN_JWT}"  # ES256 JWT from agentpin-cli

  policy {
    require_agent_pin: true
  }
}
"""

WHOLE_BLOCKS = {
    "schedule block structure": SCHEDULE_BLOCK_STRUCTURE,
    "one-shot": ONE_SHOT,
    "heartbeat schedule": HEARTBEAT_SCHEDULE,
    "heartbeat agent": HEARTBEAT_AGENT,
    "session mode": SESSION_MODE,
    "single channel": SINGLE_CHANNEL,
    "multiple channels": MULTIPLE_CHANNELS,
    "webhook delivery": WEBHOOK_DELIVERY,
    "policy conditions": POLICY_CONDITIONS,
    "per-job concurrency": PER_JOB_CONCURRENCY,
    "dead-letter": DEAD_LETTER,
    "agent pin": AGENT_PIN,
}


@pytest.mark.parametrize("source", list(WHOLE_BLOCKS.values()), ids=list(WHOLE_BLOCKS))
def test_spec_block_parses(source: str) -> None:
    """Each complete block of the guide parses into at least one schedule."""
    document = parse_text(source, "guide.symbi")
    assert document.schedules


def test_spec_cron_fragment_is_well_formed_and_each_line_validates() -> None:
    """The guide's bare ``cron:`` lines are valid syntax and each one works inside a schedule."""
    entries = parse(CRON_EXAMPLES, "guide.symbi")
    assert [entry.key for entry in entries] == ["cron"] * 4
    for entry in entries:
        assert isinstance(entry.value, Scalar)
        source = f'schedule {{ name: "x" agent: "a" cron: "{entry.value.value}" }}'
        assert parse_text(source).schedules[0].cron == entry.value.value


def test_schedule_block_structure_values() -> None:
    """The first example of the guide yields its cron, channels and policy."""
    (schedule,) = parse_text(SCHEDULE_BLOCK_STRUCTURE).schedules
    assert schedule.name == "daily-report"
    assert schedule.agent == "reporter-agent"
    assert schedule.cron == "0 0 9 * * *"
    assert schedule.session_mode is SessionMode.ephemeral_with_summary
    assert schedule.delivery == ("stdout", "log_file")
    assert schedule.policy.require_approval is False
    assert schedule.policy.max_runtime == timedelta(minutes=5)


def test_one_shot_keeps_aware_utc_time() -> None:
    """The ``at`` example (with a trailing comment) becomes an aware UTC datetime."""
    (schedule,) = parse_text(ONE_SHOT).schedules
    assert schedule.at == datetime(2026, 2, 15, 14, 30, tzinfo=UTC)
    assert schedule.cron is None
    assert schedule.webhook_url == "https://ops.example.com/hooks/deployment"


def test_heartbeat_agent_prompt_is_dedented() -> None:
    """The triple-quoted system prompt loses its indentation and leading newline."""
    document = parse_text(HEARTBEAT_AGENT)
    agent = document.agent("heartbeat_monitor")
    assert agent is not None
    assert agent.kind == "model"
    assert agent.model == "claude-sonnet-4.5"
    assert agent.system_prompt is not None
    assert agent.system_prompt.startswith("You are a system monitoring agent. On each heartbeat:\n")
    assert "\n   - Restart services if safe\n" in agent.system_prompt
    assert agent.system_prompt.endswith("5. Return 'sleep' when done\n")
    (schedule,) = document.schedules
    assert schedule.heartbeat.enabled is True
    assert schedule.heartbeat.max_iterations == 50
    assert schedule.slack_channel == "#ops-alerts"


def test_webhook_headers_keep_templates() -> None:
    """Header values keep their ``${VAR}`` placeholders unresolved."""
    (schedule,) = parse_text(WEBHOOK_DELIVERY).schedules
    assert dict(schedule.webhook_headers) == {
        "Authorization": "Bearer ${METRICS_API_KEY}",
        "Content-Type": "application/json",
    }


def test_policy_conditions_fill_the_policy() -> None:
    """Every policy condition of the guide lands in ``core.models.Policy``."""
    document = parse_text(POLICY_CONDITIONS)
    policy = document.schedules[0].policy
    assert policy.require_approval is True
    assert policy.max_runtime == timedelta(minutes=30)
    assert policy.require_capabilities == ("deployment", "production_write")
    assert policy.allowed_hours is not None
    assert (policy.allowed_hours.start, policy.allowed_hours.end) == (time(0), time(4))
    assert policy.allowed_hours.timezone == "UTC"
    assert policy.allowed_environments == ("staging", "production")
    assert policy.require_agent_pin is True


def test_policy_conditions_warn_about_the_missing_pin() -> None:
    """The guide's policy example has no ``agent_pin_jwt``: valid, with a warning."""
    (warning,) = parse_text(POLICY_CONDITIONS, "guide.symbi").warnings
    assert str(warning) == (
        "guide.symbi:6:3: warning: schedule 'production-deploy' requires an AgentPin but has "
        "no 'agent_pin_jwt': its runs will be denied until one is set"
    )


def test_agent_pin_keeps_the_template() -> None:
    """The AgentPin token stays a placeholder and the policy requires it."""
    (schedule,) = parse_text(AGENT_PIN).schedules
    assert schedule.agent_pin_jwt == "${AGENT_PIN_JWT}"
    assert schedule.policy.require_agent_pin is True


DOCS = Path(__file__).parents[3] / "docs" / "dsl.md"
DOC_BLOCKS = re.findall(r"```symbiont\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.DOTALL)


def test_docs_have_examples() -> None:
    """The DSL reference shows several ``symbiont`` examples."""
    assert len(DOC_BLOCKS) >= 5


@pytest.mark.parametrize("source", DOC_BLOCKS)
def test_docs_block_parses(source: str) -> None:
    """Every example of the DSL reference validates (fragments inside a schedule)."""
    first_key = parse(source, "dsl.md")[0].key
    if first_key not in {"agent", "schedule"}:
        source = f'schedule {{ name: "doc" agent: "a" cron: "0 0 * * *"\n{source}\n}}'
    assert parse_text(source, "dsl.md") is not None


def test_examples_folder_is_not_empty() -> None:
    """The examples folder ships several ``.symbi`` files."""
    assert len(EXAMPLES) >= 4


@pytest.mark.parametrize("path", EXAMPLES, ids=[path.name for path in EXAMPLES])
def test_example_file_parses_without_warnings(path: Path) -> None:
    """Every example file validates cleanly and defines agents for its schedules."""
    document = parse_file(path)
    assert document.schedules
    assert document.warnings == ()
    for schedule in document.schedules:
        agent = document.agent(schedule.agent)
        assert agent is not None, schedule.agent
        assert agent.kind == "command"
