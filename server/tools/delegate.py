"""The ``delegate`` MCP tool: hand a task to the best configured model, with the client's roots for ``files``."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Annotated
from urllib.parse import unquote, urlparse

from mcp.server.mcpserver.exceptions import ToolError
from mcp.shared.exceptions import MCPDeprecationWarning
from pydantic import Field

from server.engine.results import DelegateResult
from server.tools._context import AppContext, runtime_of

__all__ = ["client_roots", "delegate"]

logger = logging.getLogger(__name__)


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
    runtime = runtime_of(ctx)
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
