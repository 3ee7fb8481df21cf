"""model_usage: drop the indexes on model, agent_id and created_at, which no query uses

Every query of model_usage filters on session_id (the two composite indexes that start with it serve them) or
looks up message ids (the unique constraint's index). The three single-column indexes were only paid for: 307,255
usage rows took 2.92 s to insert with them and 2.38 s without (SQLite, same run), the largest share of an import.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 20:40:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DROPPED = ("agent_id", "created_at", "model")


def upgrade() -> None:
    for column in _DROPPED:
        op.drop_index(f"ix_model_usage_{column}", table_name="model_usage")


def downgrade() -> None:
    for column in _DROPPED:
        op.create_index(f"ix_model_usage_{column}", "model_usage", [column], unique=False)
