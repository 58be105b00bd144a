"""Resolve ``${VAR}`` and ``${VAR:-default}`` placeholders when an agent actually runs.

The DSL keeps placeholders as written (a secret never reaches the store); the runtime
resolves them here, against the mapping the composition root hands it, just before use.
"""

from __future__ import annotations

from collections.abc import Mapping

from symbiont.core.errors import SymbiontError
from symbiont.dsl import template_vars

__all__ = ("TemplateError", "resolve_template")


class TemplateError(SymbiontError, ValueError):
    """A placeholder cannot be resolved: its variable is unset, or it is malformed.

    The message names the variable only; it never repeats the text around the placeholder
    nor any other value, so it is safe to log even when the text holds secrets.

    Attributes:
        variable: the variable's name, or ``None`` when the placeholder is malformed.
    """

    def __init__(self, variable: str | None, problem: str) -> None:
        super().__init__(problem)
        self.variable = variable


def resolve_template(text: str, environ: Mapping[str, str]) -> str:
    """Replace every ``${VAR}`` / ``${VAR:-default}`` in *text* with its value.

    ``${VAR}`` takes the value of ``VAR`` (an empty value stays empty). ``${VAR:-default}``
    takes ``default`` when ``VAR`` is unset *or empty*, as in POSIX shells. Resolution is a
    single pass: a value that itself contains ``${...}`` is inserted literally. ``$`` not
    followed by ``{`` is an ordinary character.

    Args:
        text: the string as written in the agent definition.
        environ: the variables to resolve against.

    Returns:
        *text* with every placeholder replaced.

    Raises:
        TemplateError: a variable without a default is unset, or a placeholder is
            malformed. The message names the variable and never shows any value.
    """
    if "${" not in text:
        return text
    try:
        template_vars(text)
    except ValueError as exc:
        # The parser's message quotes the text near the problem; keep only the position.
        where = str(exc).partition(":")[0]
        raise TemplateError(
            None, f"malformed placeholder {where}: write ${{NAME}} or ${{NAME:-default}}"
        ) from None
    parts: list[str] = []
    index = 0
    while (start := text.find("${", index)) >= 0:
        close = text.index("}", start)
        name, sep, default = text[start + 2 : close].partition(":-")
        parts.append(text[index:start])
        parts.append(_value(name, default if sep else None, environ))
        index = close + 1
    parts.append(text[index:])
    return "".join(parts)


def _value(name: str, default: str | None, environ: Mapping[str, str]) -> str:
    value = environ.get(name)
    if default is not None:
        return value or default
    if value is None:
        raise TemplateError(
            name,
            f"environment variable {name!r} is not set (used as ${{{name}}}); "
            f"set it, or write ${{{name}:-default}} to give a default",
        )
    return value
