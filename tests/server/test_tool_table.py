"""The tool table is the one place a tool is declared: the server serves its entries and its instructions name
each of them and every consensus strategy of the registry."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from mcp import Client
from mcp_types import ToolAnnotations

from server.config import SwitchboardConfig
from server.engine.consensus.strategies import STRATEGIES
from server.settings import Settings
from server.tools.app import INSTRUCTIONS, SessionOptions, build_server
from server.tools.table import TOOLS, ToolEntry, build_tools, instructions


def test_the_instructions_name_every_tool_of_the_table_in_order_and_every_strategy() -> None:
    places = [INSTRUCTIONS.index(f"`{entry.name}`: ") for entry in TOOLS]
    assert places == sorted(places)
    for name in STRATEGIES:
        assert name in INSTRUCTIONS
    assert "{strategies}" not in INSTRUCTIONS


def test_a_new_entry_is_listed_and_described_with_no_other_edit() -> None:
    async def echo(text: str) -> str:
        """Say it back."""
        return text

    entry = ToolEntry(echo, "echo", "Echo", "say `text` back", ToolAnnotations(read_only_hint=True))
    assert instructions((*TOOLS, entry)).endswith(" `echo`: say `text` back.")
    assert [tool.name for tool in build_tools((entry,))] == ["echo"]


@pytest.mark.anyio
async def test_the_client_receives_the_generated_instructions_and_the_tables_tools(home: Path) -> None:
    server = build_server(Settings(), SwitchboardConfig(), SessionOptions(ingest=False))
    with anyio.fail_after(30):
        async with Client(server) as client:
            names = [tool.name for tool in (await client.list_tools()).tools]
            assert client.instructions == INSTRUCTIONS
    assert names == [entry.name for entry in TOOLS]
