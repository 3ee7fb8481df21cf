"""What every tool reads its state from: the session's :class:`Runtime`, which the server's lifespan yields."""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import Context

from server.engine.runtime import Runtime

__all__ = ["AppContext", "runtime_of"]

AppContext = Context[Runtime, Any]


def runtime_of(ctx: AppContext) -> Runtime:
    return ctx.request_context.lifespan_context
