"""Read and write Claude Code's JSON files so that what install did not touch comes back as it was.

Python's ``json`` would turn ``1e400`` into ``Infinity`` (not JSON), refuse an integer of more than 4,300
digits, write a lone ``\\ud83d`` as an unencodable surrogate and re-indent the whole file. Here every number
keeps its exact text (:class:`RawNumber`), a lone surrogate stays an escape, and the indent, the trailing
newline and ASCII-only escaping are those the file had. No maintained Python library round-trips plain JSON
with its formatting (json5 libraries change the dialect; ``json-five`` rewrites escapes), hence this module.
"""

from __future__ import annotations

import dataclasses
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

__all__ = ["JsonFormat", "JsonObject", "RawNumber", "dumps", "loads"]

JsonObject = dict[str, Any]

_INDENT = re.compile(r"\n([ \t]+)\S")
_SURROGATE = re.compile("[\ud800-\udfff]")


class RawNumber:
    """A JSON number as written in the file: compares by its text, written back verbatim."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RawNumber) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    def __repr__(self) -> str:
        return f"RawNumber({self.text!r})"


@dataclass(frozen=True)
class JsonFormat:
    """How a file was laid out, to write it back the same way."""

    indent: str | None = "  "
    compact: bool = False
    ascii_only: bool = False
    final_newline: bool = True

    @classmethod
    def of(cls, text: str) -> JsonFormat:
        match = _INDENT.search(text)
        return cls(
            indent=match[1] if match else None,
            compact=match is None and not re.search(r'"\s*:\s', text),
            ascii_only=text.isascii(),
            final_newline=text.endswith("\n"),
        )

    @classmethod
    def detect(cls, text: str, data: Any) -> JsonFormat:
        """The layout that writes ``data`` back as exactly ``text`` where one does, else :meth:`of`'s guess
        (a string holding ``": `` can mislead the guess about separators)."""
        guess = cls.of(text)
        for candidate in (guess, dataclasses.replace(guess, compact=not guess.compact)):
            if dumps(data, candidate) == text:
                return candidate
        return guess


def loads(text: str) -> Any:
    """Parse JSON keeping every number's text; raises ``ValueError`` on invalid JSON."""
    return json.loads(text, parse_int=RawNumber, parse_float=RawNumber, parse_constant=RawNumber)


def dumps(data: Any, fmt: JsonFormat | None = None) -> str:
    """Write ``data`` in ``fmt`` (default: Claude Code's own two-space layout), numbers verbatim."""
    fmt = fmt or JsonFormat()
    nonce = uuid.uuid4().hex
    numbers: list[str] = []

    def placeholder(value: Any) -> str:
        if not isinstance(value, RawNumber):
            raise TypeError(f"{type(value).__name__} is not JSON")
        numbers.append(value.text)
        return f"\0{nonce}:{len(numbers) - 1}\0"

    text = json.dumps(
        data,
        indent=fmt.indent,
        ensure_ascii=fmt.ascii_only,
        separators=(",", ":") if fmt.compact else None,
        default=placeholder,
    )
    if numbers:
        marker = re.compile(rf'"\\u0000{nonce}:(\d+)\\u0000"')
        text = marker.sub(lambda m: numbers[int(m[1])], text)
    if not fmt.ascii_only:
        # A lone surrogate (a string cut inside an emoji) stays an escape: as a character it is no UTF-8.
        text = _SURROGATE.sub(lambda m: f"\\u{ord(m[0]):04x}", text)
    return text + "\n" if fmt.final_newline else text
