"""delegation.role: what a call was for, beside task_type (what kind of task)

- delegation.role: 'member', 'judge' or 'grouping' on a consensus call; 'solve' or 'solve_judge' on a solve
  call; NULL on a delegate attempt.
- Until now task_type held the role on those rows ('consensus', 'consensus_judge', 'consensus_grouping', 'solve',
  'solve_judge'): it moves to role, and task_type becomes NULL there (the question's task type is not in the row;
  new consensus rows carry it). A delegate attempt's task_type is unchanged.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 03:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (role, the task_type that stood for it, which rows)
_ROLES = (
    ("member", "consensus", "consensus_run_id IS NOT NULL"),
    ("judge", "consensus_judge", "consensus_run_id IS NOT NULL"),
    ("grouping", "consensus_grouping", "consensus_run_id IS NOT NULL"),
    ("solve", "solve", "solve_node_id IS NOT NULL"),
    ("solve_judge", "solve_judge", "solve_node_id IS NOT NULL"),
)


def upgrade() -> None:
    with op.batch_alter_table("delegation") as batch:
        batch.add_column(sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))
        batch.create_index("ix_delegation_role", ["role"], unique=False)
    for role, task_type, rows in _ROLES:
        op.execute(
            sa.text(
                f"UPDATE delegation SET role = :role, task_type = NULL WHERE task_type = :task_type AND {rows}"
            ).bindparams(role=role, task_type=task_type)
        )


def downgrade() -> None:
    for role, task_type, _rows in _ROLES:
        op.execute(
            sa.text("UPDATE delegation SET task_type = :task_type WHERE role = :role").bindparams(
                role=role, task_type=task_type
            )
        )
    with op.batch_alter_table("delegation") as batch:
        batch.drop_index("ix_delegation_role")
        batch.drop_column("role")
