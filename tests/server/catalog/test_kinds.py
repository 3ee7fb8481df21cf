"""One descriptor per provider kind; a provider is priced as what it really is."""

from __future__ import annotations

from typing import Any

import pytest

from server.catalog.kinds import KINDS
from server.catalog.presets import PRESETS
from server.config import ConfigError, SwitchboardConfig
from server.engine.records import estimate_cost
from server.pricing import cost_usd
from server.providers.registry import Registry


def registry(**providers: Any) -> Registry:
    return Registry(SwitchboardConfig.model_validate({"providers": providers}), environ={})


def test_every_preset_names_a_kind_of_the_descriptor_table_and_every_factory_imports() -> None:
    assert {preset.kind for preset in PRESETS.values()} <= set(KINDS)
    for descriptor in KINDS.values():
        assert callable(descriptor.provider_class())


def test_an_unknown_kind_is_refused_naming_the_known_ones() -> None:
    with pytest.raises((ValueError, ConfigError), match="known: openai, openai-compatible"):
        registry(acme={"kind": "telepathy", "models": ["m"]})


def test_a_preset_under_another_name_is_priced_as_its_preset() -> None:
    info = registry(mygroq={"preset": "groq", "models": ["llama-3.3-70b-versatile"]}).models()[0]
    groq = cost_usd("llama-3.3-70b-versatile", provider="groq", input_tokens=1000, output_tokens=1000)
    assert info.pricing_provider == "groq"
    assert groq is not None and estimate_cost(info, 1000, 1000) == groq


def test_an_openai_compatible_proxy_can_be_priced_as_openai_and_configured_prices_still_win() -> None:
    proxy: dict[str, Any] = {
        "base_url": "http://127.0.0.1:9/v1",
        "models": ["gpt-5.5", "house-model"],
        "pricing_provider": "openai",
        "prices": {"house-model": {"input_per_mtok": 1.0, "output_per_mtok": 2.0}},
    }
    gpt, house = registry(proxy=proxy).models()
    openai = cost_usd("gpt-5.5", provider="openai", input_tokens=1000, output_tokens=1000)
    assert openai is not None and estimate_cost(gpt, 1000, 1000) == openai
    assert estimate_cost(house, 1_000_000, 1_000_000) == pytest.approx(3.0)


def test_a_cli_reports_no_usage_so_its_models_are_unpriced_even_when_genai_prices_knows_the_name() -> None:
    (info,) = registry(**{"gemini-cli": {"models": ["gemini-2.5-pro"]}}).models()
    assert cost_usd("gemini-2.5-pro", input_tokens=1000) is not None
    assert info.reports_usage is False and estimate_cost(info, 1000, 1000) is None
