"""The recursive-descent parser of ``.symbi`` files: tokens to a syntax tree."""

from __future__ import annotations

from dataclasses import dataclass

from symbiont.core.errors import DslError
from symbiont.dsl._lexer import Kind, Token, tokenize

MAX_DEPTH = 32
"""Deepest nesting of blocks and lists; deeper input is an error, never a crash."""

_SCALARS = {Kind.STRING, Kind.INT, Kind.FLOAT, Kind.DURATION}
_SEPARATORS = {Kind.COMMA, Kind.SEMI}
_KEYS = {Kind.IDENT, Kind.STRING}


@dataclass(frozen=True, slots=True)
class Scalar:
    """A string, number, boolean or duration."""

    kind: str
    """``"string"``, ``"integer"``, ``"number"``, ``"boolean"`` or ``"duration"``."""
    value: str | int | float | bool
    """The decoded value (durations stay as written, e.g. ``"1h30m"``)."""
    line: int
    """Line of the first character."""
    column: int
    """Column of the first character."""


@dataclass(frozen=True, slots=True)
class ListNode:
    """A ``[a, b]`` list."""

    items: tuple[Value, ...]
    """The items, in order."""
    line: int
    """Line of ``[``."""
    column: int
    """Column of ``[``."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One ``key: value`` or ``key [label] { ... }`` entry."""

    key: str
    """The key (a name or a quoted string)."""
    line: int
    """Line of the key."""
    column: int
    """Column of the key."""
    value: Value
    """What follows the colon, or the block."""
    label: Scalar | None = None
    """The name between key and block, as in ``agent NAME { ... }``."""


@dataclass(frozen=True, slots=True)
class Table:
    """A ``{ ... }`` block or map: entries in source order."""

    entries: tuple[Entry, ...]
    """The entries, in order; keys are unique."""
    line: int
    """Line of ``{``."""
    column: int
    """Column of ``{``."""


Value = Scalar | ListNode | Table


