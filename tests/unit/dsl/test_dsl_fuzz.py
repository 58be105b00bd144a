"""Property tests: any input parses or raises DslError, never anything else, never hangs."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symbiont.dsl import DslError, parse_text

EXAMPLES = sorted((Path(__file__).parents[3] / "examples").glob("*.symbi"))
SOURCES = [path.read_text(encoding="utf-8") for path in EXAMPLES] or ["agent a {}"]
ALPHABET = st.sampled_from([*'{}[]:;,"\\#/$\n \tabcxyz019-._*@=', '"""', "${", "//"])
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parses_or_fails_cleanly(text: str) -> None:
    """Parse *text*; only DslError may escape."""
    try:
        parse_text(text, "fuzz.symbi")
    except DslError as exc:
        error = exc
    else:
        return
    assert error.line >= 1
    assert error.column >= 1
    assert str(error).startswith(f"fuzz.symbi:{error.line}:{error.column}: ")


@FAST
@given(st.text())
def test_any_text(text: str) -> None:
    """Arbitrary Unicode text parses or raises DslError."""
    parses_or_fails_cleanly(text)


@FAST
@given(st.lists(ALPHABET, max_size=80).map("".join))
def test_text_made_of_syntax(text: str) -> None:
    """Text built from the language's own punctuation parses or raises DslError."""
    parses_or_fails_cleanly(text)


@st.composite
def mutated_examples(draw: st.DrawFn) -> str:
    """An example file with a few characters deleted, inserted or replaced."""
    text = draw(st.sampled_from(SOURCES))
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["delete", "insert", "replace"]))
        char = draw(st.one_of(ALPHABET, st.characters()))
        if action == "delete":
            text = text[:position] + text[position + 1 :]
        elif action == "insert":
            text = text[:position] + char + text[position:]
        else:
            text = text[:position] + char + text[position + 1 :]
    return text


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_examples())
def test_mutated_examples(text: str) -> None:
    """Example files with random edits parse or raise DslError."""
    parses_or_fails_cleanly(text)


@FAST
@given(st.integers(1, 5000), st.sampled_from(["[", "{", "x {", "x: {", "x: ["]))
def test_deep_nesting(depth: int, opener: str) -> None:
    """Arbitrarily deep nesting fails with DslError instead of a RecursionError."""
    parses_or_fails_cleanly("schedule { input: " + opener * depth)


CRON_CHARS = st.sampled_from([*"0123456789*/,-?LW#HJ ", "MON", "jan", "@daily", "@"])


@FAST
@given(st.lists(CRON_CHARS, max_size=30).map("".join), st.sampled_from(["UTC", "Europe/Berlin"]))
def test_any_cron_value(expression: str, zone: str) -> None:
    """Any cron-like value is accepted or reported as a located DslError."""
    source = f'schedule {{ name: "x" agent: "a" cron: "{expression}" timezone: "{zone}" }}'
    parses_or_fails_cleanly(source)


@FAST
@given(st.datetimes(), st.sampled_from(["", "Z", "+14:00", "-12:00"]))
def test_any_at_value(moment: datetime, suffix: str) -> None:
    """Any ISO time, extreme years and offsets included, is accepted or a DslError."""
    source = f'schedule {{ name: "x" agent: "a" at: "{moment.isoformat()}{suffix}" }}'
    parses_or_fails_cleanly(source)
