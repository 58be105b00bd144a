"""Pure helpers of the delivery channels: allow-list, masking, excerpts, durations."""

from __future__ import annotations

import pytest

from symbiont.delivery._base import duration_text, excerpt, mask, parse_retry_after
from symbiont.delivery.webhook import host_allowed, sign
from tests.unit.delivery.helpers import make_run


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("hooks.example.com", True),
        ("HOOKS.example.com.", True),
        ("a.internal.example", True),
        ("deep.a.internal.example", True),
        ("internal.example", False),
        ("evil-internal.example", False),
        ("hooks.example.com.evil.net", False),
    ],
)
def test_the_allow_list_matches_hosts_and_wildcard_subdomains(host: str, allowed: bool) -> None:
    """Exact hosts match case-insensitively; ``*.x`` matches subdomains of x, not x itself."""
    assert host_allowed(host, ("hooks.example.com", "*.internal.example")) is allowed


def test_an_empty_allow_list_allows_any_host() -> None:
    """Without an allow-list every host is allowed."""
    assert host_allowed("anything.example", ())


def test_mask_hides_every_secret_but_not_tiny_values() -> None:
    """Secrets become ``***`` wherever they appear; values of three characters or less stay."""
    assert mask("key abcd and abcd, id 42", ["abcd", "42"]) == "key *** and ***, id 42"


def test_excerpt_flattens_and_cuts() -> None:
    """An excerpt is one line and at most the limit, marked ``...`` when cut."""
    assert excerpt("a\n  b\tc") == "a b c"
    assert excerpt("x" * 50, 10) == "xxxxxxx..."


@pytest.mark.parametrize(
    ("value", "seconds"), [("5", 5.0), (" 1.5 ", 1.5), ("-1", None), ("Wed, 21 Oct", None)]
)
def test_retry_after_reads_seconds_only(value: str, seconds: float | None) -> None:
    """``Retry-After`` in seconds is read; a date or a negative number is ignored."""
    assert parse_retry_after(value) == seconds


@pytest.mark.parametrize(
    ("millis", "text"),
    [(None, "n/a"), (850, "850 ms"), (2400, "2.4 s"), (65_000, "1 min 05 s")],
)
def test_durations_read_well(millis: int | None, text: str) -> None:
    """Run durations are shown in ms, seconds or minutes as fits."""
    assert duration_text(make_run(execution_time_ms=millis)) == text


def test_the_signature_is_the_hex_hmac_sha256_of_the_body() -> None:
    """``sign`` gives RFC 4231 test case 2's HMAC-SHA256 with the ``sha256=`` prefix."""
    expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    assert sign("Jefe", b"what do ya want for nothing?") == f"sha256={expected}"
