"""The task types routing knows, and what each means (the ``delegate`` schema and the config both use these)."""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["TASK_TYPES", "TASK_TYPE_MEANINGS", "TaskType"]

TaskType = Literal["code_fix", "ui", "ai_feature", "research", "cost_sensitive", "general"]

TASK_TYPES: tuple[str, ...] = get_args(TaskType)

TASK_TYPE_MEANINGS: dict[str, str] = {
    "code_fix": "fix a bug, error or failing test; debug; refactor",
    "ui": "front-end, layout, styling, components",
    "ai_feature": "prompts, RAG, agents, embeddings, model integration",
    "research": "look things up, compare options, cite sources",
    "cost_sensitive": "bulk or routine work where price matters most",
    "general": "anything else",
}
