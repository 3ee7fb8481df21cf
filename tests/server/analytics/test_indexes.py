from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, inspect
from sqlmodel import SQLModel

from server.store.engine import _alembic_config, make_engine, migrate

ANALYTICS_INDEXES = {
    "tool_call": ("ix_tool_call_started_at_tool_name", ["started_at", "tool_name", "status", "duration_ms"]),
    "model_usage": ("ix_model_usage_session_id_agent_id", ["session_id", "agent_id", "model", "output_tokens"]),
}


def test_the_analytics_migration_creates_the_indexes_the_models_declare(engine: Engine) -> None:
    inspector = inspect(engine)
    for table, (name, columns) in ANALYTICS_INDEXES.items():
        # PostgreSQL also lists the indexes behind unique constraints; compare the named ``ix_`` ones.
        in_db = {i["name"]: i["column_names"] for i in inspector.get_indexes(table) if str(i["name"]).startswith("ix_")}
        assert in_db[name] == columns
        declared = {i.name: [c.name for c in i.columns] for i in SQLModel.metadata.tables[table].indexes}
        assert declared[name] == columns
        assert set(in_db) == set(declared), table


def test_downgrading_the_analytics_migration_drops_only_its_indexes(database_url: str) -> None:
    store = make_engine(database_url)
    try:
        migrate(store)
        command.downgrade(_alembic_config(store), "0001")
        inspector = inspect(store)
        for table, (name, _) in ANALYTICS_INDEXES.items():
            names = {i["name"] for i in inspector.get_indexes(table)}
            assert name not in names
            assert f"ix_{table}_session_id" in names
    finally:
        store.dispose()
