"""``get_output`` and the ``switchboard://outputs/{id}`` resource: full answers that were cut to fit a result."""

from __future__ import annotations

from typing import Annotated

import anyio
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from pydantic import BaseModel, Field

from server.engine.runtime import Runtime
from server.tools._context import AppContext, runtime_of

__all__ = ["OutputChunk", "get_output", "output_resource"]


class OutputChunk(BaseModel):
    output_id: str
    offset: int
    content: str
    total_chars: int
    next_offset: int | None = Field(description="Pass as offset to read on; None at the end.")


async def _load_output(runtime: Runtime, output_id: str) -> str | None:
    await runtime.warm()
    from server.engine.output import load_output

    await runtime.recorder.settled()  # an answer just given may still be on its way to the store
    engine = await runtime.ready_store()
    return await anyio.to_thread.run_sync(load_output, engine, output_id, runtime.scope)


async def get_output(
    ctx: AppContext,
    output_id: Annotated[str, Field(description="The output_id from a truncated delegate result.")],
    offset: Annotated[int, Field(ge=0, description="Start at this character.")] = 0,
    max_chars: Annotated[int, Field(gt=0, le=60_000)] = 60_000,
) -> OutputChunk:
    """Read a stored full answer (one that was cut to fit the tool-output limit), a chunk at a time."""
    content = await _load_output(runtime_of(ctx), output_id)
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
    content = await _load_output(runtime_of(ctx), output_id)
    if content is None:
        raise ResourceError(f"no stored output with id {output_id!r}")
    return content
