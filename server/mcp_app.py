"""The MCP server: ``delegate``, ``consensus``, ``get_output``, ``providers`` and ``stats`` (and stored answers as
``switchboard://outputs/{id}`` resources), over stdio or streamable HTTP.

:func:`build_server` makes the app; its lifespan builds the shared :class:`Runtime` (no provider SDK is imported
until a provider is used). Nothing heavier than the MCP SDK and pydantic is imported before ``initialize`` is
answered: once the client has that answer, a worker thread imports the store, the engines and the analytics
(:meth:`Runtime.warm`), then the store opens and the hook spool is ingested in the background.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import AsyncGenerator, Callable, Mapping
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import unquote, urlparse

import anyio
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp_types import ToolAnnotations
from pydantic import BaseModel, Field

from server import __version__
from server.analytics.stats_tool import register_stats_tool
from server.config import SwitchboardConfig, load_config
from server.engine.consensus_tool import register_consensus_tool
from server.engine.discovery import list_providers, list_routes
from server.engine.results import DelegateResult, ProviderListing
from server.engine.runtime import Runtime
from server.routing.feedback_tool import register_feedback_tool
from server.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

__all__ = ["INSTRUCTIONS", "OutputChunk", "ProvidersResult", "build_server"]

logger = logging.getLogger(__name__)

INSTRUCTIONS = (
    "Switchboard hands work to other LLM providers and reports what agent sessions cost. "
    "`delegate`: give a self-contained task to the best configured model for it, with fallback (pass file paths "
    "in `files`; continue a conversation with `thread_id`). "
    "`consensus`: ask several models the same question at once and get one answer with how far they agreed "
    "(strategy fastest, vote, judge or cheapest; optional for/against stances), for decisions worth a second "
    "opinion. "
    "`providers`: the configured models, their key status, health and prices. "
    "`get_output`: the rest of an answer that was cut to fit. "
    "`feedback`: whether a delegated answer was good (by its request_id); routing learns from it. "
    "`stats`: usage, cost, savings from delegation, provider health, tool and subagent patterns and routing "
    "advice from the recorded sessions (`section` picks one part; `session_id='current'` is this session)."
)

AppContext = Context[Runtime, Any]

WARM_FALLBACK_S = 1.0
"""When the client says nothing after ``initialize``, the background warm-up starts this long after start."""


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
    runtime = _runtime(ctx)
    deadline = runtime.call_deadline()  # before any wait (warm-up, the client's roots): its clock is running
    await runtime.warm()
    from server.engine.delegate import DelegateError, DelegateParams
    from server.engine.delegate import delegate as run_delegate

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
        deadline=deadline,
    )
    try:
        return await run_delegate(runtime, params)
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


async def _load_output(runtime: Runtime, output_id: str) -> str | None:
    await runtime.warm()
    from server.engine.output import load_output

    await runtime.recorder.settled()  # an answer just given may still be on its way to the store
    return await anyio.to_thread.run_sync(load_output, await runtime.ready_engine(), output_id)


async def get_output(
    ctx: AppContext,
    output_id: Annotated[str, Field(description="The output_id from a truncated delegate result.")],
    offset: Annotated[int, Field(ge=0, description="Start at this character.")] = 0,
    max_chars: Annotated[int, Field(gt=0, le=60_000)] = 60_000,
) -> OutputChunk:
    """Read a stored full answer (one that was cut to fit the tool-output limit), a chunk at a time."""
    content = await _load_output(_runtime(ctx), output_id)
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
    content = await _load_output(_runtime(ctx), output_id)
    if content is None:
        raise ResourceError(f"no stored output with id {output_id!r}")
    return content


async def providers(ctx: AppContext) -> ProvidersResult:
    """List the configured providers and models with their key status, health (breaker) and prices."""
    runtime = _runtime(ctx)
    await runtime.warm()  # prices come from genai-prices, a heavy import
    return ProvidersResult(
        providers=list_providers(runtime), routes=list_routes(runtime), routing_config=runtime.config_file
    )


class _Handshake:
    """Middleware that notes the first message after ``initialize``: the client has the answer to it by then."""

    def __init__(self) -> None:
        self.done: anyio.Event | None = None

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        result = await call_next(ctx)
        if ctx.method != "initialize" and self.done is not None:
            self.done.set()
        return result


async def _warm_and_open_store(runtime: Runtime, handshake: anyio.Event, ingest: bool) -> None:
    # Importing the store and the engines, alembic and migrating hold the GIL for a while; even in a thread they
    # would slow the answer to initialize. So they start once the client has that answer (notifications/initialized
    # follows it at once), or a moment after start if the client says nothing; a tool that needs them first
    # loads them itself (Runtime.warm, ready_engine).
    with anyio.move_on_after(WARM_FALLBACK_S):
        await handshake.wait()
    try:
        await runtime.warm()
        store = await runtime.ready_engine()
    except Exception:
        logger.exception("could not open the store; tools will retry when they need it")
        return
    if ingest:
        from server.store.background import ingest_periodically

        await ingest_periodically(runtime.settings, store)


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
        engine: The store; default: :func:`server.store.engine.open_store` (migrated in the background after the
            handshake, and ingested into periodically unless ``ingest`` is False), disposed on exit.
        environ: Where keys and ``CLAUDE_CODE_SESSION_ID`` are read; default: the process environment.
        roots: Directories ``files`` may come from; default: the working directory.
        ingest: Whether to ingest the hook spool periodically while running.
        runtime_hook: Called with the runtime once built (tests inject provider clients through it).
    """
    handshake = _Handshake()

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
                    handshake.done = anyio.Event()
                    group.start_soon(_warm_and_open_store, runtime, handshake.done, ingest)
                yield runtime
                group.cancel_scope.cancel()
        finally:
            await runtime.aclose()  # the recorder writes what it holds, provider events included
            if engine is None and runtime.has_engine:
                runtime.engine.dispose()

    # WARNING: at the SDK's default INFO, every provider HTTP request would be logged to stderr.
    server: MCPServer[Runtime] = MCPServer(
        "switchboard",
        version=__version__,
        instructions=INSTRUCTIONS,
        lifespan=lifespan,
        log_level="WARNING",
        middleware=[handshake],
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
    register_stats_tool(server)
    register_consensus_tool(server)
    register_feedback_tool(server)
    return server
