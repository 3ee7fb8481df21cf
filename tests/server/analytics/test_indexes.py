from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, inspect
from sqlmodel import SQLModel

from server.store.database import _alembic_config, make_engine, migrate

# (table, index, columns) of migration 0002, then of migration 0003.
INDEXES_0002 = [
    ("tool_call", "ix_tool_call_started_at_tool_name", ["started_at", "tool_name", "status", "duration_ms"]),
    ("model_usage", "ix_model_usage_session_id_agent_id", ["session_id", "agent_id", "model", "output_tokens"]),
]
INDEXES_0003 = [
    (
        "tool_call",
        "ix_tool_call_tool_name_duration_ms",
        ["tool_name", "duration_ms", "started_at", "status", "session_id"],
    ),
    (
        "model_usage",
        "ix_model_usage_session_id_model",
        [
            "session_id",
            "model",
            "input_tokens",
            "output_tokens",
            "cache_read_tokens",
            "cache_creation_tokens",
            "cost_usd",
        ],
    ),
]


def _named_indexes(store: Engine, table: str) -> dict[str, list[str | None]]:
    # PostgreSQL also lists the indexes behind unique constraints; compare the named ``ix_`` ones.
    indexes = inspect(store).get_indexes(table)
    return {str(i["name"]): i["column_names"] for i in indexes if str(i["name"]).startswith("ix_")}


def test_the_analytics_migrations_create_the_indexes_the_models_declare(engine: Engine) -> None:
    for table, name, columns in INDEXES_0002 + INDEXES_0003:
        in_db = _named_indexes(engine, table)
        assert in_db[name] == columns
        declared = {str(i.name): [c.name for c in i.columns] for i in SQLModel.metadata.tables[table].indexes}
        assert declared[name] == columns
        assert set(in_db) == set(declared), table


def test_downgrading_the_analytics_migrations_drops_only_their_indexes(database_url: str) -> None:
    store = make_engine(database_url)
    try:
        migrate(store)
        command.downgrade(_alembic_config(store), "0002")
        for table, name, _ in INDEXES_0003:
            assert name not in _named_indexes(store, table)
        for table, name, columns in INDEXES_0002:
            assert _named_indexes(store, table)[name] == columns
        command.downgrade(_alembic_config(store), "0001")
        for table, name, _ in INDEXES_0002:
            names = set(_named_indexes(store, table))
            assert name not in names
            assert f"ix_{table}_session_id" in names
    finally:
        store.dispose()


def test_model_usage_keeps_only_the_indexes_its_queries_use_and_a_downgrade_gives_the_others_back(
    database_url: str,
) -> None:
    store = make_engine(database_url)
    try:
        migrate(store)
        assert set(_named_indexes(store, "model_usage")) == {
            "ix_model_usage_session_id_agent_id",
            "ix_model_usage_session_id_model",
        }
        command.downgrade(_alembic_config(store), "0017")
        assert {
            name: columns
            for name, columns in _named_indexes(store, "model_usage").items()
            if not name.startswith("ix_model_usage_session_id")
        } == {
            "ix_model_usage_agent_id": ["agent_id"],
            "ix_model_usage_created_at": ["created_at"],
            "ix_model_usage_model": ["model"],
        }
        migrate(store)
        assert len(_named_indexes(store, "model_usage")) == 2
    finally:
        store.dispose()
