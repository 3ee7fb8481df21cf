"""The TOML config file: providers, routing, budgets, cache, output limits, context pressure, dashboard.

Found at ``SWITCHBOARD_CONFIG``, else a *trusted* ``.switchboard.toml`` in the project (the working directory or a
parent, up to the repository root or ``$HOME``), else ``config.toml`` in the user config directory. Which file may
be read is :mod:`server.trust`'s decision (``switchboard trust``). Every section is optional.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from server import trust
from server.settings import Settings
from server.task_types import TaskType

__all__ = [
    "BudgetConfig",
    "CacheConfig",
    "ConfigError",
    "ContextConfig",
    "DashboardConfig",
    "LearnConfig",
    "ModelPrice",
    "OutputConfig",
    "ProviderConfig",
    "ResilienceConfig",
    "RoutingConfig",
    "SolveConfig",
    "SwitchboardConfig",
    "find_config_file",
    "load_config",
    "resolve_config",
]

PROJECT_FILE = trust.PROJECT_FILE


class ConfigError(ValueError):
    """The config file is missing, unreadable or invalid; the message says where and what to fix."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelPrice(_Section):
    """USD per million tokens; overrides genai-prices for this model."""

    input_per_mtok: float
    output_per_mtok: float
    cached_input_per_mtok: float | None = None


class ProviderConfig(_Section):
    """One named provider. ``preset`` fills ``base_url`` and ``api_key_env`` for well-known endpoints."""

    kind: str = Field(default="openai-compatible", description="A kind of server.catalog.kinds.KINDS.")
    preset: str | None = None
    pricing_provider: str | None = Field(
        default=None, description="genai-prices provider to price its models as (e.g. 'openai' for a proxy)."
    )
    base_url: str | None = None
    api_key_env: str | None = None
    api_key_file: Path | None = None
    models: list[str] = Field(default_factory=list)
    prices: dict[str, ModelPrice] = Field(default_factory=dict)
    context_windows: dict[str, int] = Field(default_factory=dict)
    timeout_s: float | None = None
    command: list[str] = Field(
        default_factory=list, description="cli kind: argv; the prompt goes on stdin, '{model}' is replaced."
    )
    enabled: bool = True

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        from server.catalog.kinds import kind

        return kind(value).name


class LearnConfig(_Section):
    """``[routing.learn]``: how delegate reorders a task type's list from its own outcomes (docs/tools.md).

    The utility of a model is ``success * p + quality * q - cost * c - latency * l``: ``p`` (it answers without
    error) and ``q`` (feedback, consensus agreement, judge scores; 0 to 1) are Thompson-sampled; ``c`` and ``l``
    are its mean cost and latency divided by the dearest and slowest candidate's.
    """

    enabled: bool = True
    scope: Literal["team", "user"] = Field(
        default="team",
        description="team: learn from every person's outcomes on a shared store (more evidence); user: your own.",
    )
    success: float = Field(default=1.0, ge=0, le=10, description="Weight of answering without error.")
    quality: float = Field(default=1.0, ge=0, le=10, description="Weight of the quality signal.")
    cost: float = Field(default=0.2, ge=0, le=10, description="Weight of relative cost.")
    latency: float = Field(default=0.1, ge=0, le=10, description="Weight of relative latency.")
    half_life_h: float = Field(
        default=24.0,
        gt=0,
        le=24 * 365,
        description="Evidence about a model halves when it has not been tried this long.",
    )


class RoutingConfig(_Section):
    """``default`` serves every task type without a list of its own; lists are tried in the order written."""

    default: list[str] = Field(default_factory=list)
    task_types: dict[TaskType, list[str]] = Field(default_factory=dict)
    order: Literal["cost", "latency"] | None = None
    """Reorder the configured lists by estimated cost or recent latency instead of trying them as written."""
    learn: LearnConfig = Field(default_factory=LearnConfig, description="'learn = false' keeps the written order.")

    @field_validator("learn", mode="before")
    @classmethod
    def _learn_switch(cls, value: object) -> object:
        # `[routing] learn = false` and a `[routing.learn]` table are both accepted: the switch is the short form.
        return {"enabled": value} if isinstance(value, bool) else value


class ResilienceConfig(_Section):
    timeout_s: float = 60.0
    max_concurrency: int = 8
    breaker_failures: int = 3
    breaker_cooldown_s: float = 30.0
    max_retry_after_s: float = 5.0


class BudgetConfig(_Section):
    daily_usd: float | None = None
    session_usd: float | None = None
    unpriced: Literal["refuse", "allow"] = Field(
        default="allow", description="Under a cap, whether a model with no known price may run (its cost is NULL)."
    )


class CacheConfig(_Section):
    enabled: bool = False
    ttl_s: float = 3600.0


