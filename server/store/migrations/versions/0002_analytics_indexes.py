"""analytics indexes

Covering indexes for the analytics queries (bench/bench_analytics.py measures them):
- tool_call (started_at, tool_name, status, duration_ms): tool stats over a time window read the index
  alone, in time order (7 days of a 1,000,000-event store: ~500 ms -> under 100 ms).
- model_usage (session_id, agent_id, model, output_tokens): each delegating session's main Claude model
  for savings, without touching the table.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 07:40:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_tool_call_started_at_tool_name",
        "tool_call",
        ["started_at", "tool_name", "status", "duration_ms"],
        unique=False,
    )
    op.create_index(
        "ix_model_usage_session_id_agent_id",
        "model_usage",
        ["session_id", "agent_id", "model", "output_tokens"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_model_usage_session_id_agent_id", table_name="model_usage")
    op.drop_index("ix_tool_call_started_at_tool_name", table_name="tool_call")