class Parser:
    """Builds the syntax tree of one file; raises :class:`DslError` on bad syntax."""

    def __init__(self, text: str, path: str) -> None:
        """Tokenize *text*; errors name *path*."""
        self._path = path
        self._tokens, self._comment_lines = tokenize(text, path)
        self._index = 0
        self._depth = 0

    def document(self) -> tuple[Entry, ...]:
        """Parse the whole file: top-level entries (keys may repeat)."""
        entries = self._entries(closing=None, unique=False)
        return tuple(entries)

    def _peek(self, ahead: int = 0) -> Token:
        return self._tokens[min(self._index + ahead, len(self._tokens) - 1)]

    def _advance(self) -> Token:
        token = self._peek()
        self._index = min(self._index + 1, len(self._tokens) - 1)
        return token

    def _error(self, token: Token, problem: str, key: str | None = None) -> DslError:
        return DslError(self._path, token.line, token.column, problem, key=key)

    def _entries(self, closing: Token | None, *, unique: bool) -> list[Entry]:
        """Read entries up to the ``}`` matching *closing* (or end of file when None)."""
        entries: list[Entry] = []
        seen: dict[str, Entry] = {}
        while True:
            while self._peek().kind in _SEPARATORS:
                self._advance()
            token = self._peek()
            if token.kind is Kind.RBRACE and closing is not None:
                self._advance()
                return entries
            if token.kind is Kind.EOF:
                if closing is None:
                    return entries
                raise self._error(token, _unclosed("'}'", "block", closing))
            if token.kind not in _KEYS:
                raise self._error(token, _expected_key(token, closing))
            entry = self._entry()
            first = seen.get(entry.key)
            if unique and first is not None:
                problem = f"duplicate key '{entry.key}' (first set at {first.line}:{first.column})"
                raise DslError(self._path, entry.line, entry.column, problem, key=entry.key)
            seen.setdefault(entry.key, entry)
            entries.append(entry)

    def _entry(self) -> Entry:
        key_token = self._advance()
        key = key_token.text
        token = self._peek()
        label: Scalar | None = None
        if token.kind in _KEYS and self._peek(1).kind is Kind.LBRACE:
            label = Scalar("string", self._advance().text, token.line, token.column)
            token = self._peek()
        if token.kind is Kind.LBRACE:
            return Entry(key, key_token.line, key_token.column, self._table(), label)
        if token.kind is not Kind.COLON:
            problem = f"expected ':' or '{{' after '{key}', found {token.describe()}"
            raise self._error(token, problem, key)
        colon = self._advance()
        value_token = self._peek()
        if value_token.newline_before or value_token.kind is Kind.EOF:
            raise self._error(colon, self._missing_value(key, colon), key)
        return Entry(key, key_token.line, key_token.column, self._value(key))

    def _missing_value(self, key: str, colon: Token) -> str:
        problem = f"'{key}' has no value after ':'"
        if colon.line in self._comment_lines:
            problem += " ('#' and '//' start comments: quote values such as \"#ops\")"
        return problem

    def _value(self, key: str) -> Value:
        token = self._peek()
        if token.kind is Kind.LBRACE:
            return self._table()
        if token.kind is Kind.LBRACKET:
            return self._list(key)
        if token.kind in _SCALARS:
            self._advance()
            return _scalar(token)
        if token.kind is Kind.IDENT and token.text in {"true", "false"}:
            self._advance()
            return Scalar("boolean", token.text == "true", token.line, token.column)
        problem = f"expected a value for '{key}', found {token.describe()}"
        if token.kind is Kind.IDENT:
            problem += f'; text needs quotes: "{token.text}"'
        raise self._error(token, problem, key)

    def _enter(self, token: Token) -> None:
        self._depth += 1
        if self._depth > MAX_DEPTH:
            problem = f"too deeply nested: more than {MAX_DEPTH} levels of blocks and lists"
            raise self._error(token, problem)

    def _table(self) -> Table:
        opening = self._advance()
        self._enter(opening)
        entries = self._entries(opening, unique=True)
        self._depth -= 1
        return Table(tuple(entries), opening.line, opening.column)

    def _list(self, key: str) -> ListNode:
        opening = self._advance()
        self._enter(opening)
        items: list[Value] = []
        separated = True
        while True:
            token = self._peek()
            if token.kind is Kind.RBRACKET:
                self._advance()
                self._depth -= 1
                return ListNode(tuple(items), opening.line, opening.column)
            if token.kind is Kind.EOF:
                raise self._error(token, _unclosed("']'", "list", opening), key)
            if not separated and not token.newline_before:
                problem = (
                    f"expected ',' or ']' in the list opened at {opening.line}:{opening.column}"
                )
                raise self._error(token, f"{problem}, found {token.describe()}", key)
            if token.kind is Kind.COMMA:
                raise self._error(token, "expected a list item before ','", key)
            items.append(self._value(key))
            separated = self._peek().kind is Kind.COMMA
            if separated:
                self._advance()


def _scalar(token: Token) -> Scalar:
    if token.kind is Kind.INT:
        return Scalar("integer", int(token.text), token.line, token.column)
    if token.kind is Kind.FLOAT:
        return Scalar("number", float(token.text), token.line, token.column)
    if token.kind is Kind.DURATION:
        return Scalar("duration", token.text, token.line, token.column)
    return Scalar("string", token.text, token.line, token.column)


def _unclosed(bracket: str, what: str, opening: Token) -> str:
    return (
        f"expected {bracket} to close the {what} opened at {opening.line}:{opening.column}, "
        "found end of file"
    )


def _expected_key(token: Token, closing: Token | None) -> str:
    if closing is None and token.kind is Kind.RBRACE:
        return "unexpected '}': no block is open here"
    if closing is None:
        return (
            f"expected 'agent NAME {{' or 'schedule {{' at the top level, found {token.describe()}"
        )
    where = f"in the block opened at {closing.line}:{closing.column}"
    return f"expected a key or '}}' {where}, found {token.describe()}"


def parse(text: str, path: str) -> tuple[Entry, ...]:
    r"""Parse *text* into its top-level entries.

    Args:
        text: the source, with ``\n`` line ends.
        path: the file name used in error messages.

    Returns:
        The top-level entries, in source order.

    Raises:
        DslError: the text is not well-formed.
    """
    return Parser(text, path).document()
