"""The MCP app every transport serves (``serve`` over stdio or HTTP, and each session of the service): the tools of
:mod:`server.tools.table` on one server, with the lifespan that builds the session's :class:`Runtime`.

:func:`build_server` makes the app from :class:`SessionOptions`; its lifespan builds the shared :class:`Runtime`
(no provider SDK is imported until a provider is used). Nothing heavier than the MCP SDK and pydantic is imported
before ``initialize`` is answered: once the client has that answer, a worker thread imports the store, the engines
and the analytics (:meth:`Runtime.warm`), then the store opens and the hook spool is ingested in the background.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.tools import Tool
from pydantic import BaseModel

from server import __version__
from server.config import ConfigError, SwitchboardConfig, load_config
from server.engine.runtime import Runtime, Shared
from server.settings import Settings
from server.tools.outputs import output_resource
from server.tools.table import build_tools, instructions

if TYPE_CHECKING:
    from sqlalchemy import Engine

__all__ = ["INSTRUCTIONS", "WARM_FALLBACK_S", "SessionOptions", "build_server"]

logger = logging.getLogger(__name__)

INSTRUCTIONS = instructions()
"""What the server tells the client of itself and its tools (generated from :mod:`server.tools.table`)."""

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
    # loads them itself (Runtime.warm, ready_store).
    with anyio.move_on_after(WARM_FALLBACK_S):
        await handshake.wait()
    try:
        await runtime.warm()
        store = await runtime.ready_store()
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
    from server.store.database import open_store

    return open_store(settings)


@dataclass(frozen=True, kw_only=True)
class SessionOptions:
    """Where a server gets what its settings and config do not say; the defaults are ``serve``'s."""

    store: Engine | None = None
    """The store (its SQLAlchemy engine); default: :func:`server.store.database.open_store` (migrated in the
    background after the handshake, and ingested into periodically unless ``ingest`` is False), disposed on exit."""
    environ: Mapping[str, str] | None = None
    """Where keys and ``CLAUDE_CODE_SESSION_ID`` are read; default: the process environment."""
    roots: list[Path] | None = None
    """Directories ``files`` may come from; default: the working directory."""
    ingest: bool = True
    """Whether to ingest the hook spool periodically while running."""
    config_error: str | None = None
    """Why the config in force could not be loaded (``config`` is then the defaults); the server still runs:
    ``stats`` and ``get_output`` work, tools that need providers return this error."""
    open_store: Callable[[], Engine] | None = None
    """Opens a store someone else owns (the service's, shared by its sessions; not disposed here)."""
    shared: Shared | None = None
    """Breakers, latency statistics, limiter and cache shared with other sessions (the service's)."""
    tools: list[Tool] | None = None
    """The tools, built once by :func:`server.tools.table.build_tools` (40-100 ms) and reused: the service's
    sessions all serve one list (tools read everything from the lifespan's runtime); default: built here."""
    on_runtime: Callable[[Runtime], None] | None = None
    """Called with the runtime once built; for tests (they inject provider clients and seed the learner here)."""


def _lifespan(
    settings: Settings | None,
    config: SwitchboardConfig | None,
    options: SessionOptions,
    handshake: _Handshake,
    notice: _TrustNotice,
) -> Callable[[MCPServer[Runtime]], AbstractAsyncContextManager[Runtime]]:
    """The lifespan that builds the session's :class:`Runtime` and, unless given a store, opens one after the
    handshake."""
    given = options.store

    @asynccontextmanager
    async def lifespan(_server: MCPServer[Runtime]) -> AsyncGenerator[Runtime]:
        resolved = settings or Settings()
        cfg, problem = (config, options.config_error) if config is not None else _load_config(resolved)
        runtime = Runtime.create(
            resolved,
            cfg,
            given,
            roots=options.roots,
            environ=options.environ,
            shared=options.shared,
            config_error=problem,
        )
        if given is None:
            runtime.set_store_opener(options.open_store or partial(_open_store, resolved))
        notice.line = cfg.ignored_notice
        if options.on_runtime is not None:
            options.on_runtime(runtime)
        try:
            async with anyio.create_task_group() as group:
                if given is None:
                    handshake.done = anyio.Event()
                    group.start_soon(_warm_and_open_store, runtime, handshake.done, options.ingest)
                yield runtime
                group.cancel_scope.cancel()
        finally:
            await runtime.aclose()  # the recorder writes what it holds, provider events included
            if given is None and options.open_store is None and runtime.has_store:
                runtime.store.dispose()

    return lifespan


def build_server(
    settings: Settings | None = None,
    config: SwitchboardConfig | None = None,
    options: SessionOptions | None = None,
) -> MCPServer[Runtime]:
    """The switchboard MCP app: the tools of :mod:`server.tools.table` and the stored-output resource.

    Args:
        settings: Process settings; default: from the environment.
        config: The config; default: the file in force (:func:`server.config.load_config`).
        options: The store, keys, roots and what a service session shares; default: ``serve``'s.
    """
    options = options or SessionOptions()
    handshake = _Handshake()
    notice = _TrustNotice()
    # WARNING: at the SDK's default INFO, every provider HTTP request would be logged to stderr.
    server: MCPServer[Runtime] = MCPServer(
        "switchboard",
        version=__version__,
        instructions=INSTRUCTIONS,
        lifespan=_lifespan(settings, config, options, handshake, notice),
        log_level="WARNING",
        middleware=[handshake, notice],
        tools=options.tools if options.tools is not None else build_tools(),
    )
    server.resource(
        "switchboard://outputs/{output_id}",
        name="stored_output",
        title="A stored full answer",
        mime_type="text/plain",
    )(output_resource)
    return server
