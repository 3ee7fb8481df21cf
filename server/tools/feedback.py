"""The ``feedback`` MCP tool: say whether a delegated answer was good; learned routing counts it.

Registering imports no store: the MCP server answers ``initialize`` first.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, TextContent
from pydantic import BaseModel, Field

from server.engine.runtime import Runtime

__all__ = ["FeedbackResult", "feedback"]


class FeedbackResult(BaseModel):
    request_id: str
    model: str = Field(description="provider:model whose answer was judged.")
    task_type: str
    good: bool
    replaced: bool = Field(description="True when earlier feedback on this request was replaced (the last counts).")
    message: str


async def feedback(
    ctx: Context[Runtime, Any],
    request_id: Annotated[
        str,
        Field(
            min_length=1,
            max_length=64,
            description="The id a delegate result ends with, or any unique start of its request_id.",
        ),
    ],
    good: Annotated[bool, Field(description="Whether the delegated answer was good (kept, correct, useful).")],
    note: Annotated[str | None, Field(max_length=2_000, description="Why, in a few words.")] = None,
) -> CallToolResult:
    """Tell switchboard whether a delegated answer was good: routing learns which models answer each task type
    well, in this project. Feedback again on the same request replaces the earlier one."""
    runtime = ctx.request_context.lifespan_context
    await runtime.warm()
    from server.routing.feedback import FeedbackError, give_feedback
    from server.routing.learn_store import refresh

    engine = await runtime.ready_store()
    await runtime.recorder.settled()  # the delegate call being judged may still be on its way to the store

    def save() -> Any:
        saved = give_feedback(
            engine, request_id, good, note, session_id=runtime.session_id, project_dir=runtime.project_dir
        )
        refresh(runtime.learner, engine, runtime.project_dir)
        return saved

    try:
        saved = await anyio.to_thread.run_sync(save)
    except FeedbackError as exc:
        raise ToolError(str(exc)) from exc
    result = FeedbackResult(
        request_id=saved.request_id,
        model=saved.model,
        task_type=saved.task_type,
        good=saved.good,
        replaced=saved.previous is not None,
        message=saved.message,
    )
    # No output schema in tools/list (558 characters every session pays for); the details stay structured.
    return CallToolResult(
        content=[TextContent(type="text", text=result.message)], structured_content=result.model_dump(mode="json")
    )
