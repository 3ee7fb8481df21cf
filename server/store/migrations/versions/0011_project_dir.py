"""the project a stored output, a thread's message and a feedback came from

- stored_output.project_dir, thread_message.project_dir: ``get_output`` and ``thread_id`` answer only in the
  session or the project that made them.
- feedback.project_dir: feedback given through MCP moves learned routing in its own project only (NULL: the
  dashboard's, or from before this revision, which counts everywhere).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("stored_output", "thread_message", "feedback")


def upgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("project_dir", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True))


def downgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("project_dir")
