"""``switchboard serve`` with a broken config stays up: tools that need providers say what to fix, stats works.

Before, one typo made ``serve`` exit, and Claude Code lost all five tools, ``stats`` included.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import anyio
import mcp.types as types
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

pytestmark = pytest.mark.anyio

SWITCHBOARD = str(Path(sys.executable).with_name("switchboard"))


def serving(home: Path, config: Path) -> StdioServerParameters:
    env = {**os.environ, "SWITCHBOARD_CONFIG": str(config), "SWITCHBOARD_HOME": str(home)}
    env.pop("SWITCHBOARD_DATABASE_URL", None)
    return StdioServerParameters(command=SWITCHBOARD, args=["serve", "--no-ingest"], env=env)


def text_of(result: types.CallToolResult) -> str:
    return "".join(block.text for block in result.content if isinstance(block, types.TextContent))


async def test_a_mistyped_section_leaves_serve_up_and_provider_tools_name_the_file_line_and_fix(
    home: Path, tmp_path: Path
) -> None:
    config = tmp_path / "switchboard.toml"
    config.write_text('# providers\n[provider.acme]\nbase_url = "http://127.0.0.1:9/v1"\nmodels = ["a"]\n')
    with anyio.fail_after(60):
        async with Client(serving(home, config)) as client:
            tools = {tool.name for tool in (await client.list_tools()).tools}
            delegate = await client.call_tool("delegate", {"task": "hi"})
            providers = await client.call_tool("providers", {})
            consensus = await client.call_tool("consensus", {"question": "why?"})
            stats = await client.call_tool("stats", {})
            output = await client.call_tool("get_output", {"output_id": "nope"})
    assert {"delegate", "consensus", "providers", "stats", "get_output"} <= tools
    for result in (delegate, providers, consensus):
        assert result.is_error
        assert text_of(result).endswith(
            f": {config}, line 2: [provider.acme] is not a known section; did you mean [providers.acme]?"
        )
    assert not stats.is_error and "pydantic" not in text_of(stats)
    assert output.is_error and "no stored output with id 'nope'" in text_of(output)


async def test_an_unknown_preset_leaves_serve_up_and_delegate_names_the_known_ones(home: Path, tmp_path: Path) -> None:
    config = tmp_path / "preset.toml"
    config.write_text('[providers.x]\npreset = "nope"\n')
    with anyio.fail_after(60):
        async with Client(serving(home, config)) as client:
            delegate = await client.call_tool("delegate", {"task": "hi"})
            stats = await client.call_tool("stats", {})
    assert delegate.is_error and "unknown preset 'nope'" in text_of(delegate) and "cerebras" in text_of(delegate)
    assert str(config) in text_of(delegate)
    assert not stats.is_error
