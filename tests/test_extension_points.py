"""AGENTS.md's "Extension points" table says what adding a provider kind, an MCP tool, a dashboard page, a consensus
strategy or a typed hook event touches; these tests hold the code to it (the tool and page tables have their own:
tests/server/test_tool_table.py, tests/dashboard/test_page_table.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest

from server.catalog.kinds import KINDS, KindDescriptor
from server.config import ProviderConfig
from server.engine.consensus.members import MemberOutcome, ShouldStop
from server.engine.consensus.registry import (
    STRATEGIES,
    ConsensusStrategy,
    Decision,
    RunContext,
    known_strategy,
    strategy,
    strategy_help,
    strategy_schema,
)
from server.store.hook_events import HOOK_EVENTS
from server.store.hook_rows import _HANDLERS  # pyright: ignore[reportPrivateUsage]
from server.tools.table import build_tools

REPO = Path(__file__).resolve().parents[1]


def _rows() -> dict[str, str]:
    text = (REPO / "AGENTS.md").read_text()
    section = text.split("\n## Extension points\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| \(([a-e])\) [^|]+\| (.+) \|$", section, re.M)
    return dict(rows)


def test_the_table_has_a_row_for_each_extension_and_every_file_it_names_exists() -> None:
    rows = _rows()
    assert sorted(rows) == ["a", "b", "c", "d", "e"]
    for letter, cell in rows.items():
        named = [p for p in re.findall(r"`([\w./-]+\.(?:py|json|html|toml))`", cell) if "<" not in p]
        assert named, f"row ({letter}) names no file"
        for path in named:
            assert (REPO / path).is_file(), f"row ({letter}) names {path}, which does not exist"


def test_every_provider_kind_is_a_module_of_its_own_and_one_descriptor() -> None:
    for name, descriptor in KINDS.items():
        module, _, cls = descriptor.factory.partition(":")
        assert module.startswith("server.providers.")
        assert (REPO / (module.replace(".", "/") + ".py")).is_file()
        assert descriptor.provider_class().__name__ == cls
        assert ProviderConfig(kind=name).kind == name


@pytest.fixture
def new_kind() -> Iterator[str]:
    KINDS["example"] = KindDescriptor(
        "example", "server.providers.openai_compat:OpenAICompatProvider", "optional", None, True, "list_models"
    )
    try:
        yield "example"
    finally:
        del KINDS["example"]


def test_a_new_kind_is_accepted_by_the_config_with_its_descriptor_alone(new_kind: str) -> None:
    assert ProviderConfig(kind=new_kind).kind == new_kind
    with pytest.raises(ValueError, match="kind"):
        ProviderConfig(kind="not-a-kind")


class _Example(ConsensusStrategy):
    name: ClassVar[str] = "example"
    summary: ClassVar[str] = "example: the first member's answer"

    def stop_rule(self, members: int) -> ShouldStop:
        return lambda outcomes: False

    async def decide(
        self, outcomes: Sequence[MemberOutcome], labels: Sequence[str], finish_order: Sequence[int], run: RunContext
    ) -> Decision:
        raise NotImplementedError


@pytest.fixture
def new_strategy() -> Iterator[str]:
    strategy(_Example)
    try:
        yield _Example.name
    finally:
        del STRATEGIES[_Example.name]


def test_the_consensus_tool_offers_and_describes_exactly_the_registered_strategies() -> None:
    tool = next(tool for tool in build_tools() if tool.name == "consensus")
    schema: dict[str, Any] = tool.parameters["properties"]["strategy"]
    assert schema["enum"] == list(STRATEGIES)
    for registered in STRATEGIES.values():
        assert registered.summary in schema["description"]


def test_a_registered_strategy_is_named_valid_and_described_with_no_other_edit(new_strategy: str) -> None:
    assert new_strategy in strategy_schema()["enum"]
    assert known_strategy(new_strategy) == new_strategy
    assert _Example.summary in strategy_help()


def test_every_typed_hook_handler_is_for_an_event_claude_code_fires() -> None:
    assert set(_HANDLERS) <= set(HOOK_EVENTS)
