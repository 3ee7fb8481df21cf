"""What the model reads back through a real MCP client: compact results, and loud errors for mistakes.

Before: a 23-character answer came back as ~900 characters of pretty-printed JSON and again as
structuredContent; a 112,000-character answer returned ~148,000 characters (the cut allowed for one copy);
an unconfigured ``model`` was answered by another provider, and ``task_type="coding"`` was accepted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import mcp.types as types
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from mcp import Client
from sqlalchemy import Engine

from server.engine.output import cut_to_limit
from server.settings import Settings
from tests.fakes.openai_api import FakeOpenAI, Reply
from tests.server.test_mcp_app import acme_config, server_for

pytestmark = pytest.mark.anyio


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(models=["model-a", "model-b"], api_key="sk-test-acme") as server:
        yield server


def text_of(result: types.CallToolResult) -> str:
    return "".join(block.text for block in result.content if isinstance(block, types.TextContent))


def received_chars(result: types.CallToolResult) -> int:
    """Everything the client receives for the result: every content block and the structured copy."""
    return len(text_of(result)) + len(json.dumps(result.structured_content, ensure_ascii=False))


def nulls_in(value: Any) -> bool:
    if isinstance(value, dict):
        return any(item is None or nulls_in(item) for item in value.values())  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, list):
        return any(nulls_in(item) for item in value)  # pyright: ignore[reportUnknownVariableType]
    return False


async def call(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path, tool: str, args: dict[str, Any], **cfg: Any
) -> types.CallToolResult:
    server = server_for(settings, engine, acme_config(fake, **cfg), tmp_path)
    with anyio.fail_after(30):
        async with Client(server) as client:
            return await client.call_tool(tool, args)


async def test_a_short_answer_is_the_answer_and_one_provenance_line_under_400_characters(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.script("model-a", Reply(text="The answer is 42, yes."))
    result = await call(settings, engine, fake, tmp_path, "delegate", {"task": "what is six times seven?"})
    text = text_of(result)
    assert not result.is_error
    assert len(text) <= 400, text
    answer, line = text.split("\n\n")
    assert answer == "The answer is 42, yes."
    assert line.startswith("[acme:model-a · 11 in / 7 out tokens · $0.000025 · ")
    assert re.fullmatch(r".* ms · id [0-9a-f]{8}\]", line), line
    data = result.structured_content
    assert data is not None and not nulls_in(data)
    assert data["answer"] == "The answer is 42, yes." and data["cost_usd"] == 2.5e-05


async def test_a_fallback_is_named_in_the_provenance_line(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path
) -> None:
    fake.script("model-a", Reply.error(500))
    result = await call(settings, engine, fake, tmp_path, "delegate", {"task": "hi"})
    line = text_of(result).split("\n\n")[-1]
    assert "acme:model-b" in line and "cost unknown" in line
    assert "fell back from acme:model-a: server_error" in line


async def test_a_112000_character_answer_returns_at_most_100000_characters_in_all(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path
) -> None:
    long_text = ('line "quoted" and a tab\t\n' * 5_000)[:112_000]
    fake.script("model-a", Reply(text=long_text))
    server = server_for(settings, engine, acme_config(fake), tmp_path)
    with anyio.fail_after(30):
        async with Client(server) as client:
            result = await client.call_tool("delegate", {"task": "write a lot"})
            data = result.structured_content
            assert data is not None and data["truncated"]
            rest = await client.call_tool("get_output", {"output_id": data["output_id"], "max_chars": 60_000})
    assert received_chars(result) <= 100_000
    assert "get_output" in text_of(result)
    assert rest.structured_content is not None and rest.structured_content["total_chars"] == 112_000


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.text(alphabet=st.characters(codec="utf-8"), max_size=6_000),
    max_tokens=st.integers(min_value=1_000, max_value=2_500),
)
def test_every_copy_of_a_cut_answer_together_fits_the_limit(text: str, max_tokens: int) -> None:
    shown, truncated = cut_to_limit(text, max_tokens, "abc", copies=2)
    sent = len(shown) + len(json.dumps(shown, ensure_ascii=False))
    assert sent <= max_tokens * 3 - 2_000  # the budget, both copies and the note included
    assert truncated == (shown != text)
    if not truncated:
        assert shown == text


async def test_a_model_whose_provider_is_not_configured_is_an_error_listing_the_valid_ids(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path
) -> None:
    result = await call(settings, engine, fake, tmp_path, "delegate", {"task": "hi", "model": "groq:llama-3.3-70b"})
    assert result.is_error
    assert "no provider 'groq' is configured" in text_of(result)
    assert "valid ids are acme:model-a, acme:model-b" in text_of(result)
    assert fake.calls_for("model-a") == 0 and fake.calls_for("model-b") == 0


async def test_a_model_missing_from_its_providers_models_is_an_error_not_a_404(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path
) -> None:
    result = await call(settings, engine, fake, tmp_path, "delegate", {"task": "hi", "model": "acme:model-z"})
    assert result.is_error
    assert "'acme' does not list 'model-z' in its models" in text_of(result)
    assert "acme:model-a, acme:model-b" in text_of(result)


async def test_an_unknown_task_type_is_an_error_listing_the_valid_ones(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path
) -> None:
    result = await call(settings, engine, fake, tmp_path, "delegate", {"task": "hi", "task_type": "coding"})
    assert result.is_error
    assert "unknown task_type 'coding': valid ones are" in text_of(result)
    assert "pydantic" not in text_of(result)
    for name in ("code_fix", "ui", "ai_feature", "research", "cost_sensitive", "general"):
        assert name in text_of(result)
    assert fake.calls_for("model-a") == 0


async def test_consensus_with_an_unconfigured_member_or_judge_is_an_error_listing_the_valid_ids(
    settings: Settings, engine: Engine, fake: FakeOpenAI, tmp_path: Path
) -> None:
    member = await call(
        settings, engine, fake, tmp_path, "consensus", {"question": "q?", "models": ["acme:model-a", "nope:x"]}
    )
    judge = await call(settings, engine, fake, tmp_path, "consensus", {"question": "q?", "judge": "acme:gpt-9"})
    assert member.is_error and "no provider 'nope' is configured" in text_of(member)
    assert judge.is_error and "'acme' does not list 'gpt-9'" in text_of(judge)
    assert "valid ids are acme:model-a, acme:model-b" in text_of(judge)
