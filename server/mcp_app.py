"""The MCP server: ``delegate``, ``consensus``, ``get_output``, ``providers`` and ``stats`` (and stored answers as
``switchboard://outputs/{id}`` resources), over stdio or streamable HTTP.

:func:`build_server` makes the app; its lifespan builds the shared :class:`Runtime` (no provider SDK is imported
until a provider is used), opens the store a moment after start or on first need, and then ingests the hook
spool in the background.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import AsyncGenerator, Callable, Mapping
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import unquote, urlparse

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp_types import ToolAnnotations
from pydantic import BaseModel, Field
from sqlalchemy import Engine

from server import __version__
from server.config import SwitchboardConfig, load_config
from server.engine.consensus_tool import register_consensus_tool
from server.engine.delegate import DelegateError, DelegateParams
from server.engine.delegate import delegate as run_delegate
from server.engine.discovery import list_providers, list_routes
from server.engine.output import load_output
from server.engine.results import DelegateResult, ProviderListing
from server.engine.runtime import Runtime
from server.settings import Settings

__all__ = ["OutputChunk", "ProvidersResult", "build_server"]

logger = logging.getLogger(__name__)

INSTRUCTIONS = (
    "Switchboard hands tasks to other LLM providers. Use `delegate` for self-contained work another model can do "
    "(pass file paths in `files`; continue a conversation with `thread_id`); `providers` lists what is configured; "
    "`get_output` returns an answer that was cut to fit; `stats` shows usage, cost and provider health."
)

AppContext = Context[Runtime, Any]

STORE_OPEN_DELAY_S = 1.0


class OutputChunk(BaseModel):
    output_id: str
    offset: int
    content: str
    total_chars: int
    next_offset: int | None = Field(description="Pass as offset to read on; None at the end.")


class ProvidersResult(BaseModel):
    providers: list[ProviderListing]
    routes: dict[str, list[str]] = Field(description="Per task type, the models delegate tries, in list order.")
    routing_config: str = Field(description="The config file in force.")


def _runtime(ctx: AppContext) -> Runtime:
    return ctx.request_context.lifespan_context


async def delegate(
    ctx: AppContext,
    task: Annotated[str, Field(min_length=1, description="What the other model should do; self-contained.")],
    model: Annotated[str | None, Field(description="'provider:model' to try first, e.g. 'groq:llama-3.3-70b'.")] = None,
    task_type: Annotated[
        str | None,
        Field(description="code_fix, ui, ai_feature, research, cost_sensitive or general; default: classified."),
    ] = None,
    files: Annotated[
        list[str] | None, Field(description="Paths inside the project to send along (the server reads them).")
    ] = None,
    system: Annotated[str | None, Field(description="A system prompt.")] = None,
    max_tokens: Annotated[int | None, Field(gt=0, description="Cap on the answer's length in tokens.")] = None,
    max_cost_usd: Annotated[float | None, Field(gt=0, description="Skip models estimated to cost more.")] = None,
    thread_id: Annotated[str | None, Field(description="Continue this thread (from an earlier result).")] = None,
    temperature: Annotated[float | None, Field(ge=0, le=2)] = None,
) -> DelegateResult:
    """Hand a task to the best configured model for it, falling back to the next on failure.

    The result has the answer, its cost and tokens, and the routing decision (candidates, chosen, skipped).
    """
    params = DelegateParams(
        task=task,
        model=model,
        task_type=task_type,
        files=files or [],
        system=system,
        max_tokens=max_tokens,
        max_cost_usd=max_cost_usd,
        thread_id=thread_id,
        temperature=temperature,
        progress=ctx.report_progress,
        roots=await client_roots(ctx) if files else None,
    )
    try:
        return await run_delegate(_runtime(ctx), params)
    except DelegateError as exc:
        raise ToolError(str(exc)) from exc


async def client_roots(ctx: AppContext) -> list[Path] | None:
    """The client's ``file://`` roots, or None when it declares none or cannot be asked on this connection."""
    capabilities = ctx.client_capabilities
    if capabilities is None or capabilities.roots is None:
        return None
    try:
        with warnings.catch_warnings():
            # Deprecated from protocol 2026-07-28 on, yet the way handshake-era clients (Claude Code) say it.
            warnings.simplefilter("ignore", MCPDeprecationWarning)
            listed = await ctx.session.list_roots()  # pyright: ignore[reportDeprecated]
    except Exception:
        logger.debug("the client did not list its roots", exc_info=True)
        return None
    uris = [urlparse(str(root.uri)) for root in listed.roots]
    return [Path(unquote(uri.path)) for uri in uris if uri.scheme == "file"] or None


