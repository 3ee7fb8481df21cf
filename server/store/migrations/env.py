"""Alembic environment: runs against the engine handed over by ``server.store.database.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine, text
from sqlmodel import SQLModel

import server.store.models  # noqa: F401  # pyright: ignore[reportUnusedImport]  (registers the tables)

target_metadata = SQLModel.metadata
_PG_LOCK_KEY = 0x5377_6272  # "Swbr": switchboard's migration lock


def run_migrations_online() -> None:
    engine: Engine = context.config.attributes["engine"]
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Processes migrating at once take turns; the lock ends with this transaction, after the version is
            # written, so the next one finds the schema current. (SQLite: a file lock in server.store.database.)
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        context.run_migrations()


run_migrations_online()
