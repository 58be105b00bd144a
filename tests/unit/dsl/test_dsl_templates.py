"""``${VAR}`` placeholders: listed, checked, never resolved."""

from __future__ import annotations

import pytest

from symbiont.dsl import parse_text, template_vars


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("no placeholders", []),
        ("${A}", ["A"]),
        ("Bearer ${TOKEN} for ${REGION:-eu} and ${TOKEN}", ["TOKEN", "REGION"]),
        ("${_x1:-}", ["_x1"]),
        ("${URL:-http://h:80/p}", ["URL"]),
        ("cost: $5 and $HOME stay literal", []),
    ],
)
def test_template_vars_lists_names_once_in_order(text: str, names: list[str]) -> None:
    """Each variable appears once, in order of first use; ``$`` without ``{`` is literal."""
    assert template_vars(text) == names


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("${", "at index 0: unterminated placeholder '${': add '}'"),
        ("x ${}", "at index 4: bad variable name in '${}'"),
        ("${9LIVES}", "at index 2: bad variable name in '${9LIVES}'"),
        ("${A-B}", "at index 3: bad placeholder '${A-B}'"),
    ],
)
def test_template_vars_rejects_malformed_placeholders(text: str, message: str) -> None:
    """A malformed placeholder raises ValueError saying where and why."""
    with pytest.raises(ValueError, match="^" + message.replace("$", "\\$").replace("{", "\\{")):
        template_vars(text)


def test_placeholders_are_never_resolved(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parsing keeps placeholders as written even when the variable is set."""
    monkeypatch.setenv("SECRET_TOKEN", "s3cr3t")
    source = (
        'agent a { command: "curl -H ${SECRET_TOKEN}" env { T: "${SECRET_TOKEN}" } }\n'
        'schedule { name: "x" agent: "a" cron: "0 0 * * *" input: "${SECRET_TOKEN}" }\n'
    )
    document = parse_text(source)
    assert "s3cr3t" not in repr(document)
    assert document.schedules[0].input == "${SECRET_TOKEN}"
    assert document.agents[0].argv[-1] == "${SECRET_TOKEN}"


def test_placeholder_position_accounts_for_escapes() -> None:
    """A bad placeholder after an escape is reported at its real column."""
    source = 'schedule { input: "\\u00e9\\t${bad-name}" }'
    with pytest.raises(ValueError, match=r"<string>:1:33: bad placeholder"):
        parse_text(source)
