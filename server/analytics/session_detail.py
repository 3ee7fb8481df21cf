"""One session in detail: its timeline as a tree (prompts, tool calls, subagent runs, delegations) with costs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from server.analytics.delegation_items import DelegationItem, delegation_items
from server.analytics.notifications import is_task_notification, notification_label
from server.analytics.sessions import ModelTokens, SessionRow, model_tokens, session_rows
from server.analytics.telemetry import agent_costs, main_agent_requests
from server.store.models import AgentSession, Delegation, ModelUsage, Prompt, SubagentRun, ToolCall

__all__ = ["DelegationItem", "SessionDetail", "TimelineNode", "session_detail"]

NodeKind = Literal["prompt", "notification", "tool_call", "subagent", "delegation"]


class TimelineNode(BaseModel):
    """A node of the session tree; ``cost_usd`` includes its children's priced costs."""

    kind: NodeKind
    id: str
    at: datetime | None
    label: str
    status: str | None = None
    duration_ms: float | None = None
    own_cost_usd: float | None = Field(default=None, description="This node's own cost; None: none or unpriced.")
    cost_usd: float | None = Field(default=None, description="Own cost plus the children's; None if nothing priced.")
    unpriced: bool = Field(default=False, description="Some usage under this node has no known price.")
    tokens: int = 0
    children: list[TimelineNode] = Field(default_factory=list)


class SessionDetail(BaseModel):
    """A session, its tokens by model, its timeline tree and its delegations."""

    session: SessionRow
    by_model: list[ModelTokens]
    timeline: list[TimelineNode]
    delegations: list[DelegationItem]


def _sort_key(node: TimelineNode) -> tuple[datetime, str]:
    return (node.at or datetime.min.replace(tzinfo=UTC), node.id)


def _roll_up(node: TimelineNode) -> None:
    """Fill ``cost_usd`` and ``unpriced`` from the node's own figures and its children's, depth first."""
    total = node.own_cost_usd
    for child in node.children:
        _roll_up(child)
        node.unpriced = node.unpriced or child.unpriced
        if child.cost_usd is not None:
            total = child.cost_usd if total is None else total + child.cost_usd
    node.cost_usd = total


def _prompt_of(at: datetime | None, prompts: list[TimelineNode]) -> TimelineNode | None:
    """The latest prompt submitted at or before ``at``."""
    owner = None
    for prompt in prompts:
        if at is not None and (prompt.at or at) <= at:
            owner = prompt
    return owner


def session_detail(db: Session, session_id: str) -> SessionDetail | None:
    """The session's detail, or None when there is no such session.

    Tree: prompts at the top (each owning what happened until the next prompt), subagent runs under their
    prompt or parent subagent, tool calls under their subagent (``agent_id``) or prompt, delegations and
    Claude Code's task notifications under their prompt. A prompt's own cost is the main agent's priced
    ``model_usage`` until the next prompt, or, when the session exported telemetry, the main agent's
    ``api_request`` costs (Claude Code's own figures) in that span.
    """
    session = db.get(AgentSession, session_id)
    if session is None:
        return None
    tree = _Tree(db, session_id)
    tree.add_main_agent_costs()
    tree.add_subagents()
    tree.add_tool_calls()
    delegations = tree.add_delegations()
    return SessionDetail(
        session=session_rows(db, [session])[0],
        by_model=model_tokens(db, [col(ModelUsage.session_id) == session_id]),
        timeline=tree.finish(),
        delegations=delegation_items(db, delegations),
    )


