"""other agents' sessions, and who ran what on a shared store

- session.agent: claude-code (every existing row), codex or gemini.
- user and host on session, delegation, solve_run, api_request and tool_decision: a team on one PostgreSQL.
- agent_log: each Codex / Gemini CLI log file as import last read it, with the lines it did not understand.
- routing_stat.user: '' for the whole store's totals (every existing row), a name for one person's.

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-05 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STR = sqlmodel.sql.sqltypes.AutoString
_WHO = ("session", "delegation", "solve_run", "api_request", "tool_decision")


def upgrade() -> None:
    with op.batch_alter_table("session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("agent", _STR(length=50), server_default="claude-code", nullable=False))
        batch_op.create_index(batch_op.f("ix_session_agent"), ["agent"], unique=False)
    for table in _WHO:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("user", _STR(length=200), nullable=True))
            batch_op.add_column(sa.Column("host", _STR(length=200), nullable=True))
            batch_op.create_index(batch_op.f(f"ix_{table}_user"), ["user"], unique=False)
    with op.batch_alter_table("routing_stat", schema=None) as batch_op:
        batch_op.add_column(sa.Column("user", _STR(length=200), server_default="", nullable=False))
        batch_op.drop_constraint("uq_routing_stat_task_type_model", type_="unique")
        batch_op.create_unique_constraint("uq_routing_stat_task_type_model_user", ["task_type", "model", "user"])
    op.create_table(
        "agent_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("path", _STR(length=1000), nullable=False),
        sa.Column("agent", _STR(length=50), nullable=False),
        sa.Column("session_id", _STR(length=200), nullable=True),
        sa.Column("cli_version", _STR(length=50), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("mtime_ns", sa.BigInteger(), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("skip_reasons", sa.JSON(), nullable=False),
        sa.Column("read_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("path"),
    )
    with op.batch_alter_table("agent_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agent_log_agent"), ["agent"], unique=False)
        batch_op.create_index(batch_op.f("ix_agent_log_session_id"), ["session_id"], unique=False)


def downgrade() -> None:
    op.drop_table("agent_log")
    op.execute("DELETE FROM routing_stat WHERE \"user\" <> ''")
    with op.batch_alter_table("routing_stat", schema=None) as batch_op:
        batch_op.drop_constraint("uq_routing_stat_task_type_model_user", type_="unique")
        batch_op.create_unique_constraint("uq_routing_stat_task_type_model", ["task_type", "model"])
        batch_op.drop_column("user")
    for table in reversed(_WHO):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_user"))
            batch_op.drop_column("host")
            batch_op.drop_column("user")
    with op.batch_alter_table("session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_session_agent"))
        batch_op.drop_column("agent")
