"""learned routing: routing_stat totals, feedback, delegation quality and learned_over

- routing_stat: running totals per (task type, model) that the learning router reads in one small select;
  back-filled here from the delegation rows already stored (delegate's own attempts: not cache hits, open
  circuits, cancellations, nor consensus calls), so what was recorded before is not forgotten.
- feedback: whether a delegated answer was good (MCP ``feedback`` tool, the dashboard's good/bad control).
- delegation.quality: a consensus member's quality signal; delegation.learned_over: the model the written order
  would have tried first when learning put another first.

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-29 05:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The rule of its time (server.outcomes is today's; `switchboard relearn` applies it to history).
_BACKFILL = """
INSERT INTO routing_stat (task_type, model, calls, successes, latency_ms_sum, latency_n, cost_usd_sum, cost_n,
                          quality_sum, quality_n, last_at)
SELECT task_type, provider || ':' || model, COUNT(*),
       SUM(CASE WHEN status = 'ok' THEN 1 ELSE 0 END),
       COALESCE(SUM(CASE WHEN status = 'ok' AND latency_ms IS NOT NULL THEN latency_ms END), 0),
       SUM(CASE WHEN status = 'ok' AND latency_ms IS NOT NULL THEN 1 ELSE 0 END),
       COALESCE(SUM(CASE WHEN status = 'ok' AND cost_usd IS NOT NULL THEN cost_usd END), 0),
       SUM(CASE WHEN status = 'ok' AND cost_usd IS NOT NULL THEN 1 ELSE 0 END),
       0, 0, MAX(created_at)
FROM delegation
WHERE task_type IS NOT NULL AND consensus_run_id IS NULL AND NOT cache_hit
  AND status NOT IN ('circuit_open', 'cancelled')
GROUP BY task_type, provider, model
"""


def upgrade() -> None:
    op.create_table(
        "routing_stat",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_type", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("model", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
        sa.Column("session_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("successes", sa.Integer(), nullable=False),
        sa.Column("latency_ms_sum", sa.Float(), nullable=False),
        sa.Column("latency_n", sa.Integer(), nullable=False),
        sa.Column("cost_usd_sum", sa.Float(), nullable=False),
        sa.Column("cost_n", sa.Integer(), nullable=False),
        sa.Column("quality_sum", sa.Float(), nullable=False),
        sa.Column("quality_n", sa.Integer(), nullable=False),
        sa.Column("last_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("task_type", "model", name="uq_routing_stat_task_type_model"),
    )
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("session_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("task_type", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("model", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
        sa.Column("good", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_id"),
    )
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feedback_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_feedback_session_id"), ["session_id"], unique=False)
    with op.batch_alter_table("delegation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quality", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("learned_over", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=True))
    op.execute(_BACKFILL)


def downgrade() -> None:
    with op.batch_alter_table("delegation", schema=None) as batch_op:
        batch_op.drop_column("learned_over")
        batch_op.drop_column("quality")
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_session_id"))
        batch_op.drop_index(batch_op.f("ix_feedback_created_at"))
    op.drop_table("feedback")
    op.drop_table("routing_stat")
