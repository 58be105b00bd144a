"""The surface syntax: strings, numbers, durations, lists, maps, comments and separators."""

from __future__ import annotations

from datetime import timedelta

import pytest

from symbiont.dsl import DslError, parse_text
from symbiont.dsl._lexer import Kind, tokenize
from symbiont.dsl._parser import MAX_DEPTH, Entry, ListNode, Scalar, Table, parse


def only_entry(source: str) -> Entry:
    """Parse *source* (one top-level entry) and return that entry."""
    (entry,) = parse(source, "t.symbi")
    return entry


def input_of(literal: str) -> str | None:
    """Return the ``input`` of a one-schedule file whose input is *literal*."""
    source = f'schedule {{ name: "x" agent: "a" cron: "0 0 * * *" input: {literal} }}'
    return parse_text(source).schedules[0].input


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ('"plain"', "plain"),
        ('"say \\"hi\\""', 'say "hi"'),
        ('"back\\\\slash"', "back\\slash"),
        ('"a\\nb\\tc\\rd"', "a\nb\tc\rd"),
        ('"caf\\u00e9"', "café"),
        ('"slash \\/"', "slash /"),
        ('"# not a comment // either"', "# not a comment // either"),
        ('"${TOKEN} and ${REGION:-eu-west-1}"', "${TOKEN} and ${REGION:-eu-west-1}"),
        ('""', ""),
        ('"snow ☃ stays"', "snow ☃ stays"),
    ],
)
def test_string_escapes(literal: str, value: str) -> None:
    """Quoted strings decode their escapes and keep everything else as written."""
    assert input_of(literal) == value


def test_triple_quoted_string_is_dedented() -> None:
    """A triple-quoted string drops its first newline and common indentation."""
    literal = '"""\n    first\n      second\n    third "quoted"\n    """'
    assert input_of(literal) == 'first\n  second\nthird "quoted"\n'


def test_triple_quoted_string_on_one_line() -> None:
    """A triple-quoted string may open and close on the same line."""
    assert input_of('"""inline "text" here"""') == 'inline "text" here'


def test_comments_of_both_styles_are_ignored() -> None:
    """``#`` and ``//`` comments run to the end of the line, even after values."""
    source = """\
# leading comment
// another one
schedule { // trailing
  name: "x"   # after a value
  agent: "a"  // after a value
  cron: "0 0 * * *"
}
"""
    assert parse_text(source).schedules[0].name == "x"


@pytest.mark.parametrize(
    "body",
    [
        'name: "x"\n agent: "a"\n cron: "0 0 * * *"',
        'name: "x", agent: "a", cron: "0 0 * * *"',
        'name: "x"; agent: "a"; cron: "0 0 * * *";',
        'name: "x" agent: "a" cron: "0 0 * * *"',
    ],
    ids=["newlines", "commas", "semicolons", "nothing"],
)
def test_entry_separators(body: str) -> None:
    """Entries may be separated by newlines, commas, semicolons or nothing at all."""
    schedule = parse_text(f"schedule {{ {body} }}").schedules[0]
    assert (schedule.name, schedule.agent, schedule.cron) == ("x", "a", "0 0 * * *")


def test_colon_before_block_is_optional() -> None:
    """``key: { ... }`` and ``key { ... }`` mean the same block."""
    with_colon = 'schedule: { name: "x" agent: "a" cron: "0 0 * * *" policy: { max_runtime: 5m } }'
    without = 'schedule { name: "x" agent: "a" cron: "0 0 * * *" policy { max_runtime: 5m } }'
    assert parse_text(with_colon).schedules[0].policy == parse_text(without).schedules[0].policy


def test_lists_span_lines_and_allow_trailing_comma() -> None:
    """List items may sit on separate lines, with or without commas, and end with a comma."""
    source = """\
schedule {
  name: "x"
  agent: "a"
  cron: "0 0 * * *"
  delivery: [
    "stdout",
    "log_file"
    "custom:pager",
  ]
}
"""
    assert parse_text(source).schedules[0].delivery == ("stdout", "log_file", "custom:pager")


def test_empty_list_and_empty_block() -> None:
    """``[]`` and ``{}`` are valid values."""
    source = 'schedule { name: "x" agent: "a" cron: "0 0 * * *" delivery: [] policy {} }'
    schedule = parse_text(source).schedules[0]
    assert schedule.delivery == ()
    assert schedule.policy.require_approval is False


