"""Well-known endpoints and agent CLIs: a preset fills a provider's kind, base URL, key variable, default models,
pricing provider and (for CLIs) the command line.

A preset used under another name (``[providers.mygroq] preset = "groq"``) keeps its pricing provider, so its
models are priced as that provider's. Default models were refreshed against genai-prices' data of 2026-11;
``doctor`` lists what an endpoint really offers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from server.catalog.kinds import kind as kind_descriptor

__all__ = ["PRESETS", "Preset"]


@dataclass(frozen=True)
class Preset:
    kind: str
    base_url: str | None
    api_key_env: str | None
    models: list[str] = field(default_factory=list[str])
    context_windows: dict[str, int] = field(default_factory=dict[str, int])
    command: list[str] = field(default_factory=list[str])
    pricing_provider: str | None = None
    """genai-prices' id for this endpoint's models; None: the kind's."""

    def __post_init__(self) -> None:
        kind_descriptor(self.kind)  # a preset names a kind of the descriptor table, or fails at import


PRESETS: dict[str, Preset] = {
    "openai": Preset("openai", None, "OPENAI_API_KEY", ["gpt-5.4-mini", "gpt-5.5"]),
    "anthropic": Preset(
        "anthropic",
        None,
        "ANTHROPIC_API_KEY",
        ["claude-sonnet-4-6", "claude-haiku-4-5"],
        {"claude-sonnet-4-6": 200_000, "claude-haiku-4-5": 200_000},
    ),
    "groq": Preset(
        "groq",
        None,
        "GROQ_API_KEY",
        ["llama-3.3-70b-versatile", "openai/gpt-oss-120b"],
        {"llama-3.3-70b-versatile": 131_072, "openai/gpt-oss-120b": 131_072},
    ),
    "cerebras": Preset(
        "openai-compatible",
        "https://api.cerebras.ai/v1",
        "CEREBRAS_API_KEY",
        ["gpt-oss-120b", "llama-3.3-70b"],
        {"llama-3.3-70b": 65_536},
        pricing_provider="cerebras",
    ),
    "together": Preset(
        "openai-compatible",
        "https://api.together.xyz/v1",
        "TOGETHER_API_KEY",
        ["meta-llama/Llama-3.3-70B-Instruct-Turbo"],
        pricing_provider="together",
    ),
    "gemini": Preset(
        "openai-compatible",
        "https://generativelanguage.googleapis.com/v1beta/openai",
        "GEMINI_API_KEY",
        ["gemini-2.5-flash", "gemini-2.5-pro"],
        {"gemini-2.5-flash": 1_048_576, "gemini-2.5-pro": 1_048_576},
        pricing_provider="google",
    ),
    "deepseek": Preset(
        "openai-compatible",
        "https://api.deepseek.com/v1",
        "DEEPSEEK_API_KEY",
        ["deepseek-chat", "deepseek-reasoner"],
        pricing_provider="deepseek",
    ),
    "openrouter": Preset(
        "openai-compatible", "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY", [], pricing_provider="openrouter"
    ),
    "perplexity": Preset(
        "openai-compatible",
        "https://api.perplexity.ai",
        "PERPLEXITY_API_KEY",
        ["sonar", "sonar-pro"],
        pricing_provider="perplexity",
    ),
    "lmstudio": Preset("openai-compatible", "http://127.0.0.1:1234/v1", None, []),
    "ollama": Preset("openai-compatible", "http://127.0.0.1:11434/v1", None, []),
    # Agent CLIs run headless; they use their own login, so no key variable here, and they report no usage. The
    # prompt goes on stdin (gemini reads piped input as its prompt; codex exec reads it for "-"): in argv it failed
    # past 128 KiB (MAX_ARG_STRLEN).
    "gemini-cli": Preset("cli", None, None, ["gemini-2.5-pro"], command=["gemini", "-m", "{model}"]),
    "codex": Preset("cli", None, None, ["gpt-5-codex"], command=["codex", "exec", "-m", "{model}", "-"]),
}
