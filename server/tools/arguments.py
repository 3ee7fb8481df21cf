"""Argument errors a model and a person can act on: one sentence per problem, naming the argument and what it takes.

The MCP SDK answers a call whose arguments fail validation with pydantic's report (type codes, input dumps and a
documentation link). An :class:`ExplainedTool` (every tool of :mod:`server.tools.table` is one) answers with
sentences instead, built from the tool's own input schema:
``get_output has no argument 'id'; its arguments are: output_id``,
``stats: section must be one of 'overview', ...; got 'cost'``.
"""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.server.mcpserver.tools import Tool
from pydantic import ValidationError

__all__ = ["ExplainedTool", "explain"]

_JSON_TYPES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "an object",
}


class ExplainedTool(Tool):
    """A tool whose argument errors are sentences (same fields; only :meth:`run` differs).

    Build one with ``ExplainedTool.from_function`` (the SDK's classmethod, which makes an instance of ``cls``).
    """

    async def run(self, arguments: dict[str, Any], context: Any, convert_result: bool = False) -> Any:
        try:
            return await super().run(arguments, context, convert_result)
        except ToolError as exc:
            cause = exc.__cause__
            if isinstance(cause, ValidationError) and not isinstance(exc, UnexpectedToolError):
                raise ToolError(explain(self.name, self.parameters, arguments, cause)) from cause
            raise


def _allowed(schema: dict[str, Any]) -> list[Any] | None:
    if "enum" in schema:
        return list(schema["enum"])
    if "const" in schema:
        return [schema["const"]]
    for key in ("anyOf", "oneOf"):
        values = [v for option in schema.get(key, []) for v in (_allowed(option) or [])]
        if values:
            return values
    return None


def _kind(schema: dict[str, Any]) -> str | None:
    kinds = [schema.get("type")] + [option.get("type") for option in schema.get("anyOf", [])]
    named = [_JSON_TYPES[k] for k in kinds if isinstance(k, str) and k in _JSON_TYPES]
    return " or ".join(dict.fromkeys(named)) or None


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _sentence(error: Any, properties: dict[str, Any], names: str) -> str:
    location = [str(part) for part in error["loc"]]
    name = location[0] if location else "arguments"
    where = ".".join(location)
    schema = properties.get(name, {})
    if error["type"] == "missing":
        return f"The argument {name} is required (its arguments are: {names})"
    allowed = _allowed(schema) if len(location) == 1 else None
    if allowed:
        listed = ", ".join(_shown(v) for v in allowed)
        return f"The argument {where} must be one of {listed}; got {_shown(error.get('input'))}"
    message = str(error["msg"])
    message = message.replace("Input should be", "should be").replace("Value error, ", "")
    kind = _kind(schema) if len(location) == 1 else None
    hint = f" ({kind})" if kind and kind not in message else ""
    return f"The argument {where} {message[0].lower()}{message[1:]}{hint}; got {_shown(error.get('input'))}"


def explain(tool: str, parameters: dict[str, Any], arguments: dict[str, Any], error: ValidationError) -> str:
    """Sentences saying what is wrong with ``arguments`` of ``tool``, from its input schema ``parameters``."""
    properties: dict[str, Any] = parameters.get("properties") or {}
    names = ", ".join(properties) or "none"
    unknown = [key for key in arguments if key not in properties]
    sentences = [f"There is no argument {_shown(key)}" for key in unknown]
    if unknown:
        sentences[-1] += f"; its arguments are: {names}"
    for item in error.errors(include_url=False):
        if item["type"] == "missing" and unknown:
            sentences.append(f"The argument {item['loc'][0]} is required")
        else:
            sentences.append(_sentence(item, properties, names))
    return f"{tool}: " + " ".join(f"{sentence}." for sentence in sentences)
