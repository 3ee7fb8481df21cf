"""The solve pages: recent ``solve`` runs, and one run's search tree laid out for an inline SVG.

The tree is laid out here, on the server, so the page needs no script (and stays under the CSP: SVG geometry is
attributes, colours are classes in ``app.css``). Depth runs left to right; siblings are grouped by model (then
expansion order), so one model's refinements sit together; leaves take one row each and a parent sits level
with its first child. Nodes are coloured by score in tenths; the path to the best node is marked.
"""

from __future__ import annotations

from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from server.analytics.window import Window
from server.store.models import SolveNode, SolveRun

__all__ = ["SolveNodeView", "SolveRunView", "SolveRunsView", "layout", "solve_run_view", "solve_runs_view"]

COLUMN_PX = 190
ROW_PX = 34
MARGIN_PX = 24
MODEL_CLASSES = 6
"""Models take one of this many outline colours (``model-0`` ... in app.css), in the run's order."""
RUNS_SHOWN = 50
FEEDBACK_CHARS = 400


class SolveNodeView(BaseModel):
    """One node, placed: ``x``/``y`` are the centre of its box in the SVG."""

    id: str
    seq: int
    parent_seq: int | None
    model: str
    model_class: str
    action: str
    depth: int
    score: float | None
    score_class: str
    status: str
    cost_usd: float | None
    latency_ms: float | None
    feedback: str | None
    best: bool = Field(description="On the path from a fresh answer to the best node.")
    x: float
    y: float
    parent_x: float
    parent_y: float


class ModelSummary(BaseModel):
    model: str
    model_class: str
    nodes: int
    best_score: float | None
    mean_score: float | None


class SolveRunView(BaseModel):
    """One run: its row, its placed nodes, a summary per model and the SVG's size."""

    run: SolveRun
    nodes: list[SolveNodeView]
    models: list[ModelSummary]
    width: float
    height: float
    root_x: float
    root_y: float


class SolveRunsView(BaseModel):
    runs: list[SolveRun]


def solve_runs_view(db: Session, user: str | None = None) -> SolveRunsView:
    """The newest runs (``user``: only those from that person's sessions)."""
    statement = Window(user=user).apply(select(SolveRun), SolveRun.created_at, SolveRun.session_id)
    statement = statement.order_by(col(SolveRun.created_at).desc()).limit(RUNS_SHOWN)
    return SolveRunsView(runs=list(db.exec(statement).all()))


def solve_run_view(db: Session, run_id: str) -> SolveRunView | None:
    """Run ``run_id`` with its tree, or None when there is no such run."""
    run = db.get(SolveRun, run_id)
    if run is None:
        return None
    rows = list(db.exec(select(SolveNode).where(SolveNode.run_id == run_id).order_by(col(SolveNode.seq))).all())
    return layout(run, rows)


def _score_class(row: SolveNode) -> str:
    if row.score is None or row.status != "ok":
        return "score-none"
    return f"score-{round(max(0.0, min(1.0, row.score)) * 10)}"


def _best_path(run: SolveRun, by_id: dict[str, SolveNode]) -> set[str]:
    path: set[str] = set()
    node_id = run.best_node_id
    while node_id is not None and node_id in by_id and node_id not in path:
        path.add(node_id)
        node_id = by_id[node_id].parent_id
    return path


def _short(text: str | None) -> str | None:
    if text is None or len(text) <= FEEDBACK_CHARS:
        return text
    return text[: FEEDBACK_CHARS - 1] + "…"


def layout(run: SolveRun, rows: list[SolveNode]) -> SolveRunView:
    """Place ``rows`` (one run's nodes) as a left-to-right tree under the task."""
    order = [m for m in run.models.split(",") if m]
    for row in rows:
        if row.model not in order:
            order.append(row.model)
    model_class = {model: f"model-{i % MODEL_CLASSES}" for i, model in enumerate(order)}
    by_id = {row.id: row for row in rows}
    children: dict[str | None, list[SolveNode]] = {}
    for row in rows:
        parent = row.parent_id if row.parent_id in by_id else None
        children.setdefault(parent, []).append(row)
    for siblings in children.values():
        siblings.sort(key=lambda r: (order.index(r.model), r.seq))
    rows_used = 0
    placed: dict[str, tuple[float, float]] = {}

    def place(row: SolveNode, depth: int) -> float:
        nonlocal rows_used
        kids = children.get(row.id, [])
        if kids:
            ys = [place(kid, depth + 1) for kid in kids]
            y = ys[0]
        else:
            y = MARGIN_PX + ROW_PX * (rows_used + 0.5)
            rows_used += 1
        placed[row.id] = (MARGIN_PX + COLUMN_PX * (depth + 0.5), y)
        return y

    tops = [place(row, 1) for row in children.get(None, [])]
    root = (MARGIN_PX + COLUMN_PX * 0.5, tops[0] if tops else MARGIN_PX + ROW_PX / 2)
    best = _best_path(run, by_id)
    nodes: list[SolveNodeView] = []
    for row in rows:
        x, y = placed.get(row.id, root)
        parent = by_id.get(row.parent_id) if row.parent_id else None
        px, py = placed[parent.id] if parent is not None and parent.id in placed else root
        nodes.append(
            SolveNodeView(
                id=row.id,
                seq=row.seq,
                parent_seq=parent.seq if parent is not None else None,
                model=row.model,
                model_class=model_class[row.model],
                action=row.action,
                depth=row.depth,
                score=row.score,
                score_class=_score_class(row),
                status=row.status,
                cost_usd=row.cost_usd,
                latency_ms=row.latency_ms,
                feedback=_short(row.feedback),
                best=row.id in best,
                x=x,
                y=y,
                parent_x=px,
                parent_y=py,
            )
        )
    depth = max((row.depth for row in rows), default=0)
    return SolveRunView(
        run=run,
        nodes=nodes,
        models=[_summary(model, model_class[model], rows) for model in order],
        width=2 * MARGIN_PX + COLUMN_PX * (depth + 1),
        height=2 * MARGIN_PX + ROW_PX * max(1, rows_used),
        root_x=root[0],
        root_y=root[1],
    )


def _summary(model: str, css: str, rows: list[SolveNode]) -> ModelSummary:
    scores = [row.score for row in rows if row.model == model and row.score is not None]
    count = sum(1 for row in rows if row.model == model)
    mean = sum(scores) / len(scores) if scores else None
    best = max(scores, default=None)
    return ModelSummary(model=model, model_class=css, nodes=count, best_score=best, mean_score=mean)
