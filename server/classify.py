"""Guess a task's type from its text, so routing can pick the list for that type.

Each type has weighted word patterns (2: a clear sign, 1: a hint), and the task's first word, when it is a
type's typical verb ("fix ...", "compare ...", "summarize ..."), adds 2 more. The highest score wins; a tie
goes to the earlier type in ``_PRECEDENCE``; no sign at all is ``general``. Scoring rather than first match:
"fix the button alignment bug" is a fix although it names a button, and "translate these 50 error messages"
is bulk work although it says "error". The published table (docs/task-types.md) is the test set.
"""

from __future__ import annotations

import re

from server.task_types import TASK_TYPES

__all__ = ["TASK_TYPES", "classify", "scores"]


def _words(*patterns: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(patterns) + r")\b", re.I)


_SIGNS: dict[str, list[tuple[re.Pattern[str], int]]] = {
    "code_fix": [
        (
            _words(
                r"fix(?:es|ed|ing)?",
                r"bugs?",
                r"debug\w*",
                r"traceback",
                r"stack ?trace",
                r"\w*(?:Exception|Error)\b:?",
                r"errors?",
                r"crash(?:es|ed|ing)?",
                r"fail(?:s|ed|ing|ure)?",
                r"regression",
                r"broken",
                r"doesn't work",
                r"not working",
                r"throws",
                r"returns 5\d\d",
                r"refactor\w*",
                r"lint",
                r"typo",
            ),
            2,
        ),
        (_words(r"tests?"), 1),
    ],
    "ai_feature": [
        (
            _words(
                r"llms?",
                r"system prompt",
                r"prompts?",
                r"rag",
                r"embeddings?",
                r"agents?",
                r"fine[- ]tun\w*",
                r"chatbot",
                r"evals?",
                r"(?:pg)?vector\w*",
                r"semantic search",
                r"tool calling",
                r"openai",
                r"anthropic",
                r"ai feature",
            ),
            2,
        ),
        (_words(r"models?", r"classif\w*", r"knowledge base"), 1),
    ],
    "ui": [
        (
            _words(
                r"ui",
                r"ux",
                r"css",
                r"html",
                r"tailwind",
                r"layout",
                r"components?",
                r"front-?end",
                r"design",
                r"react",
                r"vue",
                r"svelte",
                r"navbar",
                r"modal",
                r"dark mode",
                r"responsive",
                r"styl(?:e|ing)",
                r"spinner",
                r"accessibility",
                r"aria",
            ),
            2,
        ),
        (_words(r"page", r"button", r"form", r"theme", r"menu", r"mobile", r"alignment"), 1),
    ],
    "research": [
        (
            _words(
                r"research",
                r"latest",
                r"news",
                r"sources?",
                r"cite",
                r"citations?",
                r"look up",
                r"compare",
                r"documentation",
                r"best practices?",
                r"which (?:\w+ ){0,4}(?:best|to pick|to use|to choose)",
                r"survey",
                r"pros and cons",
                r"known issues?",
                r"find reports",
            ),
            2,
        ),
        (_words(r"current", r"options", r"in 20\d\d"), 1),
    ],
    "cost_sensitive": [
        (
            _words(
                r"cheap(?:est)?",
                r"budget",
                r"low[- ]cost",
                r"bulk",
                r"batch",
                r"summari[sz]e",
                r"translate",
                r"docstrings?",
                r"rename",
                r"convert",
                r"reformat",
                r"fixtures",
                r"commit messages",
            ),
            2,
        ),
        (_words(r"fake", r"\d{2,} \w+s", r"every", r"across these files"), 1),
    ],
}

_LEAD_VERBS: dict[str, re.Pattern[str]] = {
    "code_fix": re.compile(r"\s*(?:fix|debug|refactor)\b", re.I),
    "research": re.compile(r"\s*(?:research|compare|find|look|survey|investigate)\b", re.I),
    "cost_sensitive": re.compile(r"\s*(?:summari[sz]e|translate|convert|reformat|rename|generate)\b", re.I),
    "ui": re.compile(r"\s*(?:style|design)\b", re.I),
}

_PRECEDENCE = ("code_fix", "ai_feature", "ui", "research", "cost_sensitive")


def scores(task: str) -> dict[str, int]:
    """Each type's score for ``task``: the weights of its patterns found, plus 2 for its lead verb."""
    found: dict[str, int] = {}
    for task_type in _PRECEDENCE:
        score = sum(weight * len(pattern.findall(task)) for pattern, weight in _SIGNS[task_type])
        lead = _LEAD_VERBS.get(task_type)
        if lead is not None and lead.match(task):
            score += 2
        found[task_type] = score
    return found


def classify(task: str) -> str:
    """The task type with the highest score (ties: ``_PRECEDENCE`` order), or ``general`` when nothing matched."""
    found = scores(task)
    best = max(_PRECEDENCE, key=lambda task_type: (found[task_type], -_PRECEDENCE.index(task_type)))
    return best if found[best] > 0 else "general"
