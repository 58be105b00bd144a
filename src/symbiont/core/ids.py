"""Identifiers: time-ordered UUIDs (version 7) as text.

Time-ordered ids keep inserts at the end of the primary-key index in SQLite and
PostgreSQL instead of scattering them, and sort roughly by creation time.
"""

from __future__ import annotations

import os
import time

_VARIANT = 0x8000_0000_0000_0000  # RFC 9562 variant bits 10xx in the top of the low 64 bits
_LOW_RANDOM = 0x3FFF_FFFF_FFFF_FFFF


def new_id() -> str:
    """Return a new UUIDv7 (RFC 9562: 48-bit Unix milliseconds, version, random bits)."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    high = (ms & 0xFFFF_FFFF_FFFF) << 16 | 0x7000 | (rand >> 64) & 0x0FFF
    low = _VARIANT | (rand & _LOW_RANDOM)
    text = f"{high:016x}{low:016x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
