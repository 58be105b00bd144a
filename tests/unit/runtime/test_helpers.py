"""Shared runtime rules: output caps, ``sleep`` lines, derived summaries, session bounds."""

from __future__ import annotations

import json

import pytest

from symbiont.runtime._base import cap_text, split_sleep, utf8_prefix
from symbiont.runtime._session import bound_messages, choose_summary, derive_summary


@pytest.mark.parametrize(
    ("text", "rest", "sleep"),
    [
        ("all fine\nsleep\n", "all fine\n", True),
        ("sleep", "", True),
        ("report\n  sleep  \n\n", "report\n", True),
        ("report\nsleep now\n", "report\nsleep now\n", False),
        ("sleep\nmore", "sleep\nmore", False),
        ("SLEEP\n", "SLEEP\n", False),
        ("", "", False),
    ],
)
def test_split_sleep(text: str, rest: str, sleep: bool) -> None:
    """Only a last non-empty line that is exactly ``sleep`` (blanks aside) asks to sleep."""
    assert split_sleep(text) == (rest, sleep)


def test_cap_never_cuts_a_character() -> None:
    """Capping counts UTF-8 bytes and drops a character the cap would cut in two."""
    assert cap_text("héllo", 10) == ("héllo", False)
    assert cap_text("héllo", 2) == ("h", True)
    assert cap_text("h€llo", 3) == ("h", True)
    assert utf8_prefix("a😀b".encode(), 4) == b"a"
    assert utf8_prefix("a😀b".encode(), 5) == "a😀".encode()


def test_derived_summary_is_the_last_lines() -> None:
    """A derived summary is the last non-empty lines, at most five."""
    output = "\n".join(f"line {n}" for n in range(1, 9)) + "\n\n  \n"
    assert derive_summary(output) == "line 4\nline 5\nline 6\nline 7\nline 8"
    assert derive_summary(" \n\n") is None


def test_derived_summary_is_capped() -> None:
    """Lines are taken from the end while they fit in 500 characters; a long line is cut."""
    output = "short start\n" + "x" * 300 + "\n" + "y" * 300 + "\n"
    assert derive_summary(output) == "y" * 300
    long_line = derive_summary("z" * 2000)
    assert long_line is not None
    assert len(long_line) == 500
    assert long_line.endswith("…")


def test_agent_summary_wins_when_not_blank() -> None:
    """The agent's own summary is kept (stripped); a blank one falls back to the output."""
    assert choose_summary("  mine  ", "out") == "mine"
    assert choose_summary("   ", "first\nlast") == "first\nlast"
    assert choose_summary(None, "") is None


def pairs(count: int, size: int = 10) -> list[dict[str, str]]:
    """*count* user/assistant exchanges with *size*-character contents."""
    messages = []
    for index in range(count):
        messages.append({"role": "user", "content": f"{index:0{size}d}"})
        messages.append({"role": "assistant", "content": f"{index:0{size}d}"})
    return messages


def test_bound_drops_oldest_by_count() -> None:
    """Past the message limit the oldest messages go first."""
    kept, dropped = bound_messages(pairs(5), 4, 10_000)
    assert kept == tuple(pairs(5)[6:])
    assert dropped == 6


def test_bound_drops_oldest_by_size_and_starts_with_user() -> None:
    """Past the byte limit the oldest go; the kept conversation starts with a user turn."""
    messages = pairs(10, size=100)
    kept, dropped = bound_messages(messages, 100, 700)
    assert sum(len(json.dumps(m).encode()) for m in kept) <= 700
    assert kept[0]["role"] == "user"
    assert kept == tuple(messages[dropped:])
    assert kept[-1] == messages[-1]


def test_bound_cuts_one_huge_message() -> None:
    """A message larger than half the budget is cut rather than losing the exchange."""
    messages = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "é" * 5000}]
    kept, dropped = bound_messages(messages, 10, 1000)
    assert dropped == 0
    assert kept[1]["content"].endswith("\n[truncated]")
    assert len(json.dumps(kept, ensure_ascii=False).encode()) <= 1000
