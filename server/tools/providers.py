"""The ``providers`` MCP tool: configured providers and models, key status, health, prices and routes."""

from __future__ import annotations

from pydantic import BaseModel, Field

from server.engine.discovery import list_providers, list_routes
from server.engine.results import ProviderListing
from server.tools._context import AppContext, runtime_of

__all__ = ["ProvidersResult", "providers"]


class ProvidersResult(BaseModel):
    providers: list[ProviderListing]
    routes: dict[str, list[str]] = Field(description="Per task type, the models delegate tries, in list order.")
    routing_config: str = Field(description="The config file in force.")


async def providers(ctx: AppContext) -> ProvidersResult:
    """List the configured providers and models with their key status, health (breaker) and prices."""
    runtime = runtime_of(ctx)
    await runtime.warm()  # prices come from genai-prices, a heavy import
    return ProvidersResult(
        providers=list_providers(runtime), routes=list_routes(runtime), routing_config=runtime.config_file
    )
