"""The one place that creates database engines and brings the schema up to date."""

from __future__ import annotations

import fcntl
import logging
import sqlite3
from collections.abc import Generator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import create_engine

from server.private import private_dirs, private_file, tighten
from server.settings import Settings
from server.store.schema_head import MIGRATIONS, head_revision

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = ["BUSY_TIMEOUT_MS", "SchemaTooNew", "make_engine", "migrate", "migrate_with_alembic", "open_store"]

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5_000


def _stamp_new_rows(session: OrmSession, _context: Any, _instances: Any) -> None:
    """Every new row with ``user`` / ``host`` columns records who wrote it and where (a team on one store)."""
    from server.team import stamp

    for row in session.new:
        stamp(row)


event.listen(OrmSession, "before_flush", _stamp_new_rows)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get WAL mode and a busy timeout, and are created private (0700/0600)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
        _private_sqlite_files(Path(parsed.database))
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _private_sqlite_files(database: Path) -> None:
    # Created 0600 before SQLite opens it: SQLite gives -wal, -shm and -journal the database file's mode.
    private_dirs(database.parent)
    private_file(database)
    for suffix in ("-wal", "-shm", "-journal"):
        tighten(database.with_name(database.name + suffix))  # left 0644 by an earlier version


def _alembic_config(engine: Engine) -> Config:
    # Imported here: alembic costs ~0.3 s, which `switchboard serve` must not pay before answering initialize.
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


@contextmanager
def _sqlite_migration_lock(engine: Engine) -> Generator[None]:
    """One process at a time migrates a SQLite file (PostgreSQL takes an advisory lock in ``env.py``).

    Without it, two processes opening a new store at once (the MCP server and the SessionEnd ingest) both
    see no schema and both create the tables: the second fails with "table ... already exists".
    """
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    lock_path = private_file(Path(database).with_name(f"{Path(database).name}.migrate-lock"))
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class SchemaTooNew(SQLAlchemyError):
    """The store was migrated by a newer switchboard (another machine on a shared PostgreSQL upgraded first)."""

    def __init__(self, current: str, known: str | None) -> None:
        super().__init__(
            f"the store's schema is newer than this switchboard: upgrade (the store is at migration {current}, "
            f"this switchboard knows up to {known})"
        )


def _refuse_newer_schema(engine: Engine, config: Config) -> None:
    """Raise :class:`SchemaTooNew` when the store is at a revision this code has no migration for.

    Alembic would fail with "Can't locate revision"; reading or writing a newer schema could give wrong numbers.
    """
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from alembic.script.revision import ResolutionError
    from alembic.util import CommandError

    script = ScriptDirectory.from_config(config)
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_heads()
    for revision in current:
        try:
            script.get_revision(revision)
        except (ResolutionError, CommandError):
            raise SchemaTooNew(revision, script.get_current_head()) from None


def _at_head(engine: Engine) -> bool:
    """Whether the store is at the newest revision already (checked without importing Alembic: ~1 s per command)."""
    head = head_revision()
    if head is None:
        return False
    try:
        with engine.connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except DBAPIError:
        return False  # no such table yet: a new store
    return versions == [head]


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema of ``engine``'s database to ``revision`` with Alembic; safe to run from many processes.

    Raises:
        SchemaTooNew: a newer switchboard migrated this store; this one must be upgraded to use it.
    """
    if revision == "head" and _at_head(engine):
        return
    if revision == "head" and _created_from_snapshot(engine):
        return
    migrate_with_alembic(engine, revision)


def _created_from_snapshot(engine: Engine) -> bool:
    """Whether an empty SQLite file was given the newest schema from its snapshot (server/store/sqlite_schema.py)."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return False
    from server.store.sqlite_schema import create_if_empty

    with _sqlite_migration_lock(engine), engine.connect() as connection:
        driver = connection.connection.driver_connection
        if not isinstance(driver, sqlite3.Connection):
            return False
        connection.commit()  # the driver's own transaction handling from here: the script has BEGIN ... COMMIT
        return create_if_empty(driver)


def migrate_with_alembic(engine: Engine, revision: str = "head") -> None:
    """Upgrade ``engine``'s database to ``revision`` by running Alembic's migrations.

    Raises:
        SchemaTooNew: a newer switchboard migrated this store; this one must be upgraded to use it.
    """
    from alembic import command

    config = _alembic_config(engine)
    with _sqlite_migration_lock(engine):
        _refuse_newer_schema(engine, config)
        command.upgrade(config, revision)


def open_store(settings: Settings | None = None) -> Engine:
    """The engine of the configured store, with its schema migrated to the newest revision."""
    settings = settings or Settings()
    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    return engine
