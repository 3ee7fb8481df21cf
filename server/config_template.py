"""The config ``switchboard init`` writes: every section, each key with its default and what it does."""

from __future__ import annotations

from server.catalog.presets import PRESETS
from server.task_types import TASK_TYPES

__all__ = ["config_template"]

_TEMPLATE = """\
# switchboard config. Keys come from the environment (or a .env beside this file), never from here.
# Check it with: switchboard doctor

# A provider is [providers.NAME]; delegate names its models NAME:MODEL.
# kind: "openai-compatible" (any /v1/chat/completions endpoint), "openai", "anthropic", "groq", "cli".
# A preset fills kind, base_url, api_key_env and models: write [providers.PRESET] and nothing else.
# Presets: {presets}.
# Extras some need: pip install 'switchboard[groq]' (groq), pip install 'switchboard[anthropic]' (anthropic).
#
# [providers.groq]                  # needs GROQ_API_KEY in the environment
#
# [providers.acme]
# kind = "openai-compatible"
# base_url = "https://api.acme.example/v1"
# api_key_env = "ACME_KEY"
# models = ["model-a"]
# [providers.acme.prices]           # USD per million tokens; overrides genai-prices
# "model-a" = {{ input_per_mtok = 1.0, output_per_mtok = 2.0 }}

# A model on this machine, no key needed: Ollama (ollama serve; ollama pull qwen2.5-coder).
# For LM Studio use base_url = "http://127.0.0.1:1234/v1". Set enabled = true once it runs.
[providers.local]
kind = "openai-compatible"
base_url = "http://127.0.0.1:11434/v1"
models = ["qwen2.5-coder"]
enabled = false

[routing]
# Tried in order; a task type with no list of its own uses default.
default = []                        # e.g. ["local:qwen2.5-coder", "groq:llama-3.3-70b-versatile"]
[routing.task_types]
# Task types: {task_types}.
# code_fix = ["groq:llama-3.3-70b-versatile"]

[resilience]
timeout_s = 60                      # per call
max_concurrency = 8
breaker_failures = 3                # failures in a row before a provider is skipped
breaker_cooldown_s = 30
max_retry_after_s = 5               # the longest Retry-After waited

[budgets]                           # USD caps: a call that would cross one is refused before any spend
# daily_usd = 5.0
# session_usd = 1.0

[cache]
enabled = false
ttl_s = 3600

[output]
max_output_tokens = 25000           # the client's tool-output limit (Claude Code's default)

[context]
threshold = 0.70                    # install --context-pressure warns above this fill
window_tokens = 200000

[dashboard]
host = "127.0.0.1"
port = 8765
token_env = "SWITCHBOARD_DASHBOARD_TOKEN"
"""


def config_template() -> str:
    """The commented config, listing today's presets and task types."""
    return _TEMPLATE.format(presets=", ".join(PRESETS), task_types=", ".join(TASK_TYPES))
