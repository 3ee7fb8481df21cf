"""The ``consensus`` MCP tool: choose the members (given, or ``n`` from different providers), run, report progress."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult
from pydantic import AfterValidator, Field, WithJsonSchema

from server.classify import classify
from server.engine.consensus.compact import consensus_result
from server.engine.consensus.members import Member
from server.engine.consensus.models import ConsensusResult, Strategy
from server.engine.consensus.prompts import Stance
from server.engine.consensus.strategies import known_strategy, strategy_help, strategy_schema
from server.engine.runtime import Runtime
from server.providers.base import ChatMessage, CompletionRequest
from server.providers.registry import ModelInfo
from server.routing.explicit import model_error
from server.routing.rank import plan_route

__all__ = ["DEFAULT_MEMBERS", "MAX_MEMBERS", "choose_members", "consensus", "ranked_models"]

DEFAULT_MEMBERS = 3
MAX_MEMBERS = 10
"""The most members a run seats, however they are named (``n``, ``models`` or ``stances``): each is a paid call
made at the same moment, and 40 listed models made 41 calls (the judge's included) while ``n`` stopped at 10."""


def ranked_models(runtime: Runtime, question: str) -> list[ModelInfo]:
    """Every configured model for ``question``, in the router's order."""
    return _ranked(runtime, question)


def _ranked(runtime: Runtime, question: str) -> list[ModelInfo]:
    # Deferred (SQLAlchemy comes with them) until the server has answered initialize; Runtime.warm loads them.
    from server.engine.delegate import DEFAULT_OUTPUT_ESTIMATE
    from server.engine.records import estimate_cost

    needed = CompletionRequest(messages=(ChatMessage("user", question),)).approx_input_tokens()
    plan = plan_route(
        runtime.registry,
        runtime.config.routing,
        task_type=classify(question),
        explicit_model=None,
        needed_tokens=needed,
        breakers=runtime.breakers,
        latency=runtime.latency,
        estimate_cost=lambda info: estimate_cost(info, needed, DEFAULT_OUTPUT_ESTIMATE),
    )
    return plan.candidates


def choose_members(runtime: Runtime, question: str, n: int) -> tuple[list[str], str | None]:
    """``n`` models for ``question`` from as many providers as possible, in the router's order, and a judge.

    The first model of each provider is taken first; only when providers run out does a provider seat a
    second model. The judge is the best-ranked model that is not a member, else the first member.
    """
    ranked = _ranked(runtime, question)
    firsts: list[ModelInfo] = []
    for info in ranked:
        if all(info.provider != seated.provider for seated in firsts):
            firsts.append(info)
    seconds = [info for info in ranked if info not in firsts]
    members = [info.id for info in (firsts + seconds)[:n]]
    judge = next((info.id for info in ranked if info.id not in members), members[0] if members else None)
    return members, judge


def _check_fan_out(models: list[str] | None, n: int | None, stances: list[Stance] | None) -> None:
    asked = len(models) if models else n or (len(stances) if stances else DEFAULT_MEMBERS)
    if asked > MAX_MEMBERS:
        named = "models lists" if models else "n asks for" if n else "stances asks for"
        raise ToolError(f"{named} {asked} members; a consensus run seats at most {MAX_MEMBERS}")
    if models and n is not None and len(models) > n:
        raise ToolError(f"models lists {len(models)} members but n is {n}: list at most n, or leave n out")


def _members(
    runtime: Runtime,
    question: str,
    models: list[str] | None,
    n: int | None,
    stances: list[Stance] | None,
    judge: str | None = None,
) -> tuple[list[Member], str | None]:
    _check_fan_out(models, n, stances)
    for named in [*(models or []), *([judge] if judge else [])]:
        problem = model_error(runtime.registry, named)
        if problem is not None:
            raise ToolError(problem)
    if models:
        chosen = list(models)
        ranked = _ranked(runtime, question)
        judge = next((info.id for info in ranked if info.id not in chosen), chosen[0])
    else:
        count = n or (len(stances) if stances else DEFAULT_MEMBERS)
        chosen, judge = choose_members(runtime, question, count)
        if not chosen:
            raise ToolError(
                f"no model is configured: add [providers.NAME] sections with models to {runtime.config_file}"
            )
    if stances is not None and len(stances) != len(chosen):
        raise ToolError(f"stances has {len(stances)} entries for {len(chosen)} members: give one per member")
    seats = [Member(model, stances[i] if stances else None) for i, model in enumerate(chosen)]
    return seats, judge


async def consensus(
    ctx: Context[Runtime, Any],
    question: Annotated[str, Field(description="The question every member answers; self-contained.")],
    models: Annotated[
        list[str] | None,
        Field(
            max_length=MAX_MEMBERS,
            description="Member ids from the providers tool; default: n models from different providers.",
        ),
    ] = None,
    n: Annotated[
        int | None, Field(ge=1, le=MAX_MEMBERS, description="How many members the router picks (default 3).")
    ] = None,
    strategy: Annotated[
        Strategy,
        # The registry's names and summaries, so a strategy added there is offered here with no edit.
        AfterValidator(known_strategy),
        WithJsonSchema(strategy_schema()),
        Field(description=strategy_help()),
    ] = "judge",
    judge: Annotated[str | None, Field(description="The judge's model id; default: the router's pick.")] = None,
    stances: Annotated[
        list[Stance] | None,
        Field(max_length=MAX_MEMBERS, description="One per member: 'for', 'against' or 'neutral'."),
    ] = None,
    max_cost_usd: Annotated[
        float | None,
        Field(gt=0, description="Cap on the whole run; members whose worst case does not fit are skipped."),
    ] = None,
    timeout_s: Annotated[
        float | None, Field(gt=0, description="Deadline for the members' answers (the judge then has its own).")
    ] = None,
) -> CallToolResult:
    """Ask several models the same question at once; returns one answer and how far they agreed.

    Use it for a decision worth a second opinion (a design choice, a risky change, the cause of a hard bug),
    not for routine work: it pays for several calls. Returns the final answer, then a line on agreement and
    members; each member's answer, cost and error are in the structured result.
    """
    runtime = ctx.request_context.lifespan_context
    deadline = runtime.call_deadline()  # before any wait: the client's clock is already running
    if runtime.config_error is not None:
        raise ToolError(runtime.config_error)
    await runtime.warm()
    from server.engine.consensus.run import ConsensusRefused, ConsensusSpec, run_consensus

    seats, default_judge = _members(runtime, question, models, n, stances, judge)
    spec = ConsensusSpec(
        question=question,
        members=tuple(seats),
        strategy=strategy,
        judge=judge or default_judge,
        max_cost_usd=max_cost_usd,
        timeout_s=timeout_s,
    )

    async def progress(done: float, total: float | None, message: str) -> None:
        await ctx.report_progress(done, total, message)

    try:
        result = await run_consensus(runtime, spec, progress=progress, deadline=deadline)
    except ConsensusRefused as exc:
        raise ToolError(str(exc)) from exc
    asked = None if models else n or (len(stances) if stances else DEFAULT_MEMBERS)
    _note_shortfall(result, len(seats), asked, n_given=n is not None)
    return consensus_result(result)


def _note_shortfall(result: ConsensusResult, seated: int, asked: int | None, *, n_given: bool) -> None:
    """Say when fewer members sat than ``asked`` (None: the caller named them), and when too few answered."""
    if asked is not None and seated < asked:
        wanted = f"asked for {asked} members" if n_given else f"{asked} members by default"
        result.notes.insert(0, f"{wanted}, only {seated} configured model(s) could sit (see the providers tool)")
    answered = sum(1 for member in result.members if member.status == "ok")
    if answered < 2 and len(result.members) > 1:
        result.notes.append(f"{answered} of {len(result.members)} members answered: no agreement to measure")
