"""Well-known endpoints and agent CLIs: a preset fills a provider's kind, base URL, key variable, default models
and (for CLIs) the command line."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["PRESETS", "Preset"]


@dataclass(frozen=True)
class Preset:
    kind: str
    base_url: str | None
    api_key_env: str | None
    models: list[str] = field(default_factory=list[str])
    context_windows: dict[str, int] = field(default_factory=dict[str, int])
    command: list[str] = field(default_factory=list[str])


PRESETS: dict[str, Preset] = {
    "openai": Preset("openai", None, "OPENAI_API_KEY", ["gpt-4o-mini", "gpt-4o"], {"gpt-4o-mini": 128_000}),
    "anthropic": Preset(
        "anthropic",
        None,
        "ANTHROPIC_API_KEY",
        ["claude-sonnet-4-5", "claude-haiku-4-5"],
        {"claude-sonnet-4-5": 200_000},
    ),
    "groq": Preset("groq", None, "GROQ_API_KEY", ["llama-3.3-70b-versatile"], {"llama-3.3-70b-versatile": 131_072}),
    "cerebras": Preset(
        "openai-compatible",
        "https://api.cerebras.ai/v1",
        "CEREBRAS_API_KEY",
        ["llama-3.3-70b"],
        {"llama-3.3-70b": 65_536},
    ),
    "together": Preset(
        "openai-compatible",
        "https://api.together.xyz/v1",
        "TOGETHER_API_KEY",
        ["meta-llama/Llama-3.3-70B-Instruct-Turbo"],
    ),
    "gemini": Preset(
        "openai-compatible",
        "https://generativelanguage.googleapis.com/v1beta/openai",
        "GEMINI_API_KEY",
        ["gemini-2.5-flash", "gemini-2.5-pro"],
        {"gemini-2.5-flash": 1_048_576, "gemini-2.5-pro": 1_048_576},
    ),
    "deepseek": Preset("openai-compatible", "https://api.deepseek.com/v1", "DEEPSEEK_API_KEY", ["deepseek-chat"]),
    "openrouter": Preset("openai-compatible", "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY", []),
    "perplexity": Preset(
        "openai-compatible", "https://api.perplexity.ai", "PERPLEXITY_API_KEY", ["sonar", "sonar-pro"]
    ),
    "lmstudio": Preset("openai-compatible", "http://127.0.0.1:1234/v1", None, []),
    "ollama": Preset("openai-compatible", "http://127.0.0.1:11434/v1", None, []),
    # Agent CLIs run headless; they use their own login, so no key variable here. The prompt goes on stdin (gemini
    # reads piped input as its prompt; codex exec reads it for "-"): in argv it failed past 128 KiB (MAX_ARG_STRLEN).
    "gemini-cli": Preset("cli", None, None, ["gemini-2.5-pro"], command=["gemini", "-m", "{model}"]),
    "codex": Preset("cli", None, None, ["gpt-5-codex"], command=["codex", "exec", "-m", "{model}", "-"]),
}
