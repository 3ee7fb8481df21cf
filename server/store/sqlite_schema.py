"""A new SQLite store made from a snapshot of the newest schema instead of by running every migration.

Creating a store with Alembic cost 0.24 s of a 2.0 s first import of 40 sessions: 0.12 s importing Alembic and
0.13 s running 18 migrations. ``migrations/sqlite_head.sql`` is what those migrations leave in a new SQLite file
(``sqlite3``'s own dump: the tables with their columns in the migrated order, the indexes, the rows the migrations
write, and the revision), so executing it gives that same file. Only an empty file at the newest revision is made
this way; any store with something in it is migrated by Alembic. ``tests/server/store/test_sqlite_schema.py``
fails when a migration changes the schema and the snapshot was not written again:

    .venv/bin/python -m server.store.sqlite_schema
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

from server.store.schema_head import MIGRATIONS, head_revision

__all__ = ["SNAPSHOT", "create_if_empty", "dump_migrated", "snapshot_revision"]

SNAPSHOT = MIGRATIONS / "sqlite_head.sql"


def snapshot_revision(script: str) -> str | None:
    """The revision a snapshot's ``alembic_version`` row names."""
    prefix = 'INSERT INTO "alembic_version" VALUES(\''
    for line in script.splitlines():
        if line.startswith(prefix) and line.endswith("');"):
            return line.removeprefix(prefix).removesuffix("');")
    return None


def create_if_empty(connection: sqlite3.Connection) -> bool:
    """Make the newest schema in an empty SQLite database from the snapshot; False (nothing done) when the
    database has anything in it, or the snapshot is not of the newest revision."""
    script, head = SNAPSHOT.read_text(encoding="utf-8"), head_revision()
    if head is None or snapshot_revision(script) != head:
        return False
    if connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
        return False
    connection.executescript(script)  # one transaction: the dump's BEGIN ... COMMIT
    return True


def dump_migrated() -> str:
    """The dump of a new SQLite file migrated to the newest revision by Alembic."""
    from server.store.database import make_engine, migrate_with_alembic

    with tempfile.TemporaryDirectory(prefix="switchboard-schema-") as folder:
        path = Path(folder) / "store.db"
        engine = make_engine(f"sqlite:///{path}")
        try:
            migrate_with_alembic(engine)
        finally:
            engine.dispose()
        with sqlite3.connect(path) as connection:
            return "\n".join(connection.iterdump()) + "\n"


if __name__ == "__main__":
    SNAPSHOT.write_text(dump_migrated(), encoding="utf-8")
    print(f"wrote {SNAPSHOT}")