class _Tree:
    """The timeline of one session, built one kind of row at a time; :meth:`finish` sorts it and rolls costs up."""

    def __init__(self, db: Session, session_id: str) -> None:
        self.db, self.session_id = db, session_id
        self.roots: list[TimelineNode] = []
        self.agents: dict[str, TimelineNode] = {}
        submitted = db.exec(
            select(Prompt).where(Prompt.session_id == session_id).order_by(col(Prompt.created_at))
        ).all()
        self.prompts = [
            TimelineNode(kind="prompt", id=str(p.id), at=p.created_at, label=p.text[:200])
            for p in submitted
            if not is_task_notification(p.text)
        ]
        for p in submitted:
            if is_task_notification(p.text):
                node = TimelineNode(
                    kind="notification", id=str(p.id), at=p.created_at, label=notification_label(p.text)
                )
                self.attach(node, self.prompt_of(p.created_at))

    def prompt_of(self, at: datetime | None) -> TimelineNode | None:
        return _prompt_of(at, self.prompts)

    def attach(self, node: TimelineNode, parent: TimelineNode | None) -> None:
        (parent.children if parent is not None else self.roots).append(node)

    def add_main_agent_costs(self) -> None:
        """Each prompt's tokens, and its cost: Claude Code's own (telemetry) when exported, else the priced usage."""
        usage = self.db.exec(
            select(ModelUsage).where(ModelUsage.session_id == self.session_id, col(ModelUsage.agent_id).is_(None))
        ).all()
        requests = main_agent_requests(self.db, self.session_id)
        for when, cost in requests:
            owner = self.prompt_of(when)
            if owner is not None and cost is not None:
                owner.own_cost_usd = (owner.own_cost_usd or 0.0) + cost
        for u in usage:
            owner = self.prompt_of(u.created_at)
            if owner is None:
                continue
            owner.tokens += u.input_tokens + u.output_tokens + u.cache_read_tokens + u.cache_creation_tokens
            if requests:
                continue  # the cost came from telemetry
            if u.cost_usd is None:
                owner.unpriced = True
            else:
                owner.own_cost_usd = (owner.own_cost_usd or 0.0) + u.cost_usd

    def add_subagents(self) -> None:
        """Subagent runs under their parent subagent or prompt, costed by Claude Code's figure where it sent one."""
        runs = self.db.exec(select(SubagentRun).where(SubagentRun.session_id == self.session_id)).all()
        reported = agent_costs(self.db, self.session_id)
        for r in runs:
            self.agents[r.agent_id] = TimelineNode(
                kind="subagent",
                id=r.agent_id,
                at=r.started_at,
                label=r.agent_type or "subagent",
                status="done" if r.stopped_at else "running",
                duration_ms=r.duration_ms,
                own_cost_usd=reported.get(r.agent_id, r.cost_usd),
                unpriced=r.agent_id not in reported
                and ((r.cost_usd is None and (r.input_tokens + r.output_tokens) > 0) or bool(r.unpriced_models)),
                tokens=r.input_tokens + r.output_tokens + r.cache_read_tokens + r.cache_creation_tokens,
            )
        for r in runs:
            parent = self.agents.get(r.parent_agent_id) if r.parent_agent_id else None
            self.attach(self.agents[r.agent_id], parent or self.prompt_of(r.started_at))

    def add_tool_calls(self) -> None:
        """Tool calls under their subagent (``agent_id``) or prompt."""
        for c in self.db.exec(select(ToolCall).where(ToolCall.session_id == self.session_id)).all():
            node = TimelineNode(
                kind="tool_call",
                id=c.tool_use_id,
                at=c.started_at,
                label=c.tool_name,
                status=c.status,
                duration_ms=c.duration_ms,
            )
            self.attach(node, self.agents.get(c.agent_id) if c.agent_id else self.prompt_of(c.started_at))

    def add_delegations(self) -> list[Delegation]:
        """Delegation attempts under their prompt; returns them, oldest first."""
        delegations = list(
            self.db.exec(
                select(Delegation).where(Delegation.session_id == self.session_id).order_by(col(Delegation.created_at))
            ).all()
        )
        for d in delegations:
            node = TimelineNode(
                kind="delegation",
                id=f"{d.request_id}#{d.attempt}",
                at=d.created_at,
                label=f"{d.provider}:{d.model}",
                status=d.status,
                duration_ms=d.latency_ms,
                own_cost_usd=d.cost_usd,
                unpriced=d.cost_usd is None or not d.priced,
                tokens=d.input_tokens + d.output_tokens,
            )
            self.attach(node, self.prompt_of(d.created_at))
        return delegations

    def finish(self) -> list[TimelineNode]:
        """The roots (prompts, and what no prompt owns), each level sorted by time, costs rolled up."""
        self.roots.extend(self.prompts)
        for node in [*self.roots, *self.agents.values(), *self.prompts]:
            node.children.sort(key=_sort_key)
        self.roots.sort(key=_sort_key)
        for node in self.roots:
            _roll_up(node)
        return self.roots
