from __future__ import annotations

import pytest

from server.classify import classify
from server.config import RoutingConfig, SwitchboardConfig
from server.providers.registry import ModelInfo, Registry
from server.routing.breaker import Breakers
from server.routing.rank import LatencyStats, Plan, plan_route


@pytest.mark.parametrize(
    ("task", "expected"),
    [
        ("Fix the failing test in parser.py", "code_fix"),
        ("Why does this traceback happen?", "code_fix"),
        ("Make the settings page layout responsive with CSS", "ui"),
        ("Write the prompt and RAG pipeline for the support agent", "ai_feature"),
        ("Research the latest releases of PostgreSQL and cite sources", "research"),
        ("Summarize these 200 log lines, cheapest option please", "cost_sensitive"),
        ("Write a haiku about autumn", "general"),
    ],
)
def test_classify_picks_the_task_type_from_its_words(task: str, expected: str) -> None:
    assert classify(task) == expected


def registry(**providers: list[str]) -> Registry:
    return Registry(
        SwitchboardConfig.model_validate(
            {"providers": {name: {"base_url": "http://x/v1", "models": models} for name, models in providers.items()}}
        )
    )


def plan(reg: Registry, routing: RoutingConfig | None = None, **kw: object) -> Plan:
    args: dict[str, object] = {
        "task_type": "general",
        "explicit_model": None,
        "needed_tokens": 100,
        "breakers": Breakers(failures_to_open=2, cooldown_s=60),
        "latency": LatencyStats(),
        "estimate_cost": lambda _info: None,
    }
    args.update(kw)
    return plan_route(reg, routing or RoutingConfig(), **args)  # type: ignore[arg-type]


def ids(p: Plan) -> list[str]:
    return [c.id for c in p.candidates]


def test_built_in_matrix_sends_code_fixes_to_fast_providers_first() -> None:
    reg = registry(openai=["gpt-4o-mini"], cerebras=["llama-3.3-70b"], groq=["llama-3.3-70b-versatile"])
    assert ids(plan(reg, task_type="code_fix")) == [
        "cerebras:llama-3.3-70b",
        "groq:llama-3.3-70b-versatile",
        "openai:gpt-4o-mini",
    ]


def test_built_in_matrix_puts_its_providers_first_and_the_other_configured_ones_after_as_fallbacks() -> None:
    reg = registry(openai=["gpt-4o"], perplexity=["sonar-pro"])
    assert ids(plan(reg, task_type="research")) == ["perplexity:sonar-pro", "openai:gpt-4o"]
    assert ids(plan(reg, task_type="ui")) == ["openai:gpt-4o", "perplexity:sonar-pro"]


def test_built_in_matrix_knows_a_provider_by_its_preset_or_kind_not_its_section_name() -> None:
    # Before: the matrix was keyed by section name; local and mygroq were never tried, not even as fallbacks.
    reg = Registry(
        SwitchboardConfig.model_validate(
            {
                "providers": {
                    "local": {"preset": "ollama", "models": ["qwen"]},
                    "openai": {"base_url": "http://x/v1", "models": ["gpt-4o-mini"]},
                    "mygroq": {"preset": "groq", "models": ["llama-3.3-70b-versatile"]},
                    "claude": {"kind": "anthropic", "models": ["claude-haiku-4-5"]},
                }
            }
        )
    )
    result = plan(reg, task_type="general")
    assert ids(result) == [
        "mygroq:llama-3.3-70b-versatile",  # general: groq first
        "openai:gpt-4o-mini",
        "claude:claude-haiku-4-5",  # the anthropic kind
        "local:qwen",  # the matrix does not know ollama: a fallback, in config order
    ]
    assert result.skipped == []


def test_a_route_entry_whose_model_its_provider_does_not_list_is_skipped_with_a_reason() -> None:
    reg = registry(acme=["ok-a", "ok-b"])
    result = plan(reg, RoutingConfig(default=["acme:ok-aa", "acme:ok-b"]))
    assert ids(result) == ["acme:ok-b"]
    assert [(s.model, "not in [providers.acme] models" in s.reason) for s in result.skipped] == [("acme:ok-aa", True)]
    assert ids(plan(reg, explicit_model="acme:ok-zz")) == ["acme:ok-zz", "acme:ok-a", "acme:ok-b"]  # asked for by name


def test_config_task_type_list_wins_and_unconfigured_entries_are_skipped_with_a_reason() -> None:
    reg = registry(acme=["a", "b"])
    routing = RoutingConfig(task_types={"code_fix": ["acme:b", "groq:llama", "acme:a"]})
    result = plan(reg, routing, task_type="code_fix")
    assert ids(result) == ["acme:b", "acme:a"]
    [skip] = result.skipped
    assert skip.model == "groq:llama" and "not configured" in skip.reason


def test_explicit_model_goes_first() -> None:
    reg = registry(acme=["a", "b"])
    routing = RoutingConfig(default=["acme:a", "acme:b"])
    assert ids(plan(reg, routing, explicit_model="acme:b")) == ["acme:b", "acme:a"]


def test_models_with_too_small_a_context_window_are_skipped() -> None:
    reg = Registry(
        SwitchboardConfig.model_validate(
            {
                "providers": {
                    "acme": {"base_url": "http://x", "models": ["small", "big"], "context_windows": {"small": 4000}}
                }
            }
        )
    )
    result = plan(reg, needed_tokens=10_000)
    assert ids(result) == ["acme:big"]
    assert result.skipped[0].model == "acme:small" and "context window" in result.skipped[0].reason


