"""UUIDv7 identifiers: valid RFC 9562 UUIDs, time-ordered, unique."""

from __future__ import annotations

import time
import uuid

from symbiont.core.ids import new_id, new_ids


def _millis(value: uuid.UUID) -> int:
    return value.int >> 80


def test_ids_are_version_7_rfc_uuids_carrying_the_time() -> None:
    """Single and batch ids parse as canonical v7 UUIDs whose timestamp is now."""
    before = time.time_ns() // 1_000_000
    made = [new_id(), *new_ids(500)]
    after = time.time_ns() // 1_000_000
    for text in made:
        value = uuid.UUID(text)
        assert str(value) == text  # canonical, lower-case, hyphenated
        assert value.version == 7
        assert value.variant == uuid.RFC_4122
        assert before <= _millis(value) <= after


def test_batch_ids_are_unique_and_use_every_random_bit() -> None:
    """A large batch has no duplicate and all 74 random bits vary."""
    made = new_ids(50_000)
    assert len(set(made)) == len(made)
    random_mask = (0xFFF << 64) | ((1 << 62) - 1)  # rand_a (12 bits) and rand_b (62 bits)
    ones, zeros = 0, 0
    for text in made:
        value = uuid.UUID(text).int
        ones |= value & random_mask
        zeros |= ~value & random_mask
    assert ones == zeros == random_mask  # every random bit was seen both set and clear


def test_ids_of_a_later_millisecond_sort_after() -> None:
    """Ids sort by creation time across milliseconds (they stay at the end of an index)."""
    first = new_ids(3)
    deadline = time.monotonic() + 1
    while _millis(uuid.UUID(new_id())) == _millis(uuid.UUID(first[0])):
        assert time.monotonic() < deadline
    later = [new_id(), *new_ids(3)]
    assert max(first) < min(later)
