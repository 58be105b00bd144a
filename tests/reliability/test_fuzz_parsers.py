"""Property tests of the three parsers of untrusted text: cron, the DSL and the configuration.

Each parser may only ever raise its own error type (``CronError``, ``DslError``,
``ConfigError``), on arbitrary text and on valid input with random edits; valid input
round-trips. Every test is derandomized (same examples on every run, CI included) and bounded.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symbiont.config.settings import ENV_KEYS, Settings, load_settings
from symbiont.core.errors import ConfigError, CronError, DslError
from symbiont.cron import CronExpression
from symbiont.dsl import parse_file, parse_text
from tests.unit.dsl.test_dsl_fuzz import parses_or_fails_cleanly

FUZZ = settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
"""Reproducible and bounded: the same examples on every run, no example database."""

TEXT = st.text(st.characters(exclude_categories=["Cs"]))
"""Any Unicode text that can be encoded (lone surrogates cannot come from a file or socket)."""


@st.composite
def mutated(draw: st.DrawFn, source: st.SearchStrategy[str], alphabet: str) -> str:
    """*source*'s text with one to four characters deleted, inserted or replaced."""
    text = draw(source)
    chars = st.one_of(st.sampled_from(alphabet), st.characters(exclude_categories=["Cs"]))
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["delete", "insert", "replace"]))
        char = draw(chars)
        if action == "delete":
            text = text[:position] + text[position + 1 :]
        elif action == "insert":
            text = text[:position] + char + text[position:]
        else:
            text = text[:position] + char + text[position + 1 :]
    return text


# -- cron -------------------------------------------------------------------------------

CRON_ALPHABET = "0123456789*/,-?LW#H @ "
ZONES = st.one_of(
    st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Etc/GMT+5"]),
    st.sampled_from(["", "../../etc/passwd", "Europe/../UTC", "/etc/localtime", "UTC\x00", "Mars"]),
    TEXT,
)
CRON_ITEMS = {
    "second": ["*", "0", "*/15", "5-10", "0,30", "H"],
    "minute": ["*", "0", "*/5", "10-50/10", "H", "H(0-29)"],
    "hour": ["*", "9", "9-17", "22-2", "*/6", "H"],
    "dom": ["*", "?", "1", "L", "LW", "15W", "L-3", "1-15/2"],
    "month": ["*", "1", "JAN", "jan-mar", "*/3", "DEC"],
    "dow": ["*", "?", "MON-FRI", "5L", "1#2", "SUN", "0,6"],
    "year": ["*", "2030", "2030-2099", "2040/5"],
}


@st.composite
def cron_expressions(draw: st.DrawFn) -> str:
    """A well-formed expression: 5, 6 or 7 fields from known items, or a macro."""
    if draw(st.booleans()) and draw(st.booleans()):
        return draw(st.sampled_from(["@daily", "@hourly", "@weekly", "@monthly", "@yearly"]))
    pick = {field: draw(st.sampled_from(items)) for field, items in CRON_ITEMS.items()}
    fields = [pick["minute"], pick["hour"], pick["dom"], pick["month"], pick["dow"]]
    shape = draw(st.sampled_from([5, 6, 7]))
    if shape > 5:
        fields.insert(0, pick["second"])
    if shape == 7:
        fields.append(pick["year"])
    return " ".join(fields)


def cron_parses_or_fails_cleanly(expression: str, zone: str, seed: str | None = None) -> None:
    """Parse and use *expression*; only CronError may escape, and it names the expression."""
    try:
        parsed = CronExpression.parse(expression, timezone=zone, seed=seed)
    except CronError as exc:
        error = exc
    else:
        error = None
    if error is not None:
        assert error.expression == expression
        assert str(error).startswith(f"invalid cron expression {expression!r}:")
        return
    parsed.describe()
    after = datetime(2026, 3, 29, 0, 59, 59, tzinfo=UTC)
    first = parsed.next(after)
    assert first is None or first > after
    assert parsed.next(datetime(9999, 12, 31, 23, 59, tzinfo=UTC)) is None


@FUZZ
@given(TEXT, ZONES)
def test_cron_any_text(expression: str, zone: str) -> None:
    """Arbitrary text and zone names (paths, NUL, empty) parse or raise CronError."""
    cron_parses_or_fails_cleanly(expression, zone)


@FUZZ
@given(st.lists(st.sampled_from([*CRON_ALPHABET, "MON", "jan", "@daily"]), max_size=40))
def test_cron_text_made_of_cron_syntax(parts: list[str]) -> None:
    """Text built from cron's own characters parses or raises CronError."""
    cron_parses_or_fails_cleanly("".join(parts), "UTC")


