"""telemetry rows stay in their own session; non-finite and negative costs are no cost of record

- api_request.fingerprint: sha256 of everything a record says; unique per session in place of
  (session_id, event_sequence), so a record that only reuses a sequence cannot drop the real one.
- tool_decision: unique per (session_id, tool_use_id) in place of tool_use_id alone.
- Costs stored before values were checked: an api_request cost that is negative, non-finite or above $1,000, and a
  session cost that is negative or non-finite, become NULL (unknown).

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-05 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0014"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STR = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table("api_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fingerprint", _STR(length=64), nullable=True))
        batch_op.drop_constraint("uq_api_request_session_sequence", type_="unique")
        batch_op.create_unique_constraint("uq_api_request_session_fingerprint", ["session_id", "fingerprint"])
    with op.batch_alter_table("tool_decision", schema=None) as batch_op:
        batch_op.drop_index("ix_tool_decision_tool_use_id")
        batch_op.create_index("ix_tool_decision_tool_use_id", ["tool_use_id"], unique=False)
        batch_op.create_unique_constraint("uq_tool_decision_session_tool_use", ["session_id", "tool_use_id"])
    # Infinity compares above every number (the largest double included) in SQLite and PostgreSQL, and so does
    # PostgreSQL's NaN (SQLite stores none).
    op.execute("UPDATE api_request SET cost_usd = NULL WHERE cost_usd < 0 OR cost_usd > 1000")
    op.execute('UPDATE "session" SET cost_usd = NULL WHERE cost_usd < 0 OR cost_usd > 1.7976931348623157e308')


def downgrade() -> None:
    with op.batch_alter_table("tool_decision", schema=None) as batch_op:
        batch_op.drop_constraint("uq_tool_decision_session_tool_use", type_="unique")
        batch_op.drop_index("ix_tool_decision_tool_use_id")
        batch_op.create_index("ix_tool_decision_tool_use_id", ["tool_use_id"], unique=True)
    with op.batch_alter_table("api_request", schema=None) as batch_op:
        batch_op.drop_constraint("uq_api_request_session_fingerprint", type_="unique")
        batch_op.create_unique_constraint("uq_api_request_session_sequence", ["session_id", "event_sequence"])
        batch_op.drop_column("fingerprint")
