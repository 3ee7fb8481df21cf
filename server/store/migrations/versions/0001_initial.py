"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-21 07:13:31.963427
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "consensus_run",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("session_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("strategy", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("agreement", sa.Float(), nullable=True),
        sa.Column("final_output_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("total_cost_usd", sa.Float(), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("consensus_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consensus_run_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_consensus_run_session_id"), ["session_id"], unique=False)

    op.create_table(
        "delegation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("request_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("provider", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("model", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("task_type", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("cached_tokens", sa.Integer(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=True),
        sa.Column("priced", sa.Boolean(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("cache_hit", sa.Boolean(), nullable=False),
        sa.Column("thread_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("consensus_run_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("output_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("delegation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_delegation_consensus_run_id"), ["consensus_run_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_delegation_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_delegation_model"), ["model"], unique=False)
        batch_op.create_index(batch_op.f("ix_delegation_provider"), ["provider"], unique=False)
        batch_op.create_index(batch_op.f("ix_delegation_request_id"), ["request_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_delegation_session_id"), ["session_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_delegation_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_delegation_task_type"), ["task_type"], unique=False)
        batch_op.create_index(batch_op.f("ix_delegation_thread_id"), ["thread_id"], unique=False)

    op.create_table(
        "model_usage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("agent_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("model", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("message_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("request_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("cache_read_tokens", sa.Integer(), nullable=False),
        sa.Column("cache_creation_tokens", sa.Integer(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id", "request_id", name="uq_model_usage_message_request"),
    )
    with op.batch_alter_table("model_usage", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_model_usage_agent_id"), ["agent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_model_usage_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_model_usage_model"), ["model"], unique=False)
        batch_op.create_index(batch_op.f("ix_model_usage_session_id"), ["session_id"], unique=False)

    op.create_table(
        "prompt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("session_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    with op.batch_alter_table("prompt", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_prompt_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_prompt_session_id"), ["session_id"], unique=False)

    op.create_table(
        "provider_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("provider", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("event", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("error_class", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("provider_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_provider_event_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_provider_event_provider"), ["provider"], unique=False)

    op.create_table(
        "raw_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("session_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("event_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("received_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("ingested_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    with op.batch_alter_table("raw_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_raw_event_event_name"), ["event_name"], unique=False)
        batch_op.create_index(batch_op.f("ix_raw_event_received_at"), ["received_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_raw_event_session_id"), ["session_id"], unique=False)

    op.create_table(
        "session",
        sa.Column("session_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("ended_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("last_event_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("cwd", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("project", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("models", sa.JSON(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.Column("end_reason", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("transcript_path", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("cost_usd", sa.Float(), nullable=True),
        sa.Column("cost_source", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.Column("context_tokens", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("session_id"),
    )
    with op.batch_alter_table("session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_session_project"), ["project"], unique=False)
        batch_op.create_index(batch_op.f("ix_session_started_at"), ["started_at"], unique=False)

    op.create_table(
        "stored_output",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("session_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("stored_output", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stored_output_session_id"), ["session_id"], unique=False)

    op.create_table(
        "subagent_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("agent_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("agent_type", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("parent_agent_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("stopped_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=True),
        sa.Column("transcript_path", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("cache_read_tokens", sa.Integer(), nullable=False),
        sa.Column("cache_creation_tokens", sa.Integer(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=True),
        sa.Column("unpriced_models", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("agent_id"),
    )
    with op.batch_alter_table("subagent_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subagent_run_agent_type"), ["agent_type"], unique=False)
        batch_op.create_index(batch_op.f("ix_subagent_run_session_id"), ["session_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_subagent_run_started_at"), ["started_at"], unique=False)

    op.create_table(
        "thread",
        sa.Column("thread_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("session_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("thread_id"),
    )
    with op.batch_alter_table("thread", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_thread_session_id"), ["session_id"], unique=False)

    op.create_table(
        "thread_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("session_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("model", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("thread_message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_thread_message_thread_id"), ["thread_id"], unique=False)

    op.create_table(
        "tool_call",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("tool_use_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("tool_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("agent_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("ended_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=True),
        sa.Column("input_summary", sa.Text(), nullable=True),
        sa.Column("response_summary", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tool_use_id"),
    )
    with op.batch_alter_table("tool_call", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tool_call_agent_id"), ["agent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_tool_call_session_id"), ["session_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_tool_call_started_at"), ["started_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_tool_call_tool_name"), ["tool_name"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("tool_call", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tool_call_tool_name"))
        batch_op.drop_index(batch_op.f("ix_tool_call_started_at"))
        batch_op.drop_index(batch_op.f("ix_tool_call_session_id"))
        batch_op.drop_index(batch_op.f("ix_tool_call_agent_id"))

    op.drop_table("tool_call")
    with op.batch_alter_table("thread_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_thread_message_thread_id"))

    op.drop_table("thread_message")
    with op.batch_alter_table("thread", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_thread_session_id"))

    op.drop_table("thread")
    with op.batch_alter_table("subagent_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subagent_run_started_at"))
        batch_op.drop_index(batch_op.f("ix_subagent_run_session_id"))
        batch_op.drop_index(batch_op.f("ix_subagent_run_agent_type"))

    op.drop_table("subagent_run")
    with op.batch_alter_table("stored_output", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stored_output_session_id"))

    op.drop_table("stored_output")
    with op.batch_alter_table("session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_session_started_at"))
        batch_op.drop_index(batch_op.f("ix_session_project"))

    op.drop_table("session")
    with op.batch_alter_table("raw_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_raw_event_session_id"))
        batch_op.drop_index(batch_op.f("ix_raw_event_received_at"))
        batch_op.drop_index(batch_op.f("ix_raw_event_event_name"))

    op.drop_table("raw_event")
    with op.batch_alter_table("provider_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_provider_event_provider"))
        batch_op.drop_index(batch_op.f("ix_provider_event_created_at"))

    op.drop_table("provider_event")
    with op.batch_alter_table("prompt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_prompt_session_id"))
        batch_op.drop_index(batch_op.f("ix_prompt_created_at"))

    op.drop_table("prompt")
    with op.batch_alter_table("model_usage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_model_usage_session_id"))
        batch_op.drop_index(batch_op.f("ix_model_usage_model"))
        batch_op.drop_index(batch_op.f("ix_model_usage_created_at"))
        batch_op.drop_index(batch_op.f("ix_model_usage_agent_id"))

    op.drop_table("model_usage")
    with op.batch_alter_table("delegation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delegation_thread_id"))
        batch_op.drop_index(batch_op.f("ix_delegation_task_type"))
        batch_op.drop_index(batch_op.f("ix_delegation_status"))
        batch_op.drop_index(batch_op.f("ix_delegation_session_id"))
        batch_op.drop_index(batch_op.f("ix_delegation_request_id"))
        batch_op.drop_index(batch_op.f("ix_delegation_provider"))
        batch_op.drop_index(batch_op.f("ix_delegation_model"))
        batch_op.drop_index(batch_op.f("ix_delegation_created_at"))
        batch_op.drop_index(batch_op.f("ix_delegation_consensus_run_id"))

    op.drop_table("delegation")
    with op.batch_alter_table("consensus_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consensus_run_session_id"))
        batch_op.drop_index(batch_op.f("ix_consensus_run_created_at"))

    op.drop_table("consensus_run")
