"""The lexer of ``.symbi`` files: text to tokens with line and column."""

from __future__ import annotations

import bisect
import re
import textwrap
from dataclasses import dataclass
from enum import StrEnum

from symbiont.core.durations import parse_duration
from symbiont.core.errors import DslError
from symbiont.dsl._templates import find_template_problem


class Kind(StrEnum):
    """Token kinds."""

    IDENT = "name"
    STRING = "string"
    INT = "integer"
    FLOAT = "number"
    DURATION = "duration"
    LBRACE = "'{'"
    RBRACE = "'}'"
    LBRACKET = "'['"
    RBRACKET = "']'"
    COLON = "':'"
    COMMA = "','"
    SEMI = "';'"
    EOF = "end of file"


@dataclass(frozen=True, slots=True)
class Token:
    """One token of the source."""

    kind: Kind
    """What the token is."""
    text: str
    """The token as written (for strings: the decoded value)."""
    line: int
    """1-based line of the first character."""
    column: int
    """1-based column of the first character."""
    newline_before: bool
    """A line break separates this token from the previous one."""

    def describe(self) -> str:
        """Describe the token for an error message (``string "x"``, ``'}'``)."""
        if self.kind is Kind.STRING:
            return f'string "{shorten(self.text, _SHOWN)}"'
        if self.kind in {Kind.IDENT, Kind.INT, Kind.FLOAT, Kind.DURATION}:
            return f"{self.kind.value} '{self.text}'"
        return self.kind.value


def shorten(text: str, limit: int) -> str:
    """Cut *text* to *limit* characters and escape what a terminal would not show."""
    cut = text if len(text) <= limit else text[: limit - 3] + "..."
    return "".join(char if char.isprintable() else f"\\u{ord(char):04x}" for char in cut)


_PUNCTUATION = {
    "{": Kind.LBRACE,
    "}": Kind.RBRACE,
    "[": Kind.LBRACKET,
    "]": Kind.RBRACKET,
    ":": Kind.COLON,
    ",": Kind.COMMA,
    ";": Kind.SEMI,
}
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?[A-Za-z0-9_]*")
_SPACE = re.compile(r"[ \t\r\f\v]+")
_SIMPLE_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r", "/": "/"}
_HEX4 = re.compile(r"[0-9A-Fa-f]{4}")
_SHOWN = 30
"""Longest string shown whole in an error message."""
_CONTROL = frozenset(chr(code) for code in [*range(0x20), 0x7F]) - {"\t", "\n"}
_SURROGATES = range(0xD800, 0xE000)


