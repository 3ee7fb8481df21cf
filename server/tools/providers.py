"""The ``providers`` MCP tool: the valid model ids, key status, health, prices, and each task type's route and why."""

from __future__ import annotations

from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, TextContent
from pydantic import BaseModel, Field

from server.engine.compact import details
from server.engine.discovery import list_providers, list_routes, providers_text, refresh_learner
from server.engine.results import ProviderListing, RouteListing
from server.tools._context import AppContext, runtime_of

__all__ = ["ProvidersResult", "providers"]


class ProvidersResult(BaseModel):
    providers: list[ProviderListing]
    routes: dict[str, RouteListing]
    routing_config: str = Field(description="The config file in force.")
    notice: str | None = Field(default=None, description="A project config found and not trusted, and the command.")


async def providers(ctx: AppContext) -> CallToolResult:
    """The valid model ids (for delegate's model and consensus's models), with key status, health and prices,
    and per task type the order delegate tries them in and why."""
    runtime = runtime_of(ctx)
    if runtime.config_error is not None:
        raise ToolError(runtime.config_error)
    await runtime.warm()  # prices come from genai-prices, a heavy import
    await refresh_learner(runtime)  # the order shown is the one delegate will take: learning's totals, current
    result = ProvidersResult(
        providers=list_providers(runtime),
        routes=list_routes(runtime),
        routing_config=runtime.config_file,
        notice=runtime.config.ignored_notice,
    )
    text = providers_text(result.providers, result.routes, result.routing_config)
    return CallToolResult(
        content=[TextContent(type="text", text=f"{result.notice}\n{text}" if result.notice else text)],
        structured_content=details(result),
    )
