"""``delegate``: route a task to the best configured model, fall back down the list, record every attempt."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import anyio
from sqlmodel import SQLModel

from server.classify import classify
from server.engine.budget_gate import BudgetRefused, apply_budgets
from server.engine.discovery import refresh_learner
from server.engine.fallback import FallbackLog, Progress, run_fallback
from server.engine.files import FileRefused, attach_files
from server.engine.output import cut_to_limit, stored_output
from server.engine.records import Attempt, delegation_row, estimate_cost
from server.engine.results import AttemptSummary, DelegateResult, RoutingDecision, SkippedModel
from server.engine.runtime import Runtime
from server.engine.threads import load_thread, new_thread_id, thread_rows
from server.providers.base import ChatMessage, CompletionRequest
from server.providers.registry import split_model_id
from server.routing.explicit import model_error, task_type_error
from server.routing.learn import Learned
from server.routing.learn_store import learned_from
from server.routing.rank import Plan, Skip, plan_route
from server.store.models import Delegation

__all__ = ["DEFAULT_OUTPUT_ESTIMATE", "DelegateError", "DelegateParams", "Progress", "delegate"]

logger = logging.getLogger(__name__)

# Output tokens assumed for a budget estimate when the caller sets no max_tokens.
DEFAULT_OUTPUT_ESTIMATE = 1_000


class DelegateError(Exception):
    """A delegate call that cannot go ahead or did not succeed; the message says why and what to change."""


@dataclass
class DelegateParams:
    """The arguments of one ``delegate`` call (see the MCP tool for their meaning)."""

    task: str
    model: str | None = None
    task_type: str | None = None
    files: list[str] = field(default_factory=list[str])
    system: str | None = None
    max_tokens: int | None = None
    max_cost_usd: float | None = None
    thread_id: str | None = None
    temperature: float | None = None
    progress: Progress | None = None
    """Told ``(done, total, message)`` when the call falls back or waits, e.g. to report MCP progress."""
    roots: list[Path] | None = None
    """The client's project roots, when it told them; ``files`` must lie inside one (default: the server's)."""
    deadline: float | None = None
    """:meth:`Runtime.call_deadline` taken when the tool call arrived (default: when the fallback starts)."""


async def delegate(runtime: Runtime, params: DelegateParams) -> DelegateResult:
    """Answer ``params.task`` with the first candidate that succeeds.

    Raises:
        DelegateError: bad arguments (a file outside the project, an unknown thread or model), every candidate
            refused by a budget, or every candidate failed (the message lists each and why).
    """
    _check_arguments(runtime, params)
    request, thread_id = await _build_request(runtime, params)
    task_type = params.task_type or classify(params.task)
    plan, learned = await _learn(runtime, params, _plan(runtime, params, request, task_type))
    output_estimate = params.max_tokens or DEFAULT_OUTPUT_ESTIMATE
    try:
        budgeted = await apply_budgets(runtime, request, plan, output_tokens=output_estimate, cap=params.max_cost_usd)
    except BudgetRefused as exc:
        # Recorded as what it is ($0, its kind), so stats and the Delegations page show it; never the model's failure.
        runtime.record(_refusal_rows(runtime, exc.refusals, uuid.uuid4().hex, task_type, params.thread_id))
        raise DelegateError(str(exc)) from exc
    plan, settle = budgeted.plan, [budgeted.reservation] if budgeted.reservation else []
    request_id = uuid.uuid4().hex
    log = FallbackLog()
    try:
        attempts = await run_fallback(runtime, plan, request, params.progress, log, params.deadline)
    except anyio.get_cancelled_exc_class():
        # The caller gave up (Esc in Claude Code): the tries made so far still cost money and are recorded.
        rows = _attempt_rows(runtime, log.with_cancelled(), request_id, task_type, params.thread_id)
        runtime.record(rows, settle=settle)
        raise
    winner = next((a for a in attempts if a.ok and a.completion is not None), None)
    shown = None
    if winner is not None and winner.completion is not None:
        shown = _present(runtime, winner.completion.text, winner.info.id, request, thread_id)
    # A new thread exists only once answered; failed attempts must not name a thread never written.
    row_thread = thread_id if winner is not None else params.thread_id
    output_id = shown.output_id if shown else None
    rows = _attempt_rows(runtime, attempts, request_id, task_type, row_thread, winner, output_id)
    _mark_override(rows, attempts, learned)
    # What this call taught counts for the next one at once (the recorder writes it to routing_stat behind the
    # response); other processes' writes arrive with the next reload.
    runtime.learner.add(learned_from(rows))
    thread = (thread_id, runtime.session_id) if winner is not None else None
    if winner is None or winner.completion is None or shown is None:
        # Unanswered: the models not tried (breaker open, the client's deadline) are recorded under their kind.
        rows += _refusal_rows(runtime, plan.skipped, request_id, task_type, row_thread, first=len(attempts))
        runtime.record(rows, thread=thread, settle=settle)
        raise DelegateError(_all_failed(plan, attempts))
    result = DelegateResult(
        answer=shown.text,
        model=winner.info.id,
        thread_id=thread_id,
        request_id=request_id,
        input_tokens=winner.completion.input_tokens,
        output_tokens=winner.completion.output_tokens,
        cached_tokens=winner.completion.cached_tokens,
        cost_usd=winner.cost_usd,
        latency_ms=round(sum(a.latency_ms for a in attempts), 3),
        cache_hit=winner.cache_hit,
        truncated=shown.output_id is not None,
        output_id=shown.output_id,
        decision=_decision(params, plan, attempts, winner, budgeted.note, learned),
    )
    _note_claude_side(rows, params, result)
    runtime.record(shown.rows + rows, thread=thread, settle=settle)
    return result


def _note_claude_side(rows: list[SQLModel], params: DelegateParams, result: DelegateResult) -> None:
    """Keep on the answering attempt's row the tokens Claude spent writing this call and reading its result."""
    from server.engine.claude_side import ask_tokens, read_tokens
    from server.engine.compact import delegate_result

    answered = next((r for r in rows if isinstance(r, Delegation) and r.status == "ok"), None)
    if answered is None:
        return
    arguments = {
        "task": params.task,
        "model": params.model,
        "task_type": params.task_type,
        "files": params.files,
        "system": params.system,
        "max_tokens": params.max_tokens,
        "max_cost_usd": params.max_cost_usd,
        "thread_id": params.thread_id,
        "temperature": params.temperature,
    }
    answered.claude_ask_tokens = ask_tokens(arguments)
    answered.claude_read_tokens = read_tokens(delegate_result(result))