def test_open_breaker_skips_provider_until_cooldown_ends() -> None:
    now = [0.0]
    breakers = Breakers(failures_to_open=1, cooldown_s=60, clock=lambda: now[0])
    breakers["acme"].record_failure("down")
    reg = registry(acme=["a"], other=["b"])
    routing = RoutingConfig(default=["acme:a", "other:b"])
    result = plan(reg, routing, breakers=breakers)
    assert ids(result) == ["other:b"] and "circuit open" in result.skipped[0].reason
    now[0] = 61
    assert ids(plan(reg, routing, breakers=breakers)) == ["acme:a", "other:b"]


def test_equally_fit_models_rank_by_price_then_latency() -> None:
    reg = registry(acme=["dear", "cheap", "fast", "slow"])
    prices = {"acme:dear": 1.0, "acme:cheap": 0.1, "acme:fast": 0.5, "acme:slow": 0.5}
    latency = LatencyStats()
    latency.observe("acme:fast", 100)
    latency.observe("acme:slow", 900)

    def estimate(info: ModelInfo) -> float | None:
        return prices[info.id]

    assert ids(plan(reg, estimate_cost=estimate, latency=latency)) == [
        "acme:cheap",
        "acme:fast",
        "acme:slow",
        "acme:dear",
    ]


def test_a_provider_with_recent_failures_ranks_after_a_healthy_equal() -> None:
    breakers = Breakers(failures_to_open=5, cooldown_s=60)
    breakers["acme"].record_failure("flaky")
    reg = registry(acme=["a"], other=["b"])
    result = plan(reg, breakers=breakers)
    assert ids(result) == ["other:b", "acme:a"]


def priced(prices: dict[str, float]) -> object:
    return lambda info: prices.get(info.id)  # type: ignore[attr-defined]


def test_a_written_default_is_tried_in_the_order_written_even_when_a_later_model_is_cheaper() -> None:
    reg = registry(acme=["err500-x", "garbage-z", "ok-a"])
    routing = RoutingConfig(default=["acme:err500-x", "acme:garbage-z", "acme:ok-a"])
    prices = {"acme:err500-x": 3.0, "acme:garbage-z": 2.0, "acme:ok-a": 0.1}
    result = plan(reg, routing, estimate_cost=priced(prices))
    assert ids(result) == ["acme:err500-x", "acme:garbage-z", "acme:ok-a"]
    assert (result.source, result.order) == ("config [routing] default", "written")


def test_a_written_list_is_not_reordered_by_recent_failures_or_latency() -> None:
    breakers = Breakers(failures_to_open=5, cooldown_s=60)
    breakers["acme"].record_failure("flaky")
    latency = LatencyStats()
    latency.observe("acme:a", 5_000)
    reg = registry(acme=["a"], other=["b"])
    routing = RoutingConfig(task_types={"general": ["acme:a", "other:b"]})
    assert ids(plan(reg, routing, breakers=breakers, latency=latency)) == ["acme:a", "other:b"]


def test_order_cost_sorts_a_written_list_by_estimated_price_unpriced_last() -> None:
    reg = registry(acme=["dear", "free", "cheap"])
    routing = RoutingConfig(default=["acme:dear", "acme:free", "acme:cheap"], order="cost")
    result = plan(reg, routing, estimate_cost=priced({"acme:dear": 1.0, "acme:cheap": 0.1}))
    assert ids(result) == ["acme:cheap", "acme:dear", "acme:free"]
    assert result.order == "cost"


def test_order_latency_sorts_by_recent_latency_unmeasured_last() -> None:
    latency = LatencyStats()
    latency.observe("acme:slow", 900)
    latency.observe("acme:fast", 100)
    reg = registry(acme=["never", "slow", "fast"])
    routing = RoutingConfig(default=["acme:never", "acme:slow", "acme:fast"], order="latency")
    assert ids(plan(reg, routing, latency=latency)) == ["acme:fast", "acme:slow", "acme:never"]


@pytest.mark.parametrize("task_type", ["code_fix", "ui", "ai_feature", "research", "cost_sensitive", "general"])
def test_the_config_default_serves_every_task_type_even_with_a_provider_named_like_the_matrix(task_type: str) -> None:
    reg = registry(openai=["gpt-4o-mini"], local=["qwen"])
    routing = RoutingConfig(default=["local:qwen", "openai:gpt-4o-mini"])
    result = plan(reg, routing, task_type=task_type)
    assert ids(result) == ["local:qwen", "openai:gpt-4o-mini"]
    assert result.source == "config [routing] default"


def test_a_config_routing_only_some_types_leaves_the_rest_to_every_model_as_written_not_the_matrix() -> None:
    reg = registry(local=["qwen"], openai=["gpt-4o-mini"])
    routing = RoutingConfig(task_types={"research": ["openai:gpt-4o-mini"]})
    result = plan(reg, routing, task_type="code_fix")
    assert ids(result) == ["local:qwen", "openai:gpt-4o-mini"]
    assert result.order == "written" and "every configured model" in result.source


def test_an_unknown_task_type_key_in_the_config_is_rejected() -> None:
    with pytest.raises(ValueError, match="coding"):
        RoutingConfig.model_validate({"task_types": {"coding": ["acme:a"]}})
