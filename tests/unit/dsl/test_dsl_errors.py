"""The full text of every kind of DSL error: position, key, expectation, finding, hint."""

from __future__ import annotations

import pytest

from symbiont.core.errors import CronError
from symbiont.cron import CronExpression
from symbiont.dsl import DslError, parse_text

HEAD = 'schedule {\n  name: "x"\n  agent: "a"\n'
"""A schedule's first three lines; cases add keys from line 4 on."""


def schedule(*lines: str, when: str = '  cron: "0 0 * * *"') -> str:
    """Return a schedule block with *lines* after its name, agent and *when* lines."""
    body = [when, *lines] if when else list(lines)
    return HEAD + "".join(line + "\n" for line in body) + "}\n"


CASES = {
    "unknown key": (
        schedule('  crn: "0 0 * * *"', when=""),
        "x.symbi:4:3: unknown key 'crn' in schedule (did you mean 'cron'?)",
    ),
    "unknown key without a close match": (
        schedule("  zzz: 1"),
        (
            "x.symbi:5:3: unknown key 'zzz' in schedule; allowed keys: agent, agent_pin_jwt, at, "
            "cron, deliver_on, delivery, description, email_recipients, heartbeat, input, "
            "jitter_seconds, max_concurrent, max_retries, misfire_policy, name, policy, "
            "retry_delay, session_mode, slack_channel, timezone, webhook_headers, webhook_secret, "
            "webhook_url"
        ),
    ),
    "unknown key in a nested block": (
        schedule("  policy {", "    max_runtim: 5m", "  }"),
        "x.symbi:6:5: unknown key 'max_runtim' in policy (did you mean 'max_runtime'?)",
    ),
    "wrong type": (
        schedule('  max_retries: "three"'),
        "x.symbi:5:16: 'max_retries' expects an integer >= 0, got string \"three\"",
    ),
    "integer below its minimum": (
        schedule("  max_concurrent: 0"),
        "x.symbi:5:19: 'max_concurrent' expects an integer >= 1, got integer 0",
    ),
    "boolean expected": (
        schedule("  heartbeat {", '    enabled: "yes"', "  }"),
        "x.symbi:6:14: 'enabled' expects true or false, got string \"yes\"",
    ),
    "list expected": (
        schedule('  delivery: "stdout"'),
        (
            'x.symbi:5:13: \'delivery\' expects a list of strings such as ["a", "b"], '
            'got string "stdout"'
        ),
    ),
    "block expected": (
        schedule('  policy: "strict"'),
        "x.symbi:5:11: 'policy' expects a block { ... }, got string \"strict\"",
    ),
    "missing required key": (
        'schedule {\n  name: "x"\n  cron: "0 0 * * *"\n}\n',
        "x.symbi:1:1: schedule 'x' needs 'agent'",
    ),
    "missing name": (
        'schedule {\n  agent: "a"\n}\n',
        "x.symbi:1:1: schedule needs a name: write 'schedule NAME { ... }' or 'name: \"...\"'",
    ),
    "neither cron nor at": (
        schedule(when=""),
        "x.symbi:1:1: schedule 'x' needs 'cron' (recurring) or 'at' (one-shot)",
    ),
    "both cron and at": (
        schedule('  at: "2030-01-01T00:00:00Z"'),
        "x.symbi:5:3: schedule 'x' has both 'cron' and 'at': keep one",
    ),
    "bad enum": (
        schedule('  session_mode: "ephemeral"'),
        (
            "x.symbi:5:17: 'session_mode' expects one of ephemeral_with_summary, "
            'shared_persistent, fully_ephemeral, got string "ephemeral" '
            "(did you mean 'ephemeral_with_summary'?)"
        ),
    ),
    "bad timezone": (
        schedule('  timezone: "Europe/Berln"'),
        (
            "x.symbi:5:13: 'timezone' expects an IANA time zone such as \"Europe/Berlin\", "
            "got string \"Europe/Berln\" (did you mean 'Europe/Berlin'?)"
        ),
    ),
    "bad quoted duration": (
        schedule('  retry_delay: "5 minutes"'),
        (
            "x.symbi:5:16: 'retry_delay' expects a duration: invalid duration '5 minutes': write a "
            "whole number with a unit (us, ms, s, m, h, d, w), e.g. '90s', '5m', '1h30m'"
        ),
    ),
    "bad bare duration": (
        schedule("  retry_delay: 5x"),
        (
            "x.symbi:5:16: invalid duration '5x': write a whole number with a unit "
            "(us, ms, s, m, h, d, w), e.g. '90s', '5m', '1h30m'"
        ),
    ),
    "bad at": (
        schedule(when='  at: "tomorrow"'),
        (
            "x.symbi:4:7: 'at' expects an ISO 8601 time such as \"2030-01-15T09:00:00Z\", "
            'got string "tomorrow"'
        ),
    ),
    "at out of range": (
        schedule(when='  at: "9999-12-31T23:00:00-05:00"'),
        "x.symbi:4:7: 'at' is out of range: use a time between years 1 and 9999 in UTC",
    ),
    "unterminated string": (
        'schedule {\n  name: "x\n}\n',
        (
            "x.symbi:2:9: unterminated string: add the closing '\"' on the same line "
            '(use """...""" for text on several lines)'
        ),
    ),
    "unterminated triple-quoted string": (
        'agent a {\n  system_prompt: """\n  hello\n}\n',
        'x.symbi:2:18: unterminated string: add the closing \'"""\'',
    ),
    "unterminated block": (
        'schedule {\n  name: "x"\n',
        "x.symbi:3:1: expected '}' to close the block opened at 1:10, found end of file",
    ),
    "unterminated list": (
        'schedule {\n  delivery: ["stdout",\n',
        "x.symbi:3:1: expected ']' to close the list opened at 2:13, found end of file",
    ),
    "missing comma in a list": (
        schedule('  delivery: ["stdout" "log_file"]'),
        "x.symbi:5:23: expected ',' or ']' in the list opened at 5:13, found string \"log_file\"",
    ),
    "duplicate key": (
        schedule('  cron: "0 1 * * *"'),
        "x.symbi:5:3: duplicate key 'cron' (first set at 4:3)",
    ),
    "duplicate schedule name": (
        schedule() + schedule(),
        "x.symbi:6:1: duplicate schedule 'x' (first defined at 1:1)",
    ),
    "duplicate agent name": (
        'agent a { command: "true" }\nagent a { command: "false" }\n',
        "x.symbi:2:1: duplicate agent 'a' (first defined at 1:1)",
    ),
    "bad template name": (
        schedule('  input: "${1BAD}"'),
        (
            "x.symbi:5:13: bad variable name in '${1BAD}': use letters, digits and '_', "
            "not starting with a digit, e.g. '${API_KEY}'"
        ),
    ),
    "unterminated template": (
        schedule('  input: "key=${API_KEY"'),
        "x.symbi:5:15: unterminated placeholder '${API_KEY': add '}'",
    ),
    "template with a bad default marker": (
        schedule('  input: "${API_KEY:x}"'),
        "x.symbi:5:20: bad placeholder '${API_KEY:x}': write '${NAME}' or '${NAME:-default}'",
    ),
    "unknown channel": (
        schedule('  delivery: ["slak"]'),
        (
            "x.symbi:5:14: unknown delivery channel 'slak': use stdout, log_file, webhook, slack, "
            "email or custom:NAME (did you mean 'slack'?)"
        ),
    ),
    "webhook without url": (
        schedule('  delivery: ["webhook"]'),
        "x.symbi:5:14: schedule 'x' delivers to 'webhook' but has no 'webhook_url'",
    ),
    "email without recipients": (
        schedule('  delivery: ["stdout", "email"]'),
        "x.symbi:5:24: schedule 'x' delivers to 'email' but has no 'email_recipients'",
    ),
    "unquoted text": (
        schedule("  input: hello"),
        (
            "x.symbi:5:10: expected a value for 'input', found name 'hello'; text needs quotes: "
            '"hello"'
        ),
    ),
    "unquoted slack channel becomes a comment": (
        schedule("  slack_channel: #ops"),
        (
            "x.symbi:5:16: 'slack_channel' has no value after ':' ('#' and '//' start comments: "
            'quote values such as "#ops")'
        ),
    ),
    "top-level key outside a block": (
        'cron: "0 0 * * *"\n',
        (
            "x.symbi:1:1: unknown top-level key 'cron': a file holds 'agent NAME { ... }' and "
            "'schedule { ... }' blocks"
        ),
    ),
    "misspelt block keyword": (
        'schedul { name: "x" }\n',
        (
            "x.symbi:1:1: unknown top-level key 'schedul': a file holds 'agent NAME { ... }' and "
            "'schedule { ... }' blocks (did you mean 'schedule'?)"
        ),
    ),
    "header name and name key differ": (
        'schedule daily { name: "nightly" agent: "a" cron: "0 0 * * *" }\n',
        "x.symbi:1:24: schedule is named 'daily' in its header but 'nightly' here: keep one",
    ),
    "bad schedule name": (
        'schedule { name: "daily report" agent: "a" cron: "0 0 * * *" }\n',
        (
            "x.symbi:1:18: 'name' expects a name of 1-128 letters, digits, '.', '_' or '-', "
            'starting with a letter or digit, got string "daily report"'
        ),
    ),
    "stray closing brace": (
        "}\n",
        "x.symbi:1:1: unexpected '}': no block is open here",
    ),
    "unknown escape": (
        schedule('  input: "a\\qb"'),
        "x.symbi:5:12: unknown escape '\\q' in string: use \\\" \\\\ \\n \\t \\r or \\uXXXX",
    ),
    "heartbeat max_iterations": (
        schedule("  heartbeat {", "    max_iterations: 0", "  }"),
        "x.symbi:6:21: 'max_iterations' expects an integer >= 1, got integer 0",
    ),
    "allowed_hours bad time": (
        schedule("  policy {", '    allowed_hours { start: "25:00" end: "04:00" }', "  }"),
        (
            'x.symbi:6:28: \'start\' expects a time "HH:MM" between "00:00" and "23:59", '
            'got string "25:00"'
        ),
    ),
    "allowed_hours missing end": (
        schedule("  policy {", '    allowed_hours { start: "01:00" }', "  }"),
        "x.symbi:6:19: 'allowed_hours' needs 'end' (a time \"HH:MM\")",
    ),
    "header with a space": (
        schedule('  webhook_headers { "Bad Header": "x" }'),
        (
            "x.symbi:5:21: 'webhook_headers' has a bad name 'Bad Header': use an HTTP header name "
            "such as 'Content-Type'"
        ),
    ),
    "bad e-mail address": (
        schedule('  delivery: ["email"]', '  email_recipients: ["ops"]'),
        (
            "x.symbi:6:22: 'email_recipients' expects e-mail addresses such as "
            '"ops@example.com", got string "ops"'
        ),
    ),
    "label on a nested block": (
        schedule("  policy strict { }"),
        "x.symbi:5:10: 'policy' takes no name here: write 'policy { ... }'",
    ),
    "missing colon": (
        schedule('  input "x"'),
        "x.symbi:5:9: expected ':' or '{' after 'input', found string \"x\"",
    ),
    "unexpected character": (
        schedule("  input: @x"),
        "x.symbi:5:10: unexpected character '@'",
    ),
}


