"""The ``solve`` MCP tool: validate the request against the config (models, check name, bounds), run, report."""

from __future__ import annotations

import os
import shlex
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult
from pydantic import Field

from server.engine.runtime import Runtime
from server.engine.solve.compact import solve_result
from server.providers.registry import ModelInfo
from server.tools.consensus import choose_members, ranked_models

__all__ = ["DEFAULT_MODELS", "solve"]

DEFAULT_MODELS = 3


def _model(runtime: Runtime, model_id: str) -> ModelInfo:
    listed = {info.id: info for info in runtime.registry.models()}
    if model_id in listed:
        return listed[model_id]
    known = ", ".join(listed) or f"none: add [providers.NAME] sections with models to {runtime.config_file}"
    raise ToolError(f"unknown model {model_id!r}; configured models: {known}")


def _check(runtime: Runtime, name: str | None) -> str | None:
    if name is None:
        return None
    checks = runtime.config.solve.checks
    if name not in checks:
        names = ", ".join(sorted(checks)) or "none"
        raise ToolError(
            f"unknown check {name!r}; configured checks: {names} (define them under [solve.checks] in "
            f"{runtime.config_file}; a client names a check, it never passes a command)"
        )
    try:
        argv = shlex.split(checks[name])
    except ValueError as exc:
        argv, why = [], str(exc)
    else:
        why = "it is empty"
    if not argv:
        raise ToolError(f"check {name!r} in {runtime.config_file} is not a command line ({why}): fix [solve.checks]")
    return checks[name]


def _models(runtime: Runtime, task: str, models: list[str] | None) -> list[ModelInfo]:
    if models:
        return [_model(runtime, model_id) for model_id in dict.fromkeys(models)]
    chosen, _ = choose_members(runtime, task, DEFAULT_MODELS)
    if not chosen:
        raise ToolError(f"no model is configured: add [providers.NAME] sections with models to {runtime.config_file}")
    return [_model(runtime, model_id) for model_id in chosen]


def _judge(
    runtime: Runtime, task: str, named: str | None, check: str | None, chosen: list[ModelInfo]
) -> tuple[ModelInfo | None, str]:
    """The judge and the line that says who scores: the one named; else, without a check, the router's best-ranked
    configured model that is not a candidate (a candidate would judge its own answers); else none (the check
    alone). With neither a check nor such a model there is nothing to score with: refused before any call."""
    if named is not None:
        judge = _model(runtime, named)
        return judge, (f"check {check}, ranked by judge {judge.id}" if check else f"judged by {judge.id}")
    if check is not None:
        return None, f"scored by check {check} alone"
    candidates = {info.id for info in chosen}
    outside = next((info for info in ranked_models(runtime, task) if info.id not in candidates), None)
    if outside is None:
        raise ToolError(
            "nothing can score the answers: name a check configured under [solve.checks], or a judge; there is no "
            f"configured model outside the candidates ({', '.join(sorted(candidates))}) to judge by default"
        )
    return outside, f"judged by {outside.id} (not a candidate)"


def _max_calls(runtime: Runtime, asked: int | None, per_node: int) -> int:
    config = runtime.config.solve
    value = config.default_max_calls if asked is None else asked
    if value < per_node:
        raise ToolError(f"max_calls {value} is too small: one node takes {per_node} call(s) (answer, judge)")
    if value > config.max_calls_ceiling:
        raise ToolError(
            f"max_calls {value} is above the configured ceiling {config.max_calls_ceiling} "
            f"([solve] max_calls_ceiling in {runtime.config_file})"
        )
    return value


def _timeout(runtime: Runtime, asked: float | None) -> float:
    """The run's own deadline; the client's (taken as the call arrived) is applied by the run on top of it."""
    return asked or runtime.config.solve.timeout_s


async def solve(
    ctx: Context[Runtime, Any],
    task: Annotated[str, Field(min_length=1, description="The task; self-contained. Every node answers it whole.")],
    models: Annotated[
        list[str] | None,
        Field(description="Models to search over, as 'provider:model'; default: 3 from different providers."),
    ] = None,
    check: Annotated[
        str | None,
        Field(description="Name of a check configured under [solve.checks] (e.g. 'tests'); the answer is its stdin."),
    ] = None,
    judge: Annotated[
        str | None,
        Field(
            description="'provider:model' scoring each answer 0-1 with a critique; default without a check: the "
            "router's pick among configured models that are not candidates. With a check, the check gates and the "
            "judge ranks; default with a check: no judge."
        ),
    ] = None,
    files: Annotated[list[str] | None, Field(description="Paths inside the project to send along.")] = None,
    max_calls: Annotated[int | None, Field(description="Most model calls (answers and judge verdicts).")] = None,
    max_cost_usd: Annotated[float | None, Field(gt=0, description="Cost cap on the whole run.")] = None,
    timeout_s: Annotated[float | None, Field(gt=0, description="Deadline; the best answer so far returns.")] = None,
    target_score: Annotated[float, Field(ge=0, le=1, description="Stop once an answer scores this.")] = 1.0,
) -> CallToolResult:
    """Search for the best answer with AB-MCTS over several models: each call writes a fresh answer or refines a
    promising one, scored by a configured check and/or a judge model; calls go where they pay.

    Returns the best answer (cut to fit; get_output has the rest), its score, the path that led to it, calls, cost
    and time. Progress is reported as nodes finish.
    """
    runtime = ctx.request_context.lifespan_context
    deadline = runtime.call_deadline()  # before any wait (warm-up, the client's roots): its clock is running
    await runtime.warm()
    from server.engine.files import FileRefused, attach_files
    from server.engine.solve.run import SolveSpec, run_solve
    from server.engine.solve.search import MissingExtra, load_treequest

    try:
        await load_treequest()  # before anything is spent: without the extra, the answer is the install command
    except MissingExtra as exc:
        raise ToolError(str(exc)) from exc

    command = _check(runtime, check)
    chosen = _models(runtime, task, models)
    judge_info, scored_by = _judge(runtime, task, judge, check, chosen)
    limit = _max_calls(runtime, max_calls, 1 + (judge_info is not None))
    if files:
        try:
            task = f"{task}\n\n{attach_files(files, runtime.roots)}"
        except FileRefused as exc:
            raise ToolError(str(exc)) from exc
    spec = SolveSpec(
        task=task,
        models=tuple(chosen),
        check_name=check,
        check_command=command,
        judge=judge_info,
        max_calls=limit,
        target_score=target_score,
        max_cost_usd=max_cost_usd,
        timeout_s=_timeout(runtime, timeout_s),
        parallel=min(runtime.config.solve.parallel, runtime.config.resilience.max_concurrency),
        check_timeout_s=runtime.config.solve.check_timeout_s,
        environ=dict(os.environ),
        scored_by=scored_by,
    )

    async def progress(done: float, total: float | None, message: str) -> None:
        await ctx.report_progress(done, total, message)

    return solve_result(await run_solve(runtime, spec, progress=progress, deadline=deadline))
