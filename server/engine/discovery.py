"""What is configured: providers, their models, health and prices (the ``providers`` tool)."""

from __future__ import annotations

from server.engine.results import ModelListing, ProviderListing
from server.engine.runtime import Runtime
from server.providers.keys import find_key
from server.providers.registry import ModelInfo, ProviderSpec
from server.routing.classify import TASK_TYPES
from server.routing.rank import candidate_ids

__all__ = ["list_providers", "list_routes"]

_MTOK = 1_000_000


def _price(info: ModelInfo) -> tuple[float | None, float | None, str]:
    from server.pricing import cost_usd

    if info.price is not None:
        return info.price.input_per_mtok, info.price.output_per_mtok, "config"
    if not info.reports_usage:
        return None, None, "unpriced"  # no token counts come back: a price could not be applied
    provider = info.pricing_provider or info.provider
    per_input = cost_usd(info.model, provider=provider, input_tokens=_MTOK)
    per_output = cost_usd(info.model, provider=provider, output_tokens=_MTOK)
    if per_input is None or per_output is None:
        return None, None, "unpriced"
    return round(per_input, 6), round(per_output, 6), "genai-prices"


def _key_status(runtime: Runtime, spec: ProviderSpec) -> str:
    needs = spec.descriptor.key
    if needs == "none":
        return "no key (runs a local command)"
    if spec.api_key_env is None and spec.api_key_file is None:
        return "no key needed" if needs == "optional" else "no key variable configured"
    found = find_key(spec.api_key_env, spec.api_key_file, environ=runtime.registry.environ, cwd=runtime.roots[0])
    where = spec.api_key_env or str(spec.api_key_file)
    return f"{where}: {'set' if found else 'MISSING'}"


def list_providers(runtime: Runtime) -> list[ProviderListing]:
    """Every enabled provider with its key status (never the key), breaker state and models with prices."""
    listings: list[ProviderListing] = []
    for spec in runtime.registry.specs.values():
        breaker = runtime.breakers[spec.name]
        models: list[ModelListing] = []
        for info in runtime.registry.models():
            if info.provider != spec.name:
                continue
            input_price, output_price, source = _price(info)
            models.append(
                ModelListing(
                    id=info.id,
                    input_per_mtok=input_price,
                    output_per_mtok=output_price,
                    price_source=source,
                    context_window=info.context_window,
                    recent_latency_ms=runtime.latency.get(info.id),
                )
            )
        listings.append(
            ProviderListing(
                name=spec.name,
                kind=spec.kind,
                base_url=spec.base_url,
                key=_key_status(runtime, spec),
                breaker=breaker.state.value,
                consecutive_failures=breaker.consecutive_failures,
                models=models,
            )
        )
    return listings


def list_routes(runtime: Runtime) -> dict[str, list[str]]:
    """For each task type (built-in and configured), its list of models before health and budget filtering."""
    task_types = dict.fromkeys([*TASK_TYPES, *runtime.config.routing.task_types])
    return {
        task_type: candidate_ids(runtime.registry, runtime.config.routing, task_type)[0] for task_type in task_types
    }