@pytest.mark.parametrize(("source", "message"), list(CASES.values()), ids=list(CASES))
def test_error_message(source: str, message: str) -> None:
    """Each invalid input fails with one precise, located message."""
    with pytest.raises(DslError) as caught:
        parse_text(source, "x.symbi")
    assert str(caught.value) == message


AGENT_CASES = {
    "no kind": (
        'agent a { description: "x" }',
        "x.symbi:1:1: agent 'a' needs one of 'command', 'handler', 'url' or 'model'",
    ),
    "two kinds": (
        'agent a { command: "true" url: "http://localhost:9000" }',
        (
            "x.symbi:1:27: agent 'a' has both 'command' and 'url': keep one of 'command', "
            "'handler', 'url' or 'model'"
        ),
    ),
    "model without prompt": (
        'agent a { model: "gpt-4o" }',
        "x.symbi:1:1: model agent 'a' needs 'system_prompt'",
    ),
    "model key on a command agent": (
        'agent a { command: "true" system_prompt: "x" }',
        "x.symbi:1:27: 'system_prompt' applies only to model agents; agent 'a' is a command agent",
    ),
    "literal api key": (
        'agent a { model: "m" system_prompt: "p" api_key: "sk-123" }',
        (
            "x.symbi:1:50: 'api_key' must be a ${VAR} placeholder such as \"${API_KEY}\", not the "
            "secret itself: secrets stay out of files and the database"
        ),
    ),
    "bad provider": (
        'agent a { model: "m" system_prompt: "p" provider: "antropic" }',
        (
            "x.symbi:1:51: 'provider' expects one of openai, anthropic, got string \"antropic\" "
            "(did you mean 'anthropic'?)"
        ),
    ),
    "bad handler": (
        'agent a { handler: "pkg.module.function" }',
        (
            "x.symbi:1:20: 'handler' expects a callable such as \"pkg.module:function\", "
            'got string "pkg.module.function"'
        ),
    ),
    "bad url": (
        'agent a { url: "ftp://example.com" }',
        (
            "x.symbi:1:16: 'url' expects an http:// or https:// URL such as "
            '"https://example.com/hook", got string "ftp://example.com"'
        ),
    ),
    "unbalanced command quotes": (
        'agent a { command: "echo \'hi" }',
        "x.symbi:1:20: 'command' is not a valid command line: No closing quotation",
    ),
    "empty command": (
        'agent a { command: "  " }',
        "x.symbi:1:20: 'command' must not be empty",
    ),
    "bad env name": (
        'agent a { command: "true" env { "MY-VAR": "1" } }',
        (
            "x.symbi:1:33: 'env' has a bad name 'MY-VAR': use letters, digits and '_', not "
            "starting with a digit"
        ),
    ),
    "unnamed agent": (
        'agent { command: "true" }',
        "x.symbi:1:1: agent needs a name: write 'agent NAME { ... }' or 'name: \"...\"'",
    ),
    "zero timeout": (
        'agent a { command: "true" timeout: 0 }',
        (
            "x.symbi:1:36: 'timeout' expects a duration above zero (a duration such as \"5m\", 90s "
            'or "1h30m"), got integer 0'
        ),
    ),
}


