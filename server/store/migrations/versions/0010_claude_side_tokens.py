"""the tokens a delegate call cost Claude, for net savings

- delegation.claude_ask_tokens: the tool_use input Claude wrote (on the answering attempt).
- delegation.claude_read_tokens: the tool_result Claude read.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("delegation") as batch:
        batch.add_column(sa.Column("claude_ask_tokens", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("claude_read_tokens", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("delegation") as batch:
        batch.drop_column("claude_read_tokens")
        batch.drop_column("claude_ask_tokens")