def _check_arguments(runtime: Runtime, params: DelegateParams) -> None:
    if runtime.config_error is not None:
        raise DelegateError(runtime.config_error)
    problem = task_type_error(params.task_type) if params.task_type else None
    problem = problem or (model_error(runtime.registry, params.model) if params.model else None)
    if problem is not None:
        raise DelegateError(problem)


async def _learn(runtime: Runtime, params: DelegateParams, plan: Plan) -> tuple[Plan, Learned]:
    """The plan's candidates in the learned order (the explicit model stays first)."""
    await refresh_learner(runtime)  # a store that cannot be read now must not cost the call its answer
    learned = runtime.learner.order(plan.task_type, [info.id for info in plan.candidates], params.model)
    by_id = {info.id: info for info in plan.candidates}
    plan.candidates = [by_id[model] for model in learned.order]
    return plan, learned


def _mark_override(rows: list[SQLModel], attempts: list[Attempt], learned: Learned) -> None:
    """Note on the first attempt's row whose first place learning took (for the routing page's counts)."""
    if learned.overrode and attempts and attempts[0].info.id == learned.order[0] and rows:
        first = rows[0]
        if isinstance(first, Delegation):
            first.learned_over = learned.overrode


def _attempt_rows(
    runtime: Runtime,
    attempts: list[Attempt],
    request_id: str,
    task_type: str,
    thread_id: str | None,
    winner: Attempt | None = None,
    output_id: str | None = None,
) -> list[SQLModel]:
    return [
        delegation_row(
            attempt,
            index=index,
            request_id=request_id,
            session_id=runtime.session_id,
            task_type=task_type,
            thread_id=thread_id,
            output_id=output_id if attempt is winner else None,
        )
        for index, attempt in enumerate(attempts)
    ]


