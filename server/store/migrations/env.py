"""Alembic environment: runs against the engine handed over by ``server.store.engine.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine
from sqlmodel import SQLModel

import server.store.models  # noqa: F401  # pyright: ignore[reportUnusedImport]  (registers the tables)

target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    engine: Engine = context.config.attributes["engine"]
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        context.run_migrations()


run_migrations_online()
