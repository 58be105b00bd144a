"""Entry points: text or a file in, a validated :class:`Document` out."""

from __future__ import annotations

import os
from pathlib import Path

from symbiont.core.errors import DslError
from symbiont.dsl._parser import parse
from symbiont.dsl._validate import build_document
from symbiont.dsl.model import Document


def parse_text(text: str, path: str = "<string>") -> Document:
    r"""Parse and validate the ``.symbi`` source *text*.

    Args:
        text: the source; ``\r\n`` line ends and a leading byte-order mark are accepted.
        path: the name errors and results carry (a file path, or ``"<string>"``).

    Returns:
        The agents and schedules the text defines.

    Raises:
        DslError: the text is malformed or breaks a schema rule; the message reads
            ``path:line:col: problem`` and says how to fix it.
    """
    source = text.removeprefix("\ufeff").replace("\r\n", "\n")
    return build_document(parse(source, path), path)


def parse_file(path: str | os.PathLike[str]) -> Document:
    """Read the UTF-8 file *path* and parse it like :func:`parse_text`.

    Args:
        path: the file to read.

    Returns:
        The agents and schedules the file defines; each keeps *path* as given.

    Raises:
        DslError: the file cannot be read (at 1:1), is not valid UTF-8 (at the bad
            byte), is malformed or breaks a schema rule.
    """
    name = os.fspath(path)
    try:
        data = Path(name).read_bytes()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise DslError(name, 1, 1, f"cannot read the file: {reason}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        column = len(data[line_start : exc.start].decode("utf-8", "replace")) + 1
        problem = f"the file is not valid UTF-8 (byte 0x{data[exc.start]:02x})"
        raise DslError(name, line, column, problem) from None
    return parse_text(text, name)
