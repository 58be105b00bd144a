"""Typed results: agents, schedules, defaults, conversions, warnings and file handling."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from symbiont.core.enums import DeliverOn, MisfirePolicy, SessionMode
from symbiont.core.models import Heartbeat, Policy
from symbiont.dsl import AgentSpec, Document, DslError, ScheduleSpec, parse_file, parse_text


def one_schedule(body: str) -> ScheduleSpec:
    """Parse a schedule named ``job`` for agent ``a`` with *body* and return it."""
    document = parse_text(f'schedule {{\n  name: "job"\n  agent: "a"\n{body}\n}}\n', "s.symbi")
    return document.schedules[0]


def one_agent(body: str) -> AgentSpec:
    """Parse an agent named ``a`` with *body* and return it."""
    return parse_text(f"agent a {{\n{body}\n}}\n", "a.symbi").agents[0]


def test_schedule_defaults() -> None:
    """A minimal schedule gets the documented defaults."""
    schedule = one_schedule('  cron: "0 9 * * *"')
    assert schedule == ScheduleSpec(
        name="job", agent="a", path="s.symbi", line=1, column=1, cron="0 9 * * *"
    )
    assert schedule.timezone == "UTC"
    assert schedule.session_mode is SessionMode.ephemeral_with_summary
    assert schedule.delivery == ()
    assert schedule.deliver_on is DeliverOn.always
    assert schedule.policy == Policy()
    assert schedule.heartbeat == Heartbeat()
    assert schedule.max_retries is None
    assert schedule.max_concurrent == 1
    assert schedule.jitter_seconds == 0
    assert schedule.misfire_policy is MisfirePolicy.run_once


def test_schedule_with_every_key() -> None:
    """Every schedule key is read into its typed field."""
    schedule = one_schedule("""\
  cron: "0 0 9 * * 1-5"
  timezone: "Europe/Berlin"
  session_mode: "shared_persistent"
  delivery: ["stdout", "webhook", "slack", "email", "custom:pager"]
  deliver_on: "failure"
  webhook_url: "https://hooks.example.com/x"
  webhook_headers { "X-Token": "${TOKEN}" }
  webhook_secret: "${HOOK_SECRET}"
  slack_channel: "#ops"
  email_recipients: ["ops@example.com"]
  max_retries: 0
  retry_delay: 2m
  max_concurrent: 3
  jitter_seconds: 30
  misfire_policy: "run_all"
  agent_pin_jwt: "${PIN}"
  input: "go"
  description: "all keys"
  heartbeat { context_mode: "fully_ephemeral" max_iterations: 5 }
  policy { require_approval: true approvers: ["alice"] require_agent_pin: true }""")
    assert schedule.timezone == "Europe/Berlin"
    assert schedule.session_mode is SessionMode.shared_persistent
    assert schedule.delivery == ("stdout", "webhook", "slack", "email", "custom:pager")
    assert schedule.deliver_on is DeliverOn.failure
    assert dict(schedule.webhook_headers) == {"X-Token": "${TOKEN}"}
    assert (schedule.webhook_secret, schedule.slack_channel) == ("${HOOK_SECRET}", "#ops")
    assert schedule.email_recipients == ("ops@example.com",)
    assert (schedule.max_retries, schedule.retry_delay) == (0, timedelta(minutes=2))
    assert (schedule.max_concurrent, schedule.jitter_seconds) == (3, 30)
    assert schedule.misfire_policy is MisfirePolicy.run_all
    assert (schedule.agent_pin_jwt, schedule.input) == ("${PIN}", "go")
    assert schedule.heartbeat == Heartbeat(
        enabled=True, context_mode=SessionMode.fully_ephemeral, max_iterations=5
    )
    assert schedule.policy.approvers == ("alice",)


def test_heartbeat_block_can_be_disabled() -> None:
    """Writing ``heartbeat`` turns it on unless it says ``enabled: false``."""
    schedule = one_schedule('  cron: "0 * * * *"\n  heartbeat { enabled: false }')
    assert schedule.heartbeat.enabled is False


def test_spec_camel_case_enum_aliases_are_accepted() -> None:
    """The guide's CamelCase names map to the lowercase values."""
    schedule = one_schedule('  cron: "0 * * * *"\n  session_mode: "FullyEphemeral"')
    assert schedule.session_mode is SessionMode.fully_ephemeral


def test_at_with_offset_is_converted_to_utc() -> None:
    """An ``at`` with an offset becomes the same instant in UTC."""
    schedule = one_schedule('  at: "2030-06-01T09:00:00+02:00"')
    assert schedule.at == datetime(2030, 6, 1, 7, tzinfo=UTC)


def test_naive_at_is_read_in_the_schedule_timezone() -> None:
    """An ``at`` without offset is local time in ``timezone`` (UTC by default)."""
    berlin = one_schedule('  at: "2030-01-15T09:00:00"\n  timezone: "Europe/Berlin"')
    assert berlin.at == datetime(2030, 1, 15, 8, tzinfo=UTC)
    utc = one_schedule('  at: "2030-01-15T09:00"')
    assert utc.at == datetime(2030, 1, 15, 9, tzinfo=UTC)