@FUZZ
@given(mutated(cron_expressions(), CRON_ALPHABET), ZONES, st.none() | TEXT)
def test_cron_mutated_expressions(expression: str, zone: str, seed: str | None) -> None:
    """Valid expressions with random edits, in any zone, with any H seed, parse or fail cleanly."""
    cron_parses_or_fails_cleanly(expression, zone, seed)


@FUZZ
@given(cron_expressions(), st.sampled_from(["UTC", "Europe/Berlin", "Australia/Lord_Howe"]))
def test_cron_round_trips(expression: str, zone: str) -> None:
    """A valid expression round-trips through repr, and case and spacing do not matter."""
    parsed = CronExpression.parse(expression, timezone=zone, seed="job")
    assert eval(repr(parsed), {"CronExpression": CronExpression}) == parsed  # noqa: S307 - our repr
    respaced = CronExpression.parse(
        "  " + "\t ".join(expression.lower().split()) + " ", timezone=zone, seed="job"
    )
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert list(_take(parsed, start, 5)) == list(_take(respaced, start, 5))


def _take(expression: CronExpression, start: datetime, count: int) -> list[datetime]:
    times: list[datetime] = []
    for moment in expression.iter(start):
        times.append(moment)
        if len(times) == count:
            break
    return times


# -- DSL --------------------------------------------------------------------------------

DSL_ALPHABET = '{}[]:;,"\\#/$\n \tabcxyz019-._*@='
SCHEDULE_KEYS = [
    "name",
    "agent",
    "cron",
    "at",
    "timezone",
    "delivery",
    "webhook_url",
    "webhook_headers",
    "webhook_secret",
    "policy",
    "heartbeat",
    "max_retries",
    "retry_delay",
    "jitter_seconds",
    "misfire_policy",
    "agent_pin_jwt",
    "input",
    "unknown_key",
]


def dsl_string(value: str) -> str:
    """*value* written as a DSL string literal (escapes for quotes, backslashes, controls)."""
    out = []
    for char in value:
        if char in '"\\':
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


dsl_scalars = st.one_of(
    TEXT.map(dsl_string),
    st.integers(-(2**70), 2**70).map(str),
    st.sampled_from(["true", "false", "30s", "5m", "-1", "1.5", "1e9", "0x10", "null"]),
)
dsl_values = st.recursive(
    dsl_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda items: "[" + ", ".join(items) + "]"),
        st.dictionaries(st.sampled_from(["a", "start", "enabled", "x-y"]), inner, max_size=3).map(
            lambda entries: "{ " + " ".join(f"{k}: {v}" for k, v in entries.items()) + " }"
        ),
    ),
    max_leaves=6,
)


@st.composite
def schedule_blocks(draw: st.DrawFn) -> str:
    """A schedule block whose keys are real (or not) and whose values have any shape."""
    keys = draw(st.lists(st.sampled_from(SCHEDULE_KEYS), max_size=8))
    body = "\n".join(f"  {key}: {draw(dsl_values)}" for key in keys)
    return 'agent a { command: "true" }\nschedule {\n' + body + "\n}\n"


@FUZZ
@given(schedule_blocks())
def test_dsl_structured_values(text: str) -> None:
    """Schedule blocks with values of every shape in every key parse or raise DslError."""
    parses_or_fails_cleanly(text)


@FUZZ
@given(mutated(schedule_blocks(), DSL_ALPHABET))
def test_dsl_mutated_blocks(text: str) -> None:
    """Such blocks with random edits parse or raise DslError."""
    parses_or_fails_cleanly(text)


@FUZZ
@given(st.binary(max_size=200))
def test_dsl_any_file_bytes(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    """Any bytes in a .symbi file (invalid UTF-8, NUL, BOM) parse or raise DslError."""
    path = tmp_path_factory.getbasetemp() / "fuzz.symbi"
    path.write_bytes(data)
    try:
        parse_file(path)
    except DslError as exc:
        error = exc
    else:
        return
    assert str(error).startswith(f"{path}:{error.line}:{error.column}: ")


NAMES = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._-]{0,20}\Z")
PLAIN = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="$"), max_size=60)
ONE_LINE = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="$\r\n"), max_size=60
)


@FUZZ
@given(NAMES, PLAIN, PLAIN, st.dictionaries(st.from_regex(r"\AX-[A-Za-z]{1,8}\Z"), ONE_LINE))
def test_dsl_strings_round_trip(name: str, text: str, description: str, headers: Any) -> None:
    """Any string value written with escapes comes back exactly as it was.

    Header values are single-line by rule; the rule is tested, not the round trip, elsewhere.
    """
    header_map = " ".join(f"{dsl_string(k)}: {dsl_string(v)}" for k, v in headers.items())
    source = (
        f'agent a {{ command: "true" }}\n'
        f'schedule {{\n name: {dsl_string(name)}\n agent: "a"\n cron: "@daily"\n'
        f" input: {dsl_string(text)}\n description: {dsl_string(description)}\n"
        f' delivery: ["webhook"]\n webhook_url: "https://example.com/hook"\n'
        f" webhook_headers: {{ {header_map} }}\n"
        f' agent_pin_jwt: "${{PIN_{len(text)}}}"\n}}\n'
    )
    schedule = parse_text(source).schedules[0]
    assert (schedule.name, schedule.input, schedule.description) == (name, text, description)
    assert dict(schedule.webhook_headers) == headers
    assert schedule.agent_pin_jwt == f"${{PIN_{len(text)}}}"  # placeholders stay as written


