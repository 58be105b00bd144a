"""``${VAR}`` and ``${VAR:-default}`` placeholders: syntax checks, never resolution."""

from __future__ import annotations

import re
from typing import NamedTuple

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}")


class TemplateProblem(NamedTuple):
    """The first malformed placeholder in a string."""

    position: int
    """Index in the string where the problem is."""
    problem: str
    """What is wrong and how to write it."""


class _Placeholder(NamedTuple):
    name: str
    end: int


def _scan(text: str, start: int) -> _Placeholder | TemplateProblem:
    """Read the placeholder whose ``${`` is at *start*."""
    close = text.find("}", start + 2)
    if close < 0:
        snippet = text[start : start + 20]
        return TemplateProblem(start, f"unterminated placeholder {snippet!r}: add '}}'")
    body = text[start + 2 : close]
    name_match = _NAME.match(body)
    if name_match is None:
        return TemplateProblem(
            start + 2,
            f"bad variable name in '${{{body}}}': use letters, digits and '_', "
            "not starting with a digit, e.g. '${API_KEY}'",
        )
    after = body[name_match.end() :]
    if after and not after.startswith(":-"):
        return TemplateProblem(
            start + 2 + name_match.end(),
            f"bad placeholder '${{{body}}}': write '${{NAME}}' or '${{NAME:-default}}'",
        )
    return _Placeholder(name_match.group(), close + 1)


def find_template_problem(text: str) -> TemplateProblem | None:
    """Return the first malformed ``${...}`` placeholder in *text*, or ``None``.

    Args:
        text: a string value as written in a ``.symbi`` file (escapes decoded).

    Returns:
        Where the first problem is and what it is, or ``None`` when every placeholder
        is well formed.
    """
    index = text.find("${")
    while index >= 0:
        found = _scan(text, index)
        if isinstance(found, TemplateProblem):
            return found
        index = text.find("${", found.end)
    return None


def template_vars(text: str) -> list[str]:
    """List the variable names that ``${VAR}`` / ``${VAR:-default}`` placeholders use.

    Placeholders are never resolved here: they stay in the text as written, so a secret
    never reaches the store. Names appear once each, in order of first use.

    Args:
        text: a string that may hold placeholders.

    Returns:
        The variable names, e.g. ``["API_KEY", "REGION"]``.

    Raises:
        ValueError: a placeholder is malformed; the message says where and why.
    """
    problem = find_template_problem(text)
    if problem is not None:
        raise ValueError(f"at index {problem.position}: {problem.problem}")
    return list(dict.fromkeys(match.group(1) for match in _PLACEHOLDER.finditer(text)))


def has_template(text: str) -> bool:
    """Tell whether *text* holds at least one ``${...}`` placeholder."""
    return "${" in text
