"""``${VAR}`` resolution: values, defaults, single pass, and errors that leak nothing."""

from __future__ import annotations

import pytest

from symbiont.runtime import TemplateError, resolve_template

ENV = {"TOKEN": "s3cr3t-value", "REGION": "eu", "EMPTY": "", "NESTED": "${TOKEN}"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain text", "plain text"),
        ("Bearer ${TOKEN}", "Bearer s3cr3t-value"),
        ("${REGION}-${REGION}", "eu-eu"),
        ("${MISSING:-fallback}", "fallback"),
        ("${EMPTY:-fallback}", "fallback"),
        ("[${EMPTY}]", "[]"),
        ("${REGION:-x}", "eu"),
        ("${MISSING:-}", ""),
        ("${MISSING:-http://h:80/p}", "http://h:80/p"),
        ("cost $5 and $HOME stay", "cost $5 and $HOME stay"),
        ("${NESTED}", "${TOKEN}"),
    ],
)
def test_resolves_placeholders(text: str, expected: str) -> None:
    """Values replace placeholders; defaults apply to unset or empty variables; one pass only."""
    assert resolve_template(text, ENV) == expected


def test_unset_variable_names_it_and_nothing_else() -> None:
    """An unset variable without default is an error naming it, never showing other values."""
    with pytest.raises(TemplateError) as caught:
        resolve_template("Bearer ${TOKEN} for ${API_KEY} literal-pass", ENV)
    message = str(caught.value)
    assert message == (
        "environment variable 'API_KEY' is not set (used as ${API_KEY}); "
        "set it, or write ${API_KEY:-default} to give a default"
    )
    assert caught.value.variable == "API_KEY"
    assert "s3cr3t" not in message
    assert "literal-pass" not in message


@pytest.mark.parametrize("text", ["key=${", "x ${1X} y", "${A:x} secret-part"])
def test_malformed_placeholder_gives_position_only(text: str) -> None:
    """A malformed placeholder is an error that gives its position, not the text around it."""
    with pytest.raises(TemplateError, match=r"^malformed placeholder at index \d+") as caught:
        resolve_template(text, ENV)
    assert caught.value.variable is None
    assert "secret-part" not in str(caught.value)