@pytest.mark.parametrize(("source", "message"), list(AGENT_CASES.values()), ids=list(AGENT_CASES))
def test_agent_error_message(source: str, message: str) -> None:
    """Each invalid agent fails with one precise, located message."""
    with pytest.raises(DslError) as caught:
        parse_text(source, "x.symbi")
    assert str(caught.value) == message


def test_bad_cron_reports_the_cron_message_at_the_value() -> None:
    """A bad cron expression fails at its value with the cron engine's own message."""
    with pytest.raises(CronError) as expected:
        CronExpression.parse("0 25 * * *", timezone="UTC", seed="x")
    with pytest.raises(DslError) as caught:
        parse_text(schedule(when='  cron: "0 25 * * *"'), "x.symbi")
    assert str(caught.value) == f"x.symbi:4:9: {expected.value}"
    assert "hour" in str(caught.value)
    assert "25" in str(caught.value)
    assert caught.value.key == "cron"


def test_error_keeps_structured_data() -> None:
    """A DslError carries path, line, column, key and suggestion as attributes."""
    with pytest.raises(DslError) as caught:
        parse_text(schedule('  session_mode: "shared"'), "x.symbi")
    error = caught.value
    assert (error.path, error.line, error.column) == ("x.symbi", 5, 17)
    assert error.key == "session_mode"
    assert error.suggestion == "shared_persistent"


