"""The store: SQLModel tables, the engine, migrations and ingest."""

from server.store.engine import make_engine, migrate, open_store

__all__ = ["make_engine", "migrate", "open_store"]
