"""Every argument error of every tool is a sentence naming the argument and what it takes: no pydantic dump."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from server.config import SwitchboardConfig
from server.settings import Settings
from server.tools import SessionOptions, build_server

pytestmark = pytest.mark.anyio


async def _call(home: Path, calls: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any], bool, str]]:
    server = build_server(Settings(), SwitchboardConfig(), SessionOptions(ingest=False))
    found: list[tuple[str, dict[str, Any], bool, str]] = []
    with anyio.fail_after(60):
        async with Client(server) as client:
            for tool, arguments in calls:
                result = await client.call_tool(tool, arguments)
                found.append((tool, arguments, result.is_error, " ".join(c.text for c in result.content)))  # type: ignore[union-attr]
    return found


@pytest.mark.parametrize(
    ("tool", "arguments", "text"),
    [
        (
            "get_output",
            {"id": "abc"},
            "get_output: There is no argument 'id'; its arguments are: output_id, offset, max_chars. "
            "The argument output_id is required.",
        ),
        (
            "stats",
            {"section": "cost"},
            "stats: The argument section must be one of 'overview', 'sessions', 'tools', 'subagents', 'delegations', "
            "'health', 'savings', 'patterns', 'context', 'routing'; got 'cost'.",
        ),
        ("consensus", {"question": "q", "strategy": "best"}, "consensus: The argument strategy must be one of"),
        ("feedback", {"request_id": "r", "good": "maybe"}, "feedback: The argument good should be a valid boolean"),
    ],
)
async def test_an_argument_error_is_a_sentence_naming_the_argument_and_the_valid_values(
    home: Path, tool: str, arguments: dict[str, Any], text: str
) -> None:
    [(_, _, is_error, answer)] = await _call(home, [(tool, arguments)])
    assert is_error and answer.startswith(text), answer


async def test_no_tool_answers_bad_arguments_with_a_pydantic_dump_or_a_link(home: Path) -> None:
    server = build_server(Settings(), SwitchboardConfig(), SessionOptions(ingest=False))
    tools = await server.list_tools()
    calls: list[tuple[str, dict[str, Any]]] = []
    for tool in tools:
        properties = tool.input_schema.get("properties", {})
        calls.append((tool.name, {"bogus": 1}))
        for name in properties:
            calls.append((tool.name, {name: {"not": "this"}}))
    results = await _call(home, calls)
    failures = [r for r in results if r[2]]
    assert len(failures) >= len(tools)
    for tool, arguments, _, answer in failures:
        assert answer.startswith(f"{tool}: "), answer
        for word in ("validation error", "pydantic", "http", "[type=", "input_value"):
            assert word not in answer, (tool, arguments, answer)
        assert any(f"argument {name!r}" in answer or f"argument {name} " in answer for name in arguments) or (
            "is required" in answer
        ), answer