# -- configuration ---------------------------------------------------------------------


def toml_string(value: str) -> str:
    """*value* as a TOML basic string."""
    out = []
    for char in value:
        if char in '"\\':
            out.append("\\" + char)
        elif (ord(char) < 0x20 and char != "\t") or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def toml_value(value: Any) -> str:
    """*value* (str, bool, int, float, list) as TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        pairs = (f"{toml_string(k)} = {toml_value(v)}" for k, v in value.items())
        return "{ " + ", ".join(pairs) + " }"
    return repr(value)


def toml_document(tables: dict[str, dict[str, Any]]) -> str:
    """A TOML document of *tables* (``""`` for the top level, dotted names for sub-tables)."""
    lines = [f"{key} = {toml_value(value)}" for key, value in tables.get("", {}).items()]
    for table, values in tables.items():
        if table:
            lines.append(f"[{table}]")
            lines.extend(f"{toml_string(key)} = {toml_value(v)}" for key, v in values.items())
    return "\n".join(lines) + "\n"


SHORT = st.text(st.characters(exclude_categories=["Cs"]), max_size=20)
VALID: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "": {"agents_dir": SHORT, "environment": SHORT},
    "scheduler": {
        "tick_interval_seconds": st.floats(0.01, 60),
        "max_jitter_seconds": st.floats(0, 3600),
        "max_concurrent_jobs": st.integers(1, 100_000),
        "enable_metrics": st.booleans(),
        "default_max_retries": st.integers(0, 10**6),
        "node_id": SHORT,
    },
    "scheduler.delivery": {
        "webhook_retry_attempts": st.integers(0, 20),
        "webhook_allowed_hosts": st.lists(SHORT, max_size=3),
        "webhook_auth_header": SHORT,
        "smtp_port": st.integers(1, 65535),
        "smtp_tls": st.sampled_from(["starttls", "tls", "none"]),
    },
    "store": {"path": SHORT, "history_max_per_job": st.integers(1, 10**6)},
    "api": {
        "host": SHORT,
        "port": st.integers(0, 65535),
        "key": SHORT,
        "keys": st.dictionaries(SHORT, SHORT, max_size=3),
    },
    "agentpin": {
        "required": st.booleans(),
        "domain": SHORT,
        "clock_skew_seconds": st.floats(0, 3600),
    },
    "logging": {"level": st.sampled_from(["debug", "info"]), "dir": SHORT},
}
ANY_VALUE = st.one_of(
    SHORT,
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(SHORT, st.integers(), max_size=2),
)


@st.composite
def valid_tables(draw: st.DrawFn) -> dict[str, dict[str, Any]]:
    """Some tables of the settings tree, each with some keys holding valid values."""
    return {
        table: {k: draw(s) for k, s in keys.items() if draw(st.booleans())}
        for table, keys in VALID.items()
        if draw(st.booleans())
    }


@st.composite
def confused_tables(draw: st.DrawFn) -> dict[str, dict[str, Any]]:
    """Tables whose keys (known or not) hold values of any type, tables included."""
    known = [(table, key) for table, keys in VALID.items() for key in keys]
    known += [("", "scheduler"), ("", "api"), ("", "store"), ("scheduler", "delivery")]
    tables: dict[str, dict[str, Any]] = {}
    for table, key in draw(st.lists(st.sampled_from(known), max_size=6)):
        tables.setdefault(table, {})[key] = draw(ANY_VALUE)
    return tables


def settings_or_config_error(path: Path, environ: dict[str, str]) -> Settings | None:
    """Load *path* with *environ*; only a ConfigError naming its source and key may escape."""
    try:
        return load_settings(path, environ=environ)
    except ConfigError as exc:
        error = exc
    assert error.source.startswith(str(path))
    assert error.key
    assert str(error).startswith(f"{error.source}: {error.key}: ")
    return None


ENV_VALUES = st.dictionaries(st.sampled_from(sorted(ENV_KEYS)), SHORT, max_size=4)


@pytest.fixture(scope="module")
def config_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The file each example writes its TOML to."""
    return tmp_path_factory.mktemp("config") / "symbi.toml"


