"""Config validation errors as sentences: the file, the line, what is wrong, and a suggestion.

pydantic's own message is a dump of locations, input values and documentation links; a user who mistyped
``[provider.acme]`` needs "line 3: [provider.acme] is not a known section; did you mean [providers.acme]?".
TOML parsers give no positions for keys, so the line is found by searching the text for the table header or
key the error names (the first match after its parent's header): good enough to point at a typo.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

__all__ = ["describe_validation_error"]


def describe_validation_error(exc: ValidationError, path: Path, text: str, model: type[BaseModel]) -> str:
    """One sentence per problem in ``exc``, each naming ``path`` and the line it is on where it can be found."""
    lines = text.splitlines()
    found = [_problem(error, path, lines, model) for error in exc.errors(include_url=False)]
    problems = [problem for _line, problem in sorted(found, key=lambda pair: pair[0] or 0)]
    head = f"config file {path} is invalid:" if len(problems) > 1 else ""
    return "\n".join([head, *(f"- {p}" for p in problems)]) if head else problems[0]


def _problem(error: Any, path: Path, lines: list[str], model: type[BaseModel]) -> tuple[int | None, str]:
    loc = tuple(str(part) for part in error["loc"])
    is_key = loc[-1:] == ("[key]",)  # pydantic's marker for a bad dict key, e.g. an unknown task type
    loc = loc[:-1] if is_key else loc
    line = _line_of(loc, lines)
    where = f"{path}, line {line}" if line else str(path)
    kind = error["type"]
    if kind == "extra_forbidden":
        return line, f"{where}: {_unknown(loc, lines, line, model)}"
    if kind == "missing":
        return line, f"{where}: {'.'.join(loc)} is required but missing."
    subject = f"{'.'.join(loc[:-1])} has the key {loc[-1]!r}" if is_key else ".".join(loc)
    value = error.get("input")
    shown = f" (got {value!r})" if not is_key and isinstance(value, str | int | float | bool) else ""
    message = str(error["msg"]).rstrip(".").replace("Input should be", "it should be")
    return line, f"{where}: {subject}{shown}; {message}."


def _unknown(loc: tuple[str, ...], lines: list[str], line: int | None, model: type[BaseModel]) -> str:
    allowed = _fields_at(model, loc[:-1])
    name = loc[-1]
    header = lines[line - 1].strip() if line is not None else ""
    close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
    if header.startswith("["):
        rest = header.strip("[]").split("]", 1)[0].strip().split(".")[len(loc) :]  # "acme" in [provider.acme]
        shown = "[" + ".".join([*loc, *rest]) + "]"
        fix = "[" + ".".join([*loc[:-1], close[0], *rest]) + "]" if close else None
        kind = "section"
    else:
        shown = ".".join(loc)
        fix = ".".join([*loc[:-1], close[0]]) if close else None
        kind = "setting"
    hint = f" did you mean {fix}?" if fix else f" known ones here: {', '.join(allowed)}." if allowed else ""
    return f"{shown} is not a known {kind};{hint}"


def _fields_at(model: type[BaseModel], loc: Sequence[str]) -> list[str]:
    """The field names allowed at ``loc``, walking nested models (a dict's key leads to its value model)."""
    current: Any = model
    for part in loc:
        if isinstance(current, _DictOf):
            current = current.value
        elif _is_model(current) and part in current.model_fields:
            current = _resolve(current.model_fields[part].annotation)
        else:
            return []
    return list(current.model_fields) if _is_model(current) else []


def _is_model(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)


@dataclass(frozen=True)
class _DictOf:
    value: Any


def _resolve(annotation: Any) -> Any:
    if _is_model(annotation):
        return annotation
    args = get_args(annotation)
    if get_origin(annotation) is dict and len(args) == 2:
        return _DictOf(_resolve(args[1]))
    return None


def _line_of(loc: tuple[str, ...], lines: list[str]) -> int | None:
    """The 1-based line where ``loc`` is written: a ``[a.b...]`` header, else ``key =`` below its parent."""
    for size in range(len(loc), 0, -1):
        header = re.compile(r"^\s*\[+\s*" + r"\s*\.\s*".join(map(_key_re, loc[:size])) + r"\s*[.\]]")
        for number, text in enumerate(lines, 1):
            if header.match(text):
                if size == len(loc):
                    return number
                return _key_line(loc[size], lines, number) or number
    return _key_line(loc[0], lines, 0) if loc else None


def _key_line(key: str, lines: list[str], after: int) -> int | None:
    pattern = re.compile(r"^\s*" + _key_re(key) + r"\s*[=.]")
    for number in range(after + 1, len(lines) + 1):
        if after and number > after and lines[number - 1].lstrip().startswith("["):
            return None
        if pattern.match(lines[number - 1]):
            return number
    return None


def _key_re(key: str) -> str:
    return "(?:" + "|".join([re.escape(key), re.escape(f'"{key}"'), re.escape(f"'{key}'")]) + ")"
