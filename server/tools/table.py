"""The table of MCP tools: a tool is one module of this package and one :class:`ToolEntry` in :data:`TOOLS`.

The server is built from this table (:mod:`server.tools.app`), and so are its instructions
(:func:`instructions`): each entry's one-line summary in table order, the consensus strategies read from their
registry. Everything imported here is light (the MCP SDK, pydantic and the tool modules, which import the engines,
the store and the analytics inside their bodies only): ``serve`` imports this module before answering
``initialize``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from mcp.server.mcpserver.tools import Tool
from mcp_types import ToolAnnotations

from server.engine.compact import tool_description
from server.engine.consensus.strategies import STRATEGIES
from server.tools.arguments import ExplainedTool
from server.tools.consensus import consensus
from server.tools.delegate import delegate
from server.tools.feedback import feedback
from server.tools.outputs import get_output
from server.tools.providers import providers
from server.tools.solve import solve
from server.tools.stats import stats

__all__ = ["TOOLS", "ToolEntry", "build_tools", "instructions"]

_READ = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)
_CALLS_MODELS = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True
)


@dataclass(frozen=True)
class ToolEntry:
    """One MCP tool: its function (the description is its docstring) and what the server says about it."""

    fn: Callable[..., Any]
    name: str
    title: str
    summary: str
    """What the server's instructions say of it, one clause; ``{strategies}`` is the consensus strategies' names."""
    annotations: ToolAnnotations
    structured_output: bool | None = None
    """None: from the return annotation (the SDK's default); False: text only."""

    def tool(self) -> Tool:
        """The SDK's tool for this entry; argument errors are answered in sentences (:mod:`server.tools.arguments`)."""
        return ExplainedTool.from_function(
            self.fn,
            name=self.name,
            title=self.title,
            description=tool_description(self.fn),
            annotations=self.annotations,
            structured_output=self.structured_output,
        )


TOOLS: tuple[ToolEntry, ...] = (
    ToolEntry(
        delegate,
        "delegate",
        "Delegate a task to another model",
        "give a self-contained task to the best configured model for it, with fallback (pass file paths in "
        "`files`; continue a conversation with `thread_id`)",
        _CALLS_MODELS,
    ),
    ToolEntry(
        get_output,
        "get_output",
        "Read a stored full answer",
        "the rest of an answer that was cut to fit",
        _READ,
    ),
    ToolEntry(
        providers,
        "providers",
        "Configured providers, models, health and prices",
        "the configured models, their key status, health and prices",
        _READ,
    ),
    ToolEntry(
        stats,
        "stats",
        "Switchboard stats",
        "usage, cost, savings from delegation, provider health, tool and subagent patterns and routing advice from "
        "the recorded sessions (`section` picks one part; `session_id='current'` is this session)",
        _READ,
        structured_output=False,
    ),
    ToolEntry(
        consensus,
        "consensus",
        "Ask several models and return one judged answer",
        "ask several models the same question at once and get one answer with how far they agreed (strategy "
        "{strategies}; optional for/against stances), for decisions worth a second opinion",
        _CALLS_MODELS,
    ),
    ToolEntry(
        feedback,
        "feedback",
        "Say whether a delegated answer was good",
        "whether a delegated answer was good (by its request_id); routing learns from it",
        ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False),
    ),
    ToolEntry(
        solve,
        "solve",
        "Search for the best answer over several models (AB-MCTS)",
        "for a hard task with a way to score answers (a check named in the config, or a judge model), search over "
        "several models with AB-MCTS: fresh answers and refinements, until the target score or a budget",
        _CALLS_MODELS,
    ),
)
"""Every tool, in the order tools/list gives them."""


def _either(names: Iterable[str]) -> str:
    listed = list(names)
    return listed[0] if len(listed) == 1 else ", ".join(listed[:-1]) + " or " + listed[-1]


def instructions(tools: Iterable[ToolEntry] = TOOLS) -> str:
    """The server's instructions: what switchboard does, then one sentence per tool of ``tools``."""
    strategies = _either(STRATEGIES)
    lines = [f"`{entry.name}`: {entry.summary.format(strategies=strategies)}." for entry in tools]
    return " ".join(["Switchboard hands work to other LLM providers and reports what agent sessions cost.", *lines])


def build_tools(tools: Iterable[ToolEntry] = TOOLS) -> list[Tool]:
    """The SDK's tools for ``tools``: 40-100 ms of schema building, so the service builds them once for all its
    sessions (they read everything from the session's lifespan runtime, so one list serves every session)."""
    return [entry.tool() for entry in tools]