@FUZZ
@given(TEXT, ENV_VALUES)
def test_config_any_text(config_path: Path, text: str, environ: dict[str, str]) -> None:
    """Any file content with any SYMBI_* values loads or raises ConfigError."""
    config_path.write_bytes(text.encode())
    settings_or_config_error(config_path, environ)


@FUZZ
@given(st.binary(max_size=100), ENV_VALUES)
def test_config_any_bytes(config_path: Path, data: bytes, environ: dict[str, str]) -> None:
    """Invalid UTF-8 in the file is a ConfigError, not a UnicodeDecodeError."""
    config_path.write_bytes(data)
    settings_or_config_error(config_path, environ)


@FUZZ
@given(confused_tables(), ENV_VALUES)
def test_config_values_of_any_type(
    config_path: Path, tables: dict[str, dict[str, Any]], environ: dict[str, str]
) -> None:
    """Known keys holding values of the wrong type (a table as a number...) are ConfigErrors."""
    config_path.write_text(toml_document(tables), encoding="utf-8")
    settings_or_config_error(config_path, environ)


@FUZZ
@given(mutated(valid_tables().map(toml_document), '[]="=.\n#{},'), ENV_VALUES)
def test_config_mutated_documents(config_path: Path, text: str, environ: dict[str, str]) -> None:
    """Valid documents with random edits load or raise ConfigError."""
    config_path.write_bytes(text.encode())
    settings_or_config_error(config_path, environ)


@FUZZ
@given(valid_tables())
def test_config_round_trips(config_path: Path, tables: dict[str, dict[str, Any]]) -> None:
    """Every valid value written to the file is the value of its setting."""
    config_path.write_text(toml_document(tables), encoding="utf-8")
    loaded = load_settings(config_path, environ={}).model_dump()
    for table, values in tables.items():
        node = loaded
        for part in filter(None, table.split(".")):
            node = node[part]
        for key, value in values.items():
            expected = tuple(value) if isinstance(value, list) else value
            assert node[key] == expected, (table, key)


ENV_SAMPLES: dict[str, st.SearchStrategy[tuple[str, Any]]] = {
    "SYMBI_SCHEDULER_MAX_JITTER": st.integers(0, 3600).map(lambda n: (str(n), float(n))),
    "SYMBI_SCHEDULER_MAX_CONCURRENT": st.integers(1, 100_000).map(lambda n: (str(n), n)),
    "SYMBI_AGENTPIN_REQUIRED": st.sampled_from([("true", True), ("false", False), ("1", True)]),
    "SYMBI_PORT": st.integers(0, 65535).map(lambda n: (str(n), n)),
}
ENV_TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), min_size=1)


@FUZZ
@given(st.data())
def test_config_environment_round_trips(config_path: Path, data: st.DataObject) -> None:
    """Each SYMBI_* variable sets its key to its value (numbers and booleans converted)."""
    config_path.write_text("", encoding="utf-8")
    names = data.draw(st.lists(st.sampled_from(sorted(ENV_KEYS)), min_size=1, unique=True))
    environ: dict[str, str] = {}
    expected: dict[str, Any] = {}
    for name in names:
        raw, value = data.draw(ENV_SAMPLES.get(name, ENV_TEXT.map(lambda t: (t, t))))
        environ[name], expected[ENV_KEYS[name]] = raw, value
    loaded = load_settings(config_path, environ=environ).model_dump()
    for dotted, value in expected.items():
        node = loaded
        for part in dotted.split("."):
            node = node[part]
        assert node == value, dotted


@pytest.mark.parametrize("name", sorted(n for n, key in ENV_KEYS.items() if "." in key))
def test_config_variable_under_a_value_that_is_not_a_table(config_path: Path, name: str) -> None:
    """A SYMBI_* variable whose table the file wrote as a value is a ConfigError naming it."""
    parent = ENV_KEYS[name].split(".")[0]
    config_path.write_text(f"{parent} = 5\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(config_path, environ={name: "1"})
    assert caught.value.key == parent
    assert str(caught.value) == f"{config_path} + environment: {parent}: expected a table, got int"


def test_config_errors_do_not_echo_the_api_key(config_path: Path) -> None:
    """A bad value elsewhere does not print the key, and a table where a key belongs is named."""
    config_path.write_text('store = "not-a-table"\n[api]\nkey = "s3cret-key"\nport = "x"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(config_path, environ={"SYMBI_DB": "x.db"})
    assert caught.value.key == "store"
    assert "s3cret-key" not in str(caught.value)
    config_path.write_bytes(b'agents_dir = "\xff"\n')
    with pytest.raises(ConfigError, match="not valid UTF-8"):
        load_settings(config_path, environ={})
    config_path.write_text(json.dumps({"x": 1}))
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(config_path, environ={})
