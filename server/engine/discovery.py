"""What is configured: providers, their models, health and prices (the ``providers`` tool)."""

from __future__ import annotations

import logging

import anyio

from server.engine.results import ModelListing, ProviderListing, RouteListing, SkippedModel
from server.engine.runtime import Runtime
from server.providers.keys import KeyFileError, find_key
from server.providers.registry import ModelInfo, ProviderSpec
from server.routing.rank import plan_route
from server.task_types import TASK_TYPES

__all__ = ["list_providers", "list_routes", "providers_text", "refresh_learner"]

logger = logging.getLogger(__name__)

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
    where = spec.api_key_env or str(spec.api_key_file)
    try:
        env, cwd = runtime.registry.environ, runtime.roots[0]
        found = find_key(spec.api_key_env, spec.api_key_file, environ=env, cwd=cwd, provider=spec.name)
    except KeyFileError:
        return f"{where}: INVALID (not one line of token characters)"
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


_ORDER_WHY = {
    "written": "tried as written",
    "cost": "sorted by estimated cost ([routing] order)",
    "latency": "sorted by recent latency ([routing] order)",
    "fit": "by list position, then health, price and recent latency",
}


async def refresh_learner(runtime: Runtime) -> None:
    """Reload learned routing's totals when they are older than :data:`server.routing.learn.REFRESH_S` (other
    processes write too); a store that cannot be read leaves the decision to what is in memory."""
    if not runtime.learner.stale():
        return
    from sqlalchemy.exc import SQLAlchemyError

    from server.routing.learn_store import refresh

    try:
        engine = await runtime.ready_store()
        await anyio.to_thread.run_sync(refresh, runtime.learner, engine, runtime.project_dir)
    except (SQLAlchemyError, OSError) as exc:
        logger.warning("learned routing: could not reload routing_stat (%s); using what is in memory", exc)
        runtime.learner.keep()


def list_routes(runtime: Runtime) -> dict[str, RouteListing]:
    """For each task type, the order delegate would try now (breakers, context and learning taken into account, as
    :func:`server.engine.delegate.delegate` does), and why. Learning draws each call anew from its totals: the
    order shown is the one it expects (the posterior means), which the draw follows once evidence is clear."""
    from server.engine.delegate import DEFAULT_OUTPUT_ESTIMATE
    from server.engine.records import estimate_cost

    routes: dict[str, RouteListing] = {}
    for task_type in TASK_TYPES:
        plan = plan_route(
            runtime.registry,
            runtime.config.routing,
            task_type=task_type,
            explicit_model=None,
            needed_tokens=0,
            breakers=runtime.breakers,
            latency=runtime.latency,
            estimate_cost=lambda info: estimate_cost(info, 0, DEFAULT_OUTPUT_ESTIMATE),
        )
        written = [info.id for info in plan.candidates]
        learned = runtime.learner.expected(task_type, written)
        why = f"{plan.source}, {_ORDER_WHY.get(plan.order, plan.order)}"
        if learned.order != written:
            why = f"{plan.source}, learned order: {learned.reason}"
        elif len(written) > 1 and runtime.learner.config.enabled:
            why = f"{why}; {learned.reason}"
        routes[task_type] = RouteListing(
            models=learned.order,
            why=why,
            written=written if learned.order != written else None,
            skipped=[SkippedModel(model=skip.model, reason=skip.reason) for skip in plan.skipped],
        )
    return routes


def providers_text(providers: list[ProviderListing], routes: dict[str, RouteListing], config_file: str) -> str:
    """The listing as a model reads it: one line per provider, then one per task type's route."""
    lines = [f"config: {config_file}"]
    for provider in providers:
        models = ", ".join(f"{m.id} ({_price_text(m)})" for m in provider.models) or "no models"
        lines.append(f"{provider.name} [{provider.kind}; key {provider.key}; breaker {provider.breaker}]: {models}")
    lines.append("routes (task type: models in the order tried; why):")
    for task_type, route in routes.items():
        skipped = "".join(f"; skips {s.model}: {s.reason}" for s in route.skipped)
        lines.append(f"{task_type}: {', '.join(route.models) or '(none)'}; {route.why}{skipped}")
    return "\n".join(lines)


def _price_text(model: ModelListing) -> str:
    if model.input_per_mtok is None or model.output_per_mtok is None:
        return "unpriced"
    return f"${model.input_per_mtok:g}/${model.output_per_mtok:g} per Mtok in/out"
