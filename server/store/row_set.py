"""A table's rows as plain dicts, keyed by a unique column: loaded, changed and written back in two statements.

Ingest (:mod:`server.store.hook_rows`) and import (:mod:`server.store.importer`) touch thousands of session and
subagent rows a batch; ORM objects cost more than all the rest of ingest, and building a SQLModel row (its
validation, then an attribute event per field) was the import's largest share of the time after parsing
(2,000 sessions: ~1.2 of 8.0 s in cProfile).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table, bindparam, select, update
from sqlmodel import SQLModel

from server.store.driver_insert import insert_rows, sqlite_update_many

__all__ = ["RowSet"]

_CHUNK = 500


class RowSet:
    """One table's rows touched by a batch, as plain dicts keyed by a unique column.

    Plain dicts and two bulk statements (insert the new, update the changed) rather than ORM objects: a
    batch touches thousands of rows, and per-object ORM bookkeeping cost more than all the rest of ingest.
    """

    def __init__(self, model: type[SQLModel], key: str) -> None:
        self.table: Table = model.__table__  # pyright: ignore[reportAttributeAccessIssue]
        self.key = key
        self.defaults = {
            name: info.get_default(call_default_factory=True)
            for name, info in model.model_fields.items()
            if name != "id" and not info.is_required()
        }
        self.rows: dict[str, dict[str, Any]] = {}
        self.new: set[str] = set()
        self.touched: set[str] = set()

    def load(self, conn: Connection, ids: set[str], columns: Sequence[str] = (), by: str | None = None) -> None:
        """Read the stored rows of these keys (or whose column ``by`` holds one of ``ids``): whole, or only the key
        and ``columns`` (then :meth:`write` updates only those)."""
        wanted = sorted(ids)
        column = self.table.c[by or self.key]
        names = dict.fromkeys([self.key, *columns])
        query = select(*(self.table.c[name] for name in names)) if columns else select(self.table)
        for start in range(0, len(wanted), _CHUNK):
            for row in conn.execute(query.where(column.in_(wanted[start : start + _CHUNK]))):
                self.rows[row._mapping[self.key]] = dict(row._mapping)

    def get(self, key: str, **required: Any) -> dict[str, Any]:
        """The row for ``key`` to change, created (with the model's defaults and ``required``) if new."""
        self.touched.add(key)
        row = self.rows.get(key)
        if row is None:
            fresh = {name: list(v) if isinstance(v, list) else v for name, v in self.defaults.items()}  # pyright: ignore[reportUnknownArgumentType]
            row = self.rows[key] = {**fresh, **required, self.key: key}
            self.new.add(key)
        return row

    def write(self, conn: Connection) -> None:
        """Insert the new rows and update the columns loaded of the touched ones, in the open transaction."""
        insert_rows(conn, self.table, [self.rows[key] for key in sorted(self.new)])
        skip = {"id", self.key}
        keys = sorted(self.touched - self.new)
        if not keys:
            return
        columns = [name for name in self.rows[keys[0]] if name not in skip]
        if conn.dialect.name == "sqlite" and all(self.rows[key].keys() == self.rows[keys[0]].keys() for key in keys):
            rows = ([*(self.rows[key][name] for name in columns), key] for key in keys)
            sqlite_update_many(conn, self.table, self.key, columns, rows)
            return
        updates = [{**{k: v for k, v in self.rows[key].items() if k not in skip}, "key_": key} for key in keys]
        conn.execute(update(self.table).where(self.table.c[self.key] == bindparam("key_")), updates)