class OutputConfig(_Section):
    max_output_tokens: int = Field(default=25_000, description="The client's tool-output limit (Claude Code: 25,000).")


class ContextConfig(_Section):
    threshold: float = Field(default=0.70, ge=0, le=1)
    window_tokens: int = 200_000


class DashboardConfig(_Section):
    host: str = "127.0.0.1"
    port: int = 8765
    token_env: str = "SWITCHBOARD_DASHBOARD_TOKEN"


class SolveConfig(_Section):
    """``solve``: the checks a client may name (never a command it passes), and the search's bounds."""

    checks: dict[str, str] = Field(
        default_factory=dict, description="name -> command line, run in the project root with the answer on stdin."
    )
    check_timeout_s: float = Field(default=60.0, gt=0)
    default_max_calls: int = Field(default=10, ge=1)
    max_calls_ceiling: int = Field(default=50, ge=1, description="The largest max_calls a client may ask for.")
    # Measured by bench/bench_solve.py (20 runs of 10 calls): 1 at a time reached 0.95 in 90% of runs, 2 in 85%, 3 in
    # 40% (nodes asked for together are chosen knowing less); 2 keeps most of the search and halves the waiting.
    parallel: int = Field(default=2, ge=1, description="Nodes expanded at once (within resilience.max_concurrency).")
    timeout_s: float = Field(default=300.0, gt=0, description="A run's deadline when the client gives none.")


class TeamConfig(_Section):
    """Who this machine's rows belong to on a store shared by a team."""

    user: str | None = Field(default=None, max_length=200, description="Default: the OS account.")
    host: str | None = Field(default=None, max_length=200, description="Default: the hostname.")
    share_prompts: bool = Field(
        default=True, description="false: this user's prompts are stored as their length and a hash, not their text."
    )


class SwitchboardConfig(_Section):
    """The whole config file."""

    providers: dict[str, ProviderConfig] = Field(default_factory=dict)
    routing: RoutingConfig = Field(default_factory=RoutingConfig)
    resilience: ResilienceConfig = Field(default_factory=ResilienceConfig)
    budgets: BudgetConfig = Field(default_factory=BudgetConfig)
    cache: CacheConfig = Field(default_factory=CacheConfig)
    output: OutputConfig = Field(default_factory=OutputConfig)
    context: ContextConfig = Field(default_factory=ContextConfig)
    dashboard: DashboardConfig = Field(default_factory=DashboardConfig)
    solve: SolveConfig = Field(default_factory=SolveConfig)
    team: TeamConfig = Field(default_factory=TeamConfig)
    source: Path | None = Field(default=None, exclude=True, description="The file this was read from.")
    ignored_notice: str | None = Field(
        default=None, exclude=True, description="One line: a project config was found and not trusted (and why)."
    )


def user_config_file() -> Path:
    return Path(platformdirs.user_config_dir("switchboard", appauthor=False)) / "config.toml"


def resolve_config(settings: Settings | None = None, cwd: Path | None = None) -> trust.Resolution:
    """Which file is in force and what was ignored (:func:`server.trust.resolve`).

    Raises:
        ConfigError: the file in force may not be read (another owner, writable by others) or does not exist.
    """
    settings = settings or Settings()
    named = str(settings.config) if settings.config is not None else None
    try:
        return trust.resolve(str(cwd or Path.cwd()), os.environ, config=named or "")
    except trust.ConfigMissing as exc:
        raise ConfigError(str(exc)) from exc
    except trust.UnsafeFile as exc:
        raise ConfigError(f"config file {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"config file cannot be read: {type(exc).__name__}: {exc.strerror}") from exc


def find_config_file(settings: Settings | None = None, cwd: Path | None = None) -> Path | None:
    """The config file in force: ``SWITCHBOARD_CONFIG``, else a trusted project file, else the user's, else None."""
    path = resolve_config(settings, cwd).path
    return Path(path) if path is not None else None


def load_config(settings: Settings | None = None, cwd: Path | None = None) -> SwitchboardConfig:
    """Read and validate the config file in force; no file means the defaults.

    An untrusted project file is not read: the user's config serves, and ``ignored_notice`` says so.

    Raises:
        ConfigError: the file in force is missing, may not be read, is not TOML, or does not validate.
    """
    resolution = resolve_config(settings, cwd)
    if resolution.path is None or resolution.data is None:
        return SwitchboardConfig(ignored_notice=resolution.notice)
    path = Path(resolution.path)
    try:
        text = resolution.data.decode("utf-8")
        data = tomllib.loads(text)
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {path} is not UTF-8 text") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
    try:
        config = SwitchboardConfig.model_validate(data)
    except ValidationError as exc:
        from server.config_errors import describe_validation_error

        raise ConfigError(describe_validation_error(exc, path, text, SwitchboardConfig)) from exc
    config.source = path
    config.ignored_notice = resolution.notice
    return config
