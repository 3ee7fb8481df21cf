"""transcript read marks, 1-hour cache writes and service tier on usage

- transcript_mark: per transcript its identity (device, inode), size, mtime and the offset read so far, so a
  second import or ingest reads only what is new; plus the usage lines it refused, by reason.
- model_usage.cache_creation_1h_tokens: the 1-hour part of the cache writes (2x input, not 1.25x).
- model_usage.service_tier: the response's service tier.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STR = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "transcript_mark",
        sa.Column("path", _STR(length=1000), nullable=False),
        sa.Column("session_id", _STR(length=200), nullable=True),
        sa.Column("device", sa.BigInteger(), nullable=False),
        sa.Column("inode", sa.BigInteger(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("mtime_ns", sa.BigInteger(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("skipped", sa.JSON(), nullable=False),
        sa.Column("read_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("path"),
    )
    with op.batch_alter_table("transcript_mark", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_transcript_mark_session_id"), ["session_id"], unique=False)
    with op.batch_alter_table("model_usage", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("cache_creation_1h_tokens", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch_op.add_column(sa.Column("service_tier", _STR(length=50), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("model_usage", schema=None) as batch_op:
        batch_op.drop_column("service_tier")
        batch_op.drop_column("cache_creation_1h_tokens")
    with op.batch_alter_table("transcript_mark", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transcript_mark_session_id"))
    op.drop_table("transcript_mark")