class Lexer:
    """Splits one source text into tokens; raises :class:`DslError` on bad input."""

    def __init__(self, text: str, path: str) -> None:
        """Prepare to read *text*, reporting errors against *path*."""
        self._text = text
        self._path = path
        self._pos = 0
        self._newline = True
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.comment_lines: set[int] = set()
        """Lines that end in a comment (for hints about unquoted ``#``)."""

    def position(self, offset: int) -> tuple[int, int]:
        """Return the 1-based (line, column) of *offset*."""
        index = bisect.bisect_right(self._line_starts, offset) - 1
        return index + 1, offset - self._line_starts[index] + 1

    def error(self, offset: int, problem: str) -> DslError:
        """Build a :class:`DslError` located at *offset*."""
        line, column = self.position(offset)
        return DslError(self._path, line, column, problem)

    def tokens(self) -> list[Token]:
        """Read the whole text; the last token is always ``EOF``."""
        result: list[Token] = []
        while True:
            self._skip_blanks()
            token = self._next_token()
            result.append(token)
            if token.kind is Kind.EOF:
                return result

    def _skip_blanks(self) -> None:
        text = self._text
        while self._pos < len(text):
            char = text[self._pos]
            if char == "\n":
                self._newline = True
                self._pos += 1
            elif char == "#" or text.startswith("//", self._pos):
                self.comment_lines.add(self.position(self._pos)[0])
                end = text.find("\n", self._pos)
                self._pos = len(text) if end < 0 else end
            else:
                match = _SPACE.match(text, self._pos)
                if match is None:
                    return
                self._pos = match.end()

    def _make(self, kind: Kind, text: str, start: int) -> Token:
        line, column = self.position(start)
        token = Token(kind, text, line, column, self._newline)
        self._newline = False
        return token

    def _next_token(self) -> Token:
        start = self._pos
        if start >= len(self._text):
            return self._make(Kind.EOF, "", start)
        char = self._text[start]
        if char in _PUNCTUATION:
            self._pos += 1
            return self._make(_PUNCTUATION[char], char, start)
        if char == '"':
            return self._string(start)
        if char.isascii() and (char.isdigit() or char == "-"):
            return self._number(start)
        match = _IDENT.match(self._text, start)
        if match is not None:
            self._pos = match.end()
            return self._make(Kind.IDENT, match.group(), start)
        raise self.error(start, f"unexpected character {char!r}")

    def _number(self, start: int) -> Token:
        match = _NUMBER.match(self._text, start)
        if match is None:
            raise self.error(start, f"unexpected character {self._text[start]!r}")
        self._pos = match.end()
        text = match.group()
        if text.lstrip("-").isdigit():
            return self._make(Kind.INT, text, start)
        if match.group(1) is not None and match.end(1) == match.end():
            return self._make(Kind.FLOAT, text, start)
        try:
            parse_duration(text)
        except ValueError as exc:
            raise self.error(start, str(exc)) from None
        return self._make(Kind.DURATION, text, start)

    def _string(self, start: int) -> Token:
        if self._text.startswith('"""', start):
            value, offsets = self._string_body(start, start + 3, '"""')
            self._check_templates(value, offsets)
            value = value.removeprefix("\n")
            return self._make(Kind.STRING, textwrap.dedent(value), start)
        value, offsets = self._string_body(start, start + 1, '"')
        self._check_templates(value, offsets)
        return self._make(Kind.STRING, value, start)

    def _string_body(self, start: int, pos: int, quote: str) -> tuple[str, list[int]]:
        """Decode a string from *pos* to its closing *quote*; return value and offsets."""
        text = self._text
        chars: list[str] = []
        offsets: list[int] = []
        while True:
            if pos >= len(text) or (quote == '"' and text[pos] == "\n"):
                raise self.error(start, _unterminated(quote))
            if text.startswith(quote, pos):
                self._pos = pos + len(quote)
                return "".join(chars), offsets
            char = text[pos]
            offsets.append(pos)
            if char == "\\":
                decoded, pos = self._escape(pos)
                chars.append(decoded)
                continue
            if char in _CONTROL:
                problem = f"control character U+{ord(char):04X} in string: write it as an escape"
                raise self.error(pos, problem)
            chars.append(char)
            pos += 1

    def _escape(self, pos: int) -> tuple[str, int]:
        """Decode the escape whose backslash is at *pos*; return it and the next offset."""
        text = self._text
        code = text[pos + 1 : pos + 2]
        if code in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[code], pos + 2
        if code == "u":
            digits = _HEX4.match(text, pos + 2)
            if digits is None:
                raise self.error(pos, "'\\u' must be followed by 4 hex digits, e.g. '\\u00e9'")
            value = int(digits.group(), 16)
            if value in _SURROGATES:
                raise self.error(pos, f"'\\u{digits.group()}' is a surrogate, not a character")
            return chr(value), pos + 6
        shown = "\\" + code if code and code != "\n" else "\\"
        raise self.error(
            pos,
            f"unknown escape '{shown}' in string: use \\\" \\\\ \\n \\t \\r or \\uXXXX",
        )

    def _check_templates(self, value: str, offsets: list[int]) -> None:
        found = find_template_problem(value)
        if found is not None:
            raise self.error(offsets[found.position], found.problem)


def _unterminated(quote: str) -> str:
    if quote == '"':
        return (
            "unterminated string: add the closing '\"' on the same line "
            '(use """...""" for text on several lines)'
        )
    return 'unterminated string: add the closing \'"""\''


def tokenize(text: str, path: str) -> tuple[list[Token], set[int]]:
    r"""Split *text* into tokens.

    Args:
        text: the source, with ``\n`` line ends.
        path: the file name used in error messages.

    Returns:
        The tokens (ending with ``EOF``) and the numbers of the lines that hold a comment.

    Raises:
        DslError: an unterminated string, a bad escape, a malformed ``${...}``, a bad
            duration or a character that starts no token.
    """
    lexer = Lexer(text, path)
    return lexer.tokens(), lexer.comment_lines