async def get_output(
    ctx: AppContext,
    output_id: Annotated[str, Field(description="The output_id from a truncated delegate result.")],
    offset: Annotated[int, Field(ge=0, description="Start at this character.")] = 0,
    max_chars: Annotated[int, Field(gt=0, le=60_000)] = 60_000,
) -> OutputChunk:
    """Read a stored full answer (one that was cut to fit the tool-output limit), a chunk at a time."""
    runtime = _runtime(ctx)
    content = await anyio.to_thread.run_sync(load_output, await runtime.ready_engine(), output_id)
    if content is None:
        raise ToolError(f"no stored output with id {output_id!r}")
    end = min(len(content), offset + max_chars)
    return OutputChunk(
        output_id=output_id,
        offset=offset,
        content=content[offset:end],
        total_chars=len(content),
        next_offset=end if end < len(content) else None,
    )


async def output_resource(output_id: str, ctx: AppContext) -> str:
    """A stored full answer, whole (the ``get_output`` tool reads it in chunks)."""
    content = await anyio.to_thread.run_sync(load_output, await _runtime(ctx).ready_engine(), output_id)
    if content is None:
        raise ResourceError(f"no stored output with id {output_id!r}")
    return content


async def providers(ctx: AppContext) -> ProvidersResult:
    """List the configured providers and models with their key status, health (breaker) and prices."""
    runtime = _runtime(ctx)
    return ProvidersResult(
        providers=list_providers(runtime), routes=list_routes(runtime), routing_config=runtime.config_file
    )


async def _open_store_later(runtime: Runtime, ingest: bool) -> None:
    # Importing alembic and migrating hold the GIL for a while; even in a thread they would slow the answer to
    # initialize. So the store opens a moment later, or at once when a tool needs it first (ready_engine).
    await anyio.sleep(STORE_OPEN_DELAY_S)
    try:
        store = await runtime.ready_engine()
    except Exception:
        logger.exception("could not open the store; tools will retry when they need it")
        return
    if ingest:
        from server.store.background import ingest_periodically

        await ingest_periodically(runtime.settings, store)


async def _flush_pending(runtime: Runtime) -> None:
    """Write provider events no call has taken along yet (a breaker that opened on the last call)."""
    rows = runtime.take_pending()
    if not rows or not runtime.has_engine:
        return
    from server.engine.records import save_rows

    with anyio.CancelScope(shield=True):
        try:
            await anyio.to_thread.run_sync(save_rows, runtime.engine, rows)
        except Exception:
            logger.exception("could not write %d provider events at shutdown", len(rows))


def _open_store(settings: Settings) -> Engine:
    from server.store.engine import open_store

    return open_store(settings)


def build_server(
    settings: Settings | None = None,
    config: SwitchboardConfig | None = None,
    *,
    engine: Engine | None = None,
    environ: Mapping[str, str] | None = None,
    roots: list[Path] | None = None,
    ingest: bool = True,
    runtime_hook: Callable[[Runtime], None] | None = None,
) -> MCPServer[Runtime]:
    """The switchboard MCP app.

    Args:
        settings: Process settings; default: from the environment.
        config: The config; default: the file in force (:func:`server.config.load_config`).
        engine: The store; default: :func:`server.store.engine.open_store` (migrated in the background, and
            ingested into periodically unless ``ingest`` is False), disposed on exit.
        environ: Where keys and ``CLAUDE_CODE_SESSION_ID`` are read; default: the process environment.
        roots: Directories ``files`` may come from; default: the working directory.
        ingest: Whether to ingest the hook spool periodically while running.
        runtime_hook: Called with the runtime once built (tests inject provider clients through it).
    """

    @asynccontextmanager
    async def lifespan(_server: MCPServer[Runtime]) -> AsyncGenerator[Runtime]:
        resolved = settings or Settings()
        cfg = config or load_config(resolved)
        runtime = Runtime.create(resolved, cfg, engine, roots=roots, environ=environ)
        if engine is None:
            runtime.set_store_opener(partial(_open_store, resolved))
        if runtime_hook is not None:
            runtime_hook(runtime)
        try:
            async with anyio.create_task_group() as group:
                if engine is None:
                    group.start_soon(_open_store_later, runtime, ingest)
                yield runtime
                group.cancel_scope.cancel()
        finally:
            await _flush_pending(runtime)
            await runtime.aclose()
            if engine is None and runtime.has_engine:
                runtime.engine.dispose()

    # WARNING: at the SDK's default INFO, every provider HTTP request would be logged to stderr.
    server: MCPServer[Runtime] = MCPServer(
        "switchboard", version=__version__, instructions=INSTRUCTIONS, lifespan=lifespan, log_level="WARNING"
    )
    server.add_tool(
        delegate,
        name="delegate",
        title="Delegate a task to another model",
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True
        ),
    )
    server.add_tool(
        get_output,
        name="get_output",
        title="Read a stored full answer",
        annotations=ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False),
    )
    server.add_tool(
        providers,
        name="providers",
        title="Configured providers, models, health and prices",
        annotations=ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False),
    )
    server.resource(
        "switchboard://outputs/{output_id}",
        name="stored_output",
        title="A stored full answer",
        mime_type="text/plain",
    )(output_resource)
    from server.analytics.stats_tool import register_stats_tool

    register_stats_tool(server)
    register_consensus_tool(server)
    return server
