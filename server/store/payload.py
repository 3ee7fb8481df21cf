"""One spool file's text → a JSON object every store accepts, repaired where it can be, refused with a reason where not.

Claude Code writes what it has: Node's ``JSON.stringify`` emits a lone UTF-16 surrogate when it cuts a string
inside an emoji, and a hook's input is whatever the model or a tool produced. Python's ``json`` accepts more
than the stores do, so each of these is repaired here, in its own right, before the event goes anywhere:

- a lone surrogate (``"\\ud83d"``): SQLite's UTF-8 encoder refuses it; it becomes U+FFFD;
- NUL (``"\\u0000"``): PostgreSQL text and ``jsonb`` refuse it; it is dropped;
- ``NaN``/``Infinity`` and numbers out of float range: not JSON at all; they are kept as their text;
- integers longer than 20 digits: Python refuses to print one of over 4,300 digits and SQLite's
  ``json_extract`` turns a long one into a float; they are kept as their text;
- nesting deeper than :data:`MAX_DEPTH`: deeper containers become a marker (redaction and the stores walk
  the tree recursively).

What cannot be repaired raises :class:`BadEvent`, whose message is the quarantine reason: not UTF-8, not
JSON, not an object, or nested too deep for the parser itself.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

__all__ = ["MAX_DEPTH", "TOO_DEEP", "BadEvent", "decode_payload"]

MAX_DEPTH = 100
"""Containers nested deeper than this are replaced by :data:`TOO_DEEP`; no real hook event comes close."""

TOO_DEEP = f"[TRUNCATED: nested deeper than {MAX_DEPTH} levels]"

_MAX_INT_DIGITS = 20  # int64 and uint64 fit; longer ones stay exact as text
_REPLACEMENT = "\ufffd"
_SURROGATE = re.compile("[\ud800-\udfff]")
# What only the repair walk fixes: a \u0000 or a \uD800 to \uDFFF escape (a valid pair decodes to one
# character, so any surrogate left after decoding is a lone one). Linear: a fixed-length pattern.
_NEEDS_WALK = re.compile(r"\\u(?:0000|[dD][89abcdefABCDEF])")
# orjson turns an integer outside int64/uint64 into a float: data with 19 digits in a row (in a number or
# not) takes the standard parser, which keeps such integers exact. Digits map to "0", then one substring
# search: 1.8 µs per 1 KiB event where the regex [0-9]{19} took 16.6 µs.
_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_DIGITS = b"0" * 19


class BadEvent(ValueError):
    """A spool file that is not one hook event; the message is the quarantine reason."""


def _parse_int(text: str) -> int | str:
    digits = len(text) - (text[0] == "-")
    return int(text) if digits <= _MAX_INT_DIGITS else text


def _parse_float(text: str) -> float | str:
    value = float(text)
    return value if value - value == 0.0 else text  # inf - inf is nan: 1e400 is kept as its text


def _parse_constant(text: str) -> str:
    return text  # NaN, Infinity, -Infinity


def _clean_text(text: str) -> str:
    if "\x00" in text:
        text = text.replace("\x00", "")
    return _SURROGATE.sub(_REPLACEMENT, text)


def _repair(value: Any, depth: int) -> Any:
    # Recursion is bounded by MAX_DEPTH: deeper containers are cut before their children are visited.
    if isinstance(value, str):
        return _clean_text(value)
    if isinstance(value, dict | list) and depth >= MAX_DEPTH:
        return TOO_DEEP
    if isinstance(value, dict):
        return {_clean_text(k): _repair(v, depth + 1) for k, v in value.items()}  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
    if isinstance(value, list):
        return [_repair(item, depth + 1) for item in value]  # pyright: ignore[reportUnknownVariableType]
    return value


def _may_nest_too_deep(text: str) -> bool:
    # A cheap necessary condition: MAX_DEPTH levels need at least MAX_DEPTH opening brackets.
    return text.count("{") + text.count("[") > MAX_DEPTH


def decode_payload(data: bytes) -> tuple[dict[str, Any], str]:
    """The hook event in ``data``, repaired so any store accepts it, and its JSON text as received.

    Raises:
        BadEvent: the data is empty, not UTF-8, not JSON, not a JSON object, or too deeply nested to parse.
    """
    if not data.strip():
        raise BadEvent("empty payload")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadEvent(f"not UTF-8 (byte {exc.start})") from exc
    payload = None if _LONG_DIGITS in data.translate(_DIGITS_TO_ZERO) else _fast_loads(text)
    if payload is None:
        payload = _loads(text)
    if not isinstance(payload, dict):
        raise BadEvent(f"not a JSON object but {type(payload).__name__}")
    if _NEEDS_WALK.search(text) or _may_nest_too_deep(text):
        payload = _repair(payload, 0)
    return payload, text  # pyright: ignore[reportUnknownVariableType]


def _fast_loads(text: str) -> Any:
    """orjson's reading of ``text`` where it equals the standard parser's, else None.

    orjson refuses NaN/Infinity, numbers out of float range, lone surrogates and nesting over 1,024 levels
    (None: the standard parser below handles or reports each) and reads everything else as ``json`` does,
    but for integers outside 64 bits, which the caller sends to the standard parser (:data:`_LONG_DIGITS`).
    """
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return None


def _loads(text: str) -> Any:
    try:
        return json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant)
    except json.JSONDecodeError as exc:
        # The message names a position only, never the content (which may hold secrets).
        raise BadEvent(f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    except RecursionError as exc:
        raise BadEvent("nested too deep to parse (over Python's recursion limit)") from exc
    except ValueError as exc:  # a number the parser cannot convert; the message quotes no content
        raise BadEvent(f"not JSON: {type(exc).__name__}") from exc
