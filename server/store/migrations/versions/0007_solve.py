"""solve runs and their search trees

- solve_run: one ``solve`` call (an AB-MCTS search over several models).
- solve_node: one node of its tree (a fresh or a refined answer, its score and cost).
- delegation.solve_node_id: the node a call served (its answer or its judge).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 05:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STR = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "solve_run",
        sa.Column("id", _STR(length=64), nullable=False),
        sa.Column("session_id", _STR(length=200), nullable=True),
        sa.Column("task", sa.Text(), nullable=False),
        sa.Column("models", sa.Text(), nullable=False),
        sa.Column("check_name", _STR(length=200), nullable=True),
        sa.Column("judge_model", _STR(length=200), nullable=True),
        sa.Column("status", _STR(length=50), nullable=False),
        sa.Column("stop_reason", _STR(length=50), nullable=True),
        sa.Column("target_score", sa.Float(), nullable=False),
        sa.Column("best_score", sa.Float(), nullable=True),
        sa.Column("best_node_id", _STR(length=64), nullable=True),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("total_cost_usd", sa.Float(), nullable=True),
        sa.Column("cost_known_usd", sa.Float(), nullable=True),
        sa.Column("unpriced_calls", sa.Integer(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("solve_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_solve_run_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_solve_run_session_id"), ["session_id"], unique=False)

    op.create_table(
        "solve_node",
        sa.Column("id", _STR(length=64), nullable=False),
        sa.Column("run_id", _STR(length=64), nullable=False),
        sa.Column("session_id", _STR(length=200), nullable=True),
        sa.Column("parent_id", _STR(length=64), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("model", _STR(length=200), nullable=False),
        sa.Column("action", _STR(length=10), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("status", _STR(length=50), nullable=False),
        sa.Column("feedback", sa.Text(), nullable=True),
        sa.Column("cost_usd", sa.Float(), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("output_id", _STR(length=64), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("solve_node", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_solve_node_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_solve_node_run_id"), ["run_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_solve_node_session_id"), ["session_id"], unique=False)

    with op.batch_alter_table("delegation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("solve_node_id", _STR(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_delegation_solve_node_id"), ["solve_node_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("delegation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delegation_solve_node_id"))
        batch_op.drop_column("solve_node_id")
    op.drop_table("solve_node")
    op.drop_table("solve_run")
