"""Claude Code's own telemetry: api_request (one row per API request) and tool_decision (joins tool_call)

Revision ID: 0005
Revises: 0006
Create Date: 2026-11-29 05:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "api_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", _text(200), nullable=False),
        sa.Column("prompt_id", _text(200), nullable=True),
        sa.Column("request_id", _text(200), nullable=True),
        sa.Column("event_sequence", sa.Integer(), nullable=True),
        sa.Column("model", _text(200), nullable=True),
        sa.Column("cost_usd", sa.Float(), nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=True),
        sa.Column("ttft_ms", sa.Float(), nullable=True),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("cache_read_tokens", sa.Integer(), nullable=False),
        sa.Column("cache_creation_tokens", sa.Integer(), nullable=False),
        sa.Column("query_source", _text(200), nullable=True),
        sa.Column("agent_id", _text(200), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("session_id", "event_sequence", name="uq_api_request_session_sequence"),
    )
    with op.batch_alter_table("api_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_request_session_id"), ["session_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_api_request_prompt_id"), ["prompt_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_api_request_agent_id"), ["agent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_api_request_created_at"), ["created_at"], unique=False)

    op.create_table(
        "tool_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", _text(200), nullable=False),
        sa.Column("tool_use_id", _text(200), nullable=False),
        sa.Column("tool_name", _text(200), nullable=True),
        sa.Column("decision", _text(20), nullable=True),
        sa.Column("source", _text(100), nullable=True),
        sa.Column("success", sa.Boolean(), nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("tool_decision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tool_decision_session_id"), ["session_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_tool_decision_tool_use_id"), ["tool_use_id"], unique=True)
        batch_op.create_index(batch_op.f("ix_tool_decision_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_table("tool_decision")
    op.drop_table("api_request")
