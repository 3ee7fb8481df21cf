from __future__ import annotations

import pytest

from server.config import RoutingConfig, SwitchboardConfig
from server.providers.registry import ModelInfo, Registry
from server.routing.breaker import Breakers
from server.routing.classify import classify
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


def test_built_in_matrix_is_restricted_to_configured_providers() -> None:
    reg = registry(openai=["gpt-4o"], perplexity=["sonar-pro"])
    assert ids(plan(reg, task_type="research")) == ["perplexity:sonar-pro", "openai:gpt-4o"]
    assert ids(plan(reg, task_type="ui")) == ["openai:gpt-4o"]


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
