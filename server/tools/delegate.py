"""The ``delegate`` MCP tool: hand a task to the best configured model, with the client's roots for ``files``."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Annotated
from urllib.parse import unquote, urlparse

from mcp.server.mcpserver.exceptions import ToolError
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp_types import CallToolResult
from pydantic import Field, WithJsonSchema

from server.engine.compact import delegate_result
from server.task_types import TASK_TYPE_MEANINGS, TASK_TYPES
from server.tools._context import AppContext, runtime_of

__all__ = ["TASK_TYPE_HELP", "TASK_TYPE_SCHEMA", "client_roots", "delegate"]

logger = logging.getLogger(__name__)

# The schema says enum; validation is the engine's, whose error is a sentence listing the valid types (the
# SDK's for a Literal is a pydantic dump with a documentation link).
TASK_TYPE_SCHEMA = WithJsonSchema({"anyOf": [{"enum": list(TASK_TYPES), "type": "string"}, {"type": "null"}]})
TASK_TYPE_HELP = "Picks the route; default: classified from the task. " + "; ".join(
    f"{name}: {meaning}" for name, meaning in TASK_TYPE_MEANINGS.items()
)


async def delegate(
    ctx: AppContext,
    task: Annotated[str, Field(min_length=1, description="What the other model should do; self-contained.")],
    model: Annotated[
        str | None, Field(description="A model id from the providers tool to try first; default: routed.")
    ] = None,
    task_type: Annotated[str | None, TASK_TYPE_SCHEMA, Field(description=TASK_TYPE_HELP)] = None,
    files: Annotated[
        list[str] | None, Field(description="Paths inside the project to send along (the server reads them).")
    ] = None,
    system: Annotated[str | None, Field(description="A system prompt.")] = None,
    max_tokens: Annotated[int | None, Field(gt=0, description="Cap on the answer's length in tokens.")] = None,
    max_cost_usd: Annotated[float | None, Field(gt=0, description="Skip models estimated to cost more.")] = None,
    thread_id: Annotated[str | None, Field(description="Continue this thread (from an earlier result).")] = None,
    temperature: Annotated[float | None, Field(ge=0, le=2)] = None,
) -> CallToolResult:
    """Give a self-contained task to another model and get its answer back.

    Use it for work that needs none of this conversation: drafting or fixing a piece of code, a summary, a
    look-up, bulk or routine edits, or when another model is cheaper or faster. The route falls back to the
    next model on failure. Returns the answer, then one line: model, tokens, cost, latency, any fallback.
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
        return delegate_result(await run_delegate(runtime, params))
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