def test_schedule_name_from_header() -> None:
    """``schedule NAME { ... }`` names the schedule; a matching ``name:`` is allowed."""
    document = parse_text(
        'schedule nightly-sync { agent: "a" cron: "0 0 * * *" }\n'
        'schedule "other.job" { name: "other.job" agent: "a" cron: "0 0 * * *" }\n'
    )
    assert [schedule.name for schedule in document.schedules] == ["nightly-sync", "other.job"]


def test_schedule_keeps_its_position() -> None:
    """Each result keeps its file, line and column for later error reports."""
    document = parse_text(
        '# header\n\n  schedule { name: "x" agent: "a" cron: "0 0 * * *" }', "dir/f.symbi"
    )
    schedule = document.schedules[0]
    assert (schedule.path, schedule.line, schedule.column) == ("dir/f.symbi", 3, 3)


def test_command_agent_is_split_without_a_shell() -> None:
    """``command`` keeps its text and is split into argv like a POSIX shell would."""
    agent = one_agent(
        """  command: "python3 -c 'print(\\"hi there\\")' --flag=${X}"
  capabilities: ["read"]
  timeout: 30s
  env { MODE: "test" }
  description: "runs python\""""
    )
    assert agent.kind == "command"
    assert agent.argv == ("python3", "-c", 'print("hi there")', "--flag=${X}")
    assert agent.capabilities == ("read",)
    assert agent.timeout == timedelta(seconds=30)
    assert dict(agent.env) == {"MODE": "test"}


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ('  handler: "my_pkg.jobs:run_report"', "handler"),
        ('  url: "https://agents.example.com/run"', "url"),
        ('  url: "${AGENT_URL}"', "url"),
        ('  model: "gpt-4o-mini"\n  system_prompt: "Be brief."', "model"),
    ],
)
def test_agent_kinds(body: str, kind: str) -> None:
    """Each of the four agent kinds is recognised."""
    assert one_agent(body).kind == kind


def test_model_agent_keys() -> None:
    """A model agent keeps its provider, endpoint and key placeholder."""
    agent = one_agent(
        '  model: "claude-sonnet-4.5"\n  system_prompt: "p"\n  provider: "anthropic"\n'
        '  base_url: "https://api.anthropic.com"\n  api_key: "${ANTHROPIC_API_KEY}"'
    )
    assert (agent.provider, agent.base_url) == ("anthropic", "https://api.anthropic.com")
    assert agent.api_key == "${ANTHROPIC_API_KEY}"


def test_document_lookup_and_cross_file_agents() -> None:
    """``Document.agent`` finds agents; a schedule may name an agent from another file."""
    document = parse_text(
        'schedule { name: "s" agent: "elsewhere" cron: "0 0 * * *" }\n'
        'agent local { command: "true" }\n'
    )
    assert document.agent("local") is document.agents[0]
    assert document.agent("elsewhere") is None
    assert document.schedule("s") is document.schedules[0]
    assert document.schedule("missing") is None


def test_results_are_frozen() -> None:
    """Results are immutable, maps included."""
    agent = one_agent('  command: "true"\n  env { A: "1" }')
    with pytest.raises(dataclasses.FrozenInstanceError):
        agent.name = "b"  # type: ignore[misc]
    with pytest.raises(TypeError):
        agent.env["A"] = "2"  # type: ignore[index]


def test_warning_for_channel_settings_without_the_channel() -> None:
    """Channel settings whose channel is not delivered to are reported as warnings."""
    document = parse_text(
        'schedule {\n name: "s"\n agent: "a"\n cron: "0 0 * * *"\n slack_channel: "#x"\n}',
        "w.symbi",
    )
    assert [str(warning) for warning in document.warnings] == [
        "w.symbi:5:2: warning: 'slack_channel' has no effect: 'slack' is not in 'delivery'"
    ]


def test_slack_without_channel_is_allowed() -> None:
    """Slack delivery without ``slack_channel`` falls back to the daemon's default channel."""
    schedule = one_schedule('  cron: "0 * * * *"\n  delivery: ["slack"]')
    assert schedule.slack_channel is None


def test_empty_file_is_an_empty_document() -> None:
    """A file with only comments defines nothing."""
    assert parse_text("# nothing here\n") == Document(path="<string>")


def test_parse_file_reads_utf8(tmp_path: Path) -> None:
    """``parse_file`` reads the file and keeps its path on every result."""
    path = tmp_path / "jobs.symbi"
    path.write_text('agent a { command: "echo café" }\n', encoding="utf-8")
    document = parse_file(path)
    assert document.path == str(path)
    assert document.agents[0].argv == ("echo", "café")


def test_parse_file_missing_file(tmp_path: Path) -> None:
    """A missing file is a DslError at 1:1."""
    path = tmp_path / "missing.symbi"
    with pytest.raises(DslError) as caught:
        parse_file(path)
    assert str(caught.value) == f"{path}:1:1: cannot read the file: No such file or directory"


def test_parse_file_invalid_utf8(tmp_path: Path) -> None:
    """Invalid UTF-8 is a DslError at the position of the bad byte."""
    path = tmp_path / "bad.symbi"
    path.write_bytes(b'agent a {\n  command: "\xff"\n}\n')
    with pytest.raises(DslError) as caught:
        parse_file(path)
    assert str(caught.value) == f"{path}:2:13: the file is not valid UTF-8 (byte 0xff)"
