"""SQLite: times the fast inserts wrote through sqlite3's own adapter take SQLAlchemy's text

From 0012 on, model_usage rows (and raw_event rows, later) went to SQLite's executemany with their times
bound by the generic type, which left an aware datetime to sqlite3's default adapter: '2026-12-06 04:14:40+00:00'
or '2026-12-06 04:14:40.123456+00:00', where every other row holds '2026-12-06 04:14:40.000000'. They read back
as the same moment, but sort and compare as text unlike the rest (within a second, '+' sorts before '.'). The
times were UTC before they were written, so the offset is always '+00:00': it is dropped and the microseconds
filled in. PostgreSQL stored timestamps, not text: nothing to do there.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 14:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (("model_usage", "created_at"), ("raw_event", "received_at"), ("raw_event", "ingested_at"))


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, column in _COLUMNS:
        op.execute(
            sa.text(
                f"UPDATE {table} SET {column} = CASE length({column})"
                f" WHEN 25 THEN substr({column}, 1, 19) || '.000000'"
                f" WHEN 32 THEN substr({column}, 1, 26) END"
                f" WHERE {column} LIKE '%+00:00' AND length({column}) IN (25, 32)"
            )
        )


def downgrade() -> None:
    """Nothing to undo: the text is what SQLAlchemy writes and reads."""
