"""Session bookkeeping for the executor: summaries derived from output, bounded conversations."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from symbiont.runtime._base import cap_text

SUMMARY_CHARS = 500
"""A derived summary holds at most this many characters."""
SUMMARY_LINES = 5
"""A derived summary holds at most this many lines."""
AGENT_SUMMARY_BYTES = 8 * 1024
"""A summary the agent gives is cut to this many bytes."""
_CUT_MARK = "\n[truncated]"


def derive_summary(output: str) -> str | None:
    """The last non-empty lines of *output*: at most 5 lines and 500 characters.

    Lines are stripped and taken from the end while they fit; a last line longer than the
    limit is cut to its first 499 characters plus ``…``. ``None`` for blank output.
    """
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    if not lines:
        return None
    picked: list[str] = []
    size = -1
    for line in reversed(lines[-SUMMARY_LINES:]):
        if picked and size + 1 + len(line) > SUMMARY_CHARS:
            break
        picked.append(line)
        size += 1 + len(line)
    text = "\n".join(reversed(picked))
    if len(text) > SUMMARY_CHARS:
        text = text[: SUMMARY_CHARS - 1] + "…"
    return text


def choose_summary(given: str | None, output: str) -> str | None:
    """The agent's own summary (cut to 8 KiB) when it gave a non-blank one, else derived."""
    if given is not None and given.strip():
        return cap_text(given.strip(), AGENT_SUMMARY_BYTES)[0]
    return derive_summary(output)


def _size(message: Mapping[str, Any]) -> int:
    return len(json.dumps(message, ensure_ascii=False, default=str).encode("utf-8"))


def _capped(message: Mapping[str, Any], max_bytes: int) -> dict[str, Any]:
    copy = dict(message)
    content = copy.get("content")
    if isinstance(content, str):
        cut, truncated = cap_text(content, max(max_bytes - len(_CUT_MARK), 0))
        if truncated:
            copy["content"] = cut + _CUT_MARK
    return copy


def bound_messages(
    messages: Iterable[Mapping[str, Any]], max_messages: int, max_bytes: int
) -> tuple[tuple[dict[str, Any], ...], int]:
    """Keep the newest messages within *max_messages* and *max_bytes*.

    The policy: a message's text is first cut to half of *max_bytes* (so one exchange
    always fits), then the oldest messages are dropped until both limits hold, and a
    leading ``assistant`` message is dropped too (a conversation starts with a user turn).
    Sizes are measured as UTF-8 JSON.

    Returns:
        The kept messages (oldest first) and how many were dropped.
    """
    kept = [_capped(message, max_bytes // 2) for message in messages]
    sizes = [_size(message) for message in kept]
    total = sum(sizes)
    start = 0
    while start < len(kept) and (
        len(kept) - start > max_messages
        or total > max_bytes
        or kept[start].get("role") == "assistant"
    ):
        total -= sizes[start]
        start += 1
    return tuple(kept[start:]), start
