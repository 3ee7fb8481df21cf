"""analytics indexes for long windows

Covering indexes that keep 30-day and all-time analytics under 100 ms on a 1,000,000-event store
(bench/bench_analytics.py measures them):
- tool_call (tool_name, duration_ms, started_at, status, session_id): a tool's duration percentiles are read
  by seeking to a rank in duration order (no million-row fetch), and all-time counts per tool walk the index
  in tool order without a sort; the window and session filters are checked on the index alone.
- model_usage (session_id, model, tokens, cost_usd): tokens by model of a window's sessions, summed per
  session and model from the index alone.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 08:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TOOL_CALL_COLUMNS = ["tool_name", "duration_ms", "started_at", "status", "session_id"]
MODEL_USAGE_COLUMNS = [
    "session_id",
    "model",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_creation_tokens",
    "cost_usd",
]


def upgrade() -> None:
    op.create_index("ix_tool_call_tool_name_duration_ms", "tool_call", TOOL_CALL_COLUMNS, unique=False)
    op.create_index("ix_model_usage_session_id_model", "model_usage", MODEL_USAGE_COLUMNS, unique=False)


def downgrade() -> None:
    op.drop_index("ix_model_usage_session_id_model", table_name="model_usage")
    op.drop_index("ix_tool_call_tool_name_duration_ms", table_name="tool_call")
