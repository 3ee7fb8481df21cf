"""tools/list is what every client's model reads: a refactor of how the server is built must not change a byte of it.

`fixtures/tools_list.json` was written from the server as it was before the tool table (issue 21), through a real
MCP client, for both ways a server gets its tools: built for itself (``serve``) and reused by a session of the warm
service. To change a tool on purpose, regenerate it: ``SWITCHBOARD_WRITE_SNAPSHOT=1 .venv/bin/pytest <this file>``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer

from server.config import SwitchboardConfig
from server.settings import Settings
from server.tools.app import SessionOptions, build_server
from server.tools.table import build_tools

SNAPSHOT = Path(__file__).parent / "fixtures" / "tools_list.json"


async def listed(server: MCPServer[Any]) -> str:
    with anyio.fail_after(30):
        async with Client(server) as client:
            tools = (await client.list_tools()).tools
            templates = (await client.list_resource_templates()).resource_templates
    dumped = {
        "tools": [tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in tools],
        "resourceTemplates": [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in templates],
    }
    return json.dumps(dumped, indent=1, ensure_ascii=False) + "\n"


@pytest.mark.anyio
async def test_tools_list_is_byte_identical_to_the_snapshot(home: Path) -> None:
    text = await listed(build_server(Settings(), SwitchboardConfig(), SessionOptions(ingest=False)))
    if os.environ.get("SWITCHBOARD_WRITE_SNAPSHOT") == "1":
        SNAPSHOT.write_text(text, encoding="utf-8")
    assert text == SNAPSHOT.read_text(encoding="utf-8")


@pytest.mark.anyio
async def test_a_service_session_lists_the_same_tools_as_serve(home: Path) -> None:
    # As server/service/sessions.py builds its sessions: the tools built once by the service, served by each.
    tools = build_tools()
    for _ in range(2):
        session = build_server(Settings(), SwitchboardConfig(), SessionOptions(ingest=False, tools=tools))
        assert await listed(session) == SNAPSHOT.read_text(encoding="utf-8")
