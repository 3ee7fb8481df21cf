"""The MCP app every transport serves (``serve`` over stdio or HTTP, and each session of the service): the tools of
this package registered on one server, with the lifespan that builds the session's :class:`Runtime`.

:func:`build_server` makes the app; its lifespan builds the shared :class:`Runtime` (no provider SDK is imported
until a provider is used). Nothing heavier than the MCP SDK and pydantic is imported before ``initialize`` is
answered: once the client has that answer, a worker thread imports the store, the engines and the analytics
(:meth:`Runtime.warm`), then the store opens and the hook spool is ingested in the background.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Callable, Mapping
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp_types import ToolAnnotations
from pydantic import BaseModel

from server import __version__
from server.config import ConfigError, SwitchboardConfig, load_config
from server.engine.compact import tool_description
from server.engine.runtime import Runtime, Shared
from server.settings import Settings
from server.tools.arguments import explain_argument_errors
from server.tools.consensus import register_consensus_tool
from server.tools.delegate import delegate
from server.tools.feedback import register_feedback_tool
from server.tools.outputs import get_output, output_resource
from server.tools.providers import providers
from server.tools.solve import register_solve_tool
from server.tools.stats import register_stats_tool

if TYPE_CHECKING:
    from sqlalchemy import Engine

__all__ = ["INSTRUCTIONS", "WARM_FALLBACK_S", "build_server"]

logger = logging.getLogger(__name__)

INSTRUCTIONS = (
    "Switchboard hands work to other LLM providers and reports what agent sessions cost. "
    "`delegate`: give a self-contained task to the best configured model for it, with fallback (pass file paths "
    "in `files`; continue a conversation with `thread_id`). "
    "`consensus`: ask several models the same question at once and get one answer with how far they agreed "
    "(strategy fastest, vote, judge or cheapest; optional for/against stances), for decisions worth a second "
    "opinion. "
    "`solve`: for a hard task with a way to score answers (a check named in the config, or a judge model), search "
    "over several models with AB-MCTS: fresh answers and refinements, until the target score or a budget. "
    "`providers`: the configured models, their key status, health and prices. "
    "`get_output`: the rest of an answer that was cut to fit. "
    "`feedback`: whether a delegated answer was good (by its request_id); routing learns from it. "
    "`stats`: usage, cost, savings from delegation, provider health, tool and subagent patterns and routing "
    "advice from the recorded sessions (`section` picks one part; `session_id='current'` is this session)."
)

WARM_FALLBACK_S = 1.0
"""When the client says nothing after ``initialize``, the background warm-up starts this long after start."""


class _Handshake:
    """Middleware that notes the first message after ``initialize``: the client has the answer to it by then."""

    def __init__(self) -> None:
        self.done: anyio.Event | None = None

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        result = await call_next(ctx)
        if ctx.method != "initialize" and self.done is not None:
            self.done.set()
        return result


class _TrustNotice:
    """Middleware that puts the config's one-line trust notice (a project config found and ignored) on the first
    tool result of the session, in the text and the structured content (the part Claude Code shows its model)."""

    def __init__(self) -> None:
        self.line: str | None = None

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        result = await call_next(ctx)
        if ctx.method != "tools/call" or self.line is None:
            return result
        line, self.line = self.line, None
        # The SDK hands middleware the result already dumped to its wire form (camelCase keys).
        data: dict[str, Any] = result.model_dump(by_alias=True) if isinstance(result, BaseModel) else dict(result or {})
        content: list[Any] = list(data.get("content") or [])
        if not any(isinstance(c, dict) and line in str(c.get("text", "")) for c in content):  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
            data["content"] = [{"type": "text", "text": line}, *content]
        structured = data.get("structuredContent")
        if isinstance(structured, dict):
            data["structuredContent"] = {"notice": line, **structured}
        return data


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


def _load_config(settings: Settings) -> tuple[SwitchboardConfig, str | None]:
    """The config in force, or the defaults and why it could not be loaded: a typo must not cost every tool."""
    try:
        return load_config(settings), None
    except ConfigError as exc:
        logger.warning("%s", exc)
        return SwitchboardConfig(), str(exc)


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
    open_store: Callable[[], Engine] | None = None,
    shared: Shared | None = None,
    tools_of: MCPServer[Runtime] | None = None,
    config_error: str | None = None,
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
        open_store: Opens a store someone else owns (the service's, shared by its sessions; not disposed here).
        shared: Breakers, latency statistics, limiter and cache shared with other sessions (the service's).
        tools_of: Take the tools and resources of this server (they read everything from the lifespan's
            runtime) instead of building them: building them costs 40-100 ms, once per session in the service.
        config_error: Why the config in force could not be loaded (``config`` is then the defaults); the
            server still runs: ``stats`` and ``get_output`` work, tools that need providers return this error.
    """
    handshake = _Handshake()
    notice = _TrustNotice()

    @asynccontextmanager
    async def lifespan(_server: MCPServer[Runtime]) -> AsyncGenerator[Runtime]:
        resolved = settings or Settings()
        cfg, problem = (config, config_error) if config is not None else _load_config(resolved)
        runtime = Runtime.create(
            resolved, cfg, engine, roots=roots, environ=environ, shared=shared, config_error=problem
        )
        if engine is None:
            runtime.set_store_opener(open_store or partial(_open_store, resolved))
        notice.line = cfg.ignored_notice
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
            if engine is None and open_store is None and runtime.has_engine:
                runtime.engine.dispose()

    # WARNING: at the SDK's default INFO, every provider HTTP request would be logged to stderr.
    server: MCPServer[Runtime] = MCPServer(
        "switchboard",
        version=__version__,
        instructions=INSTRUCTIONS,
        lifespan=lifespan,
        log_level="WARNING",
        middleware=[handshake, notice],
    )
    if tools_of is not None:
        server._tool_manager = tools_of._tool_manager
        server._resource_manager = tools_of._resource_manager
        return server
    server.add_tool(
        delegate,
        name="delegate",
        description=tool_description(delegate),
        title="Delegate a task to another model",
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True
        ),
    )
    server.add_tool(
        get_output,
        name="get_output",
        description=tool_description(get_output),
        title="Read a stored full answer",
        annotations=ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False),
    )
    server.add_tool(
        providers,
        name="providers",
        description=tool_description(providers),
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
    register_solve_tool(server)
    explain_argument_errors(server)  # last: every tool above answers argument errors in sentences
    return server