def test_nesting_limit_is_an_error() -> None:
    """Input nested deeper than the limit fails cleanly instead of exhausting the stack."""
    source = "schedule { input: " + "[" * 200 + "]" * 200 + " }"
    with pytest.raises(DslError) as caught:
        parse_text(source, "x.symbi")
    assert str(caught.value) == (
        "x.symbi:1:50: too deeply nested: more than 32 levels of blocks and lists"
    )


@pytest.mark.parametrize(
    ("channels", "message"),
    [
        (
            '["stdout", "stdout"]',
            "x.symbi:5:24: 'delivery' lists channel 'stdout' twice",
        ),
        (
            '["custom:"]',
            "x.symbi:5:14: 'delivery' has a bad custom channel 'custom:': write \"custom:NAME\"",
        ),
        (
            '["LogFile"]',
            (
                "x.symbi:5:14: unknown delivery channel 'LogFile': use stdout, log_file, webhook, "
                "slack, email or custom:NAME (did you mean 'log_file'?)"
            ),
        ),
    ],
)
def test_delivery_channel_errors(channels: str, message: str) -> None:
    """Repeated, malformed custom and unknown channels are reported at the item."""
    with pytest.raises(DslError) as caught:
        parse_text(schedule(f"  delivery: {channels}"), "x.symbi")
    assert str(caught.value) == message