def _refusal_rows(
    runtime: Runtime, skipped: list[Skip], request_id: str, task_type: str, thread_id: str | None, first: int = 0
) -> list[SQLModel]:
    """A $0 ``delegation`` row for each recorded refusal in ``skipped`` (one with a kind), numbered from ``first``."""
    rows: list[SQLModel] = []
    for skip in skipped:
        if skip.kind is None:
            continue
        provider, model = split_model_id(skip.model)
        rows.append(
            Delegation(
                session_id=runtime.session_id,
                request_id=request_id,
                attempt=first + len(rows),
                provider=provider,
                model=model,
                task_type=task_type,
                status=skip.kind,
                error=skip.reason,
                cost_usd=0.0,  # refused before any request: nothing was billed
                latency_ms=0.0,
                thread_id=thread_id,
            )
        )
    return rows


@dataclass
class _Shown:
    """The answer as returned to the client, and the rows that keep it (thread messages, the full text)."""

    text: str
    output_id: str | None
    rows: list[SQLModel]


def _present(runtime: Runtime, full: str, model_id: str, request: CompletionRequest, thread_id: str) -> _Shown:
    output_id = uuid.uuid4().hex
    # The answer reaches the client twice: as the text content and in structuredContent.
    text, truncated = cut_to_limit(full, runtime.config.output.max_output_tokens, output_id, copies=2)
    rows: list[SQLModel] = []
    if truncated:
        stored = stored_output(full, runtime.session_id, project_dir=runtime.project_dir)
        stored.id = output_id
        rows.append(stored)
    user = request.messages[-1].content
    rows += thread_rows(thread_id, scope=runtime.scope, user=user, answer=full, model=model_id)
    return _Shown(text=text, output_id=output_id if truncated else None, rows=rows)


async def _build_request(runtime: Runtime, params: DelegateParams) -> tuple[CompletionRequest, str]:
    content = params.task
    if params.files:
        try:
            attached = await anyio.to_thread.run_sync(attach_files, params.files, runtime.roots, params.roots)
            content = f"{content}\n\n{attached}"
        except FileRefused as exc:
            raise DelegateError(f"file refused: {exc}") from exc
    history: list[ChatMessage] = []
    thread_id = params.thread_id
    if thread_id:
        await runtime.recorder.settled()  # the thread's last answer may still be on its way to the store
        found = await anyio.to_thread.run_sync(load_thread, runtime.store, thread_id, runtime.scope)
        if found is None:
            raise DelegateError(f"unknown thread_id {thread_id!r}: omit it to start a new thread")
        history = found
    else:
        thread_id = new_thread_id()
    messages = (*history, ChatMessage(role="user", content=content))
    request = CompletionRequest(
        messages=messages, system=params.system, max_tokens=params.max_tokens, temperature=params.temperature
    )
    return request, thread_id


def _plan(runtime: Runtime, params: DelegateParams, request: CompletionRequest, task_type: str) -> Plan:
    output_estimate = params.max_tokens or DEFAULT_OUTPUT_ESTIMATE
    input_estimate = request.approx_input_tokens()
    plan = plan_route(
        runtime.registry,
        runtime.config.routing,
        task_type=task_type,
        explicit_model=params.model,
        needed_tokens=input_estimate + (params.max_tokens or 0),
        breakers=runtime.breakers,
        latency=runtime.latency,
        estimate_cost=lambda info: estimate_cost(info, input_estimate, output_estimate),
    )
    if not plan.candidates and not plan.skipped:
        raise DelegateError(
            f"no model is configured: add a [providers.NAME] section with models = [...] to {runtime.config_file}"
        )
    return plan


def _decision(
    params: DelegateParams,
    plan: Plan,
    attempts: list[Attempt],
    winner: Attempt | None,
    budget: str | None,
    learned: Learned,
) -> RoutingDecision:
    return RoutingDecision(
        budget=budget,
        learning=learned.reason,
        task_type=plan.task_type,
        task_type_source="given" if params.task_type else "classified",
        candidates=[info.id for info in plan.candidates],
        chosen=winner.info.id if winner else None,
        skipped=[SkippedModel(model=s.model, reason=s.reason) for s in plan.skipped],
        attempts=[
            AttemptSummary(
                model=a.info.id,
                status=a.status,
                error=a.error,
                latency_ms=round(a.latency_ms, 3),
                cache_hit=a.cache_hit,
            )
            for a in attempts
        ],
    )


def _all_failed(plan: Plan, attempts: list[Attempt]) -> str:
    lines = [f"- {a.info.id}: {a.status}: {a.error}" for a in attempts]
    lines += [f"- {s.model}: skipped: {s.reason}" for s in plan.skipped]
    if not lines:
        return "no candidate model for this task"
    return "every candidate failed:\n" + "\n".join(lines)
