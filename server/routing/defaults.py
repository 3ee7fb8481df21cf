"""The built-in routing matrix: for each task type, providers in order of preference.

Used when the config gives no list for a task type; each provider expands to its configured models, and
providers that are not configured drop out.
"""

from __future__ import annotations

__all__ = ["DEFAULT_MATRIX"]

DEFAULT_MATRIX: dict[str, list[str]] = {
    # Quick turnaround matters most for a fix: the fastest inference first.
    "code_fix": ["cerebras", "groq", "openai", "deepseek", "together", "anthropic", "gemini"],
    # Features users see or that embed models deserve the strongest models.
    "ui": ["openai", "anthropic", "together", "gemini", "deepseek", "groq"],
    "ai_feature": ["openai", "anthropic", "together", "gemini", "deepseek", "groq"],
    # Search-grounded models answer research questions with sources.
    "research": ["perplexity", "gemini", "openai", "openrouter", "anthropic"],
    "cost_sensitive": ["together", "groq", "cerebras", "deepseek", "gemini", "openai"],
    "general": ["groq", "cerebras", "openai", "anthropic", "gemini", "together", "deepseek", "openrouter"],
}
