"""Guess a task's type from its text, so routing can pick the ranked list for that type."""

from __future__ import annotations

import re

from server.task_types import TASK_TYPES

__all__ = ["TASK_TYPES", "classify"]

# Checked in order; the first type with a matching word wins. Words, not phrases, so the rules stay predictable.
_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("cost_sensitive", re.compile(r"\b(cheap|cheapest|budget|low[- ]cost|bulk|batch|summari[sz]e)\b", re.I)),
    ("research", re.compile(r"\b(research|latest|news|sources?|cite|citations?|search|look up|compare)\b", re.I)),
    (
        "ai_feature",
        re.compile(r"\b(llm|prompt|embeddings?|rag|agent|fine[- ]tun\w*|classifier|ai feature|model)\b", re.I),
    ),
    ("ui", re.compile(r"\b(ui|ux|css|html|layout|component|frontend|front-end|design|page|button|react)\b", re.I)),
    (
        "code_fix",
        re.compile(
            r"\b(fix|bug|error|exception|traceback|failing|fails|crash|refactor|typo|lint|test|stack trace)\b", re.I
        ),
    ),
]


def classify(task: str) -> str:
    """The task type whose keywords appear first in the rule order, else ``general``."""
    for task_type, pattern in _RULES:
        if pattern.search(task):
            return task_type
    return "general"
