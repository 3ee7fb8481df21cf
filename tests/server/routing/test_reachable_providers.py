"""Every configured provider is reachable with no routing lists (issue 18, item 6), through the MCP server.

Before: the built-in matrix was keyed by section name, so beside an ``[providers.openai]`` a ``[providers.local]``
(Ollama) and a ``[providers.mygroq] preset = "groq"`` were never tried, not even after every other model failed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client
from sqlalchemy import Engine

from server.config import SwitchboardConfig
from server.settings import Settings
from server.tools.app import SessionOptions, build_server
from tests.fakes.openai_api import FakeOpenAI, Reply

pytestmark = pytest.mark.anyio


async def test_a_renamed_preset_and_a_local_ollama_are_tried_with_no_routing_lists(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    with FakeOpenAI(models=["gpt-x", "llama-g", "qwen"]) as fake:
        fake.script("gpt-x", Reply.error(500), Reply.error(500))
        fake.script("llama-g", Reply.error(500), Reply.error(500))
        config = SwitchboardConfig.model_validate(
            {
                "providers": {
                    "openai": {"base_url": fake.base_url, "api_key_env": "K", "models": ["gpt-x"]},
                    # kind given: the fake speaks the OpenAI API; the preset still says what the provider is.
                    "mygroq": {
                        "preset": "groq",
                        "kind": "openai-compatible",
                        "base_url": fake.base_url,
                        "api_key_env": "K",
                        "models": ["llama-g"],
                    },
                    "local": {"preset": "ollama", "base_url": fake.base_url, "models": ["qwen"]},
                },
                "routing": {"learn": False},
                "resilience": {"breaker_failures": 1_000},
            }
        )
        server = build_server(
            settings, config, SessionOptions(store=engine, environ={"K": "k"}, roots=[tmp_path], ingest=False)
        )
        async with Client(server) as client:
            result = await client.call_tool("delegate", {"task": "hello", "task_type": "general"})
    assert not result.is_error, result.content
    details = result.structured_content
    assert details is not None and details["model"] == "local:qwen"
    tried = [a["model"] for a in details["decision"]["attempts"]]
    assert tried == ["mygroq:llama-g", "openai:gpt-x", "local:qwen"]
