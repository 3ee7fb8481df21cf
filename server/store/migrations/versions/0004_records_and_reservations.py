"""records and budget reservations

- record_batch: the id of every batch the recorder wrote, so a batch that waited in the spool
  (``spool/records/``) lands exactly once however many processes replay it.
- budget_reservation: the worst-case cost of calls in flight, seen by every process that checks a budget.
- consensus_run.cost_known_usd: the known part of a run's cost (total_cost_usd is NULL when a call is unpriced).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 05:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "record_batch",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("session_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("written_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("record_batch", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_record_batch_written_at"), ["written_at"], unique=False)
    op.create_table(
        "budget_reservation",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("session_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("model", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("amount_usd", sa.Float(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("budget_reservation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_budget_reservation_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_budget_reservation_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_budget_reservation_session_id"), ["session_id"], unique=False)
    with op.batch_alter_table("consensus_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cost_known_usd", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("consensus_run", schema=None) as batch_op:
        batch_op.drop_column("cost_known_usd")
    op.drop_table("budget_reservation")
    op.drop_table("record_batch")