def test_map_entries_split_by_newlines_or_commas() -> None:
    """Map entries may be quoted or bare keys, separated by newlines or commas."""
    source = 'agent a {\n command: "env"\n env { A: "1", "B_2": "two"\n C: "${X}" }\n}'
    assert dict(parse_text(source).agents[0].env) == {"A": "1", "B_2": "two", "C": "${X}"}


@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ('"5m"', timedelta(minutes=5)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("500ms", timedelta(milliseconds=500)),
        ("45", timedelta(seconds=45)),
    ],
)
def test_durations_bare_quoted_or_seconds(literal: str, expected: timedelta) -> None:
    """A duration may be bare, quoted, or a whole number of seconds."""
    source = f'agent a {{ command: "true" timeout: {literal} }}'
    assert parse_text(source).agents[0].timeout == expected


def test_scalar_kinds_and_positions() -> None:
    """Scalars keep their kind, decoded value and the position of their first character."""
    entry = only_entry('x {\n  a: -3\n  b: 2.5\n  c: true\n  d: 1h\n  e: "s"\n}')
    assert isinstance(entry.value, Table)
    values = [entry.value for entry in entry.value.entries]
    assert values == [
        Scalar("integer", -3, 2, 6),
        Scalar("number", 2.5, 3, 6),
        Scalar("boolean", value=True, line=4, column=6),
        Scalar("duration", "1h", 5, 6),
        Scalar("string", "s", 6, 6),
    ]


def test_nested_list_node() -> None:
    """Lists nest and keep the position of their opening bracket."""
    entry = only_entry("x: [[1], []]")
    assert entry.value == ListNode(
        (ListNode((Scalar("integer", 1, 1, 6),), 1, 5), ListNode((), 1, 10)), 1, 4
    )


def test_labelled_block_keeps_its_label() -> None:
    """``agent NAME {`` and ``agent "NAME" {`` record the name as the entry's label."""
    for source in ("agent worker {}", 'agent "worker" {}'):
        entry = only_entry(source)
        assert entry.label is not None
        assert entry.label.value == "worker"


def test_crlf_and_bom_are_accepted() -> None:
    """Windows line ends and a UTF-8 byte-order mark do not disturb parsing or positions."""
    source = '\ufeffschedule {\r\n  name: "x"\r\n  agent: "a"\r\n  cron: "0 0 * * *"\r\n}\r\n'
    schedule = parse_text(source).schedules[0]
    assert (schedule.line, schedule.column) == (1, 1)


def test_tokens_record_line_breaks() -> None:
    """Each token knows whether a line break precedes it."""
    tokens, comment_lines = tokenize('a: 1 # c\nb: "x"', "t.symbi")
    assert [(token.kind, token.newline_before) for token in tokens] == [
        (Kind.IDENT, True),
        (Kind.COLON, False),
        (Kind.INT, False),
        (Kind.IDENT, True),
        (Kind.COLON, False),
        (Kind.STRING, False),
        (Kind.EOF, False),
    ]
    assert comment_lines == {1}


def test_nesting_up_to_the_limit_parses() -> None:
    """Nesting exactly at the limit is still accepted."""
    source = "x: " + "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert len(parse(source, "t.symbi")) == 1


def test_value_must_start_on_the_key_line() -> None:
    """A value on the line after its key is reported at the colon."""
    with pytest.raises(DslError, match=r"t\.symbi:1:2: 'x' has no value after ':'$"):
        parse("x:\n  1", "t.symbi")


def test_control_character_in_string_is_rejected() -> None:
    """A raw control character inside a string must be written as an escape."""
    with pytest.raises(DslError, match=r"control character U\+0001 in string"):
        parse('x: "a\x01b"', "t.symbi")


def test_surrogate_escape_is_rejected() -> None:
    r"""``\uD800`` names no character and is refused."""
    with pytest.raises(DslError, match="is a surrogate"):
        parse('x: "\\ud800"', "t.symbi")


def test_short_unicode_escape_is_rejected() -> None:
    r"""``\u`` needs exactly four hex digits."""
    with pytest.raises(DslError, match="must be followed by 4 hex digits"):
        parse('x: "\\u12"', "t.symbi")


def test_float_with_unit_is_not_a_duration() -> None:
    """Durations use whole numbers; ``1.5h`` is refused with the duration help."""
    with pytest.raises(DslError, match=r"invalid duration '1\.5h'"):
        parse("x: 1.5h", "t.symbi")


def test_two_commas_in_a_list() -> None:
    """An empty slot between commas is an error."""
    with pytest.raises(DslError, match="expected a list item before ','"):
        parse("x: [1,, 2]", "t.symbi")
