"""One table of the store as CSV or JSON lines, for a spreadsheet: ``switchboard export`` and the page's CSV links.

Rows go out as stored: secrets were redacted on the way in (:mod:`server.redact`). Times are ISO 8601 in
UTC; NULL is an empty CSV cell and JSON ``null``; a float that is not finite becomes NULL (JSON has no NaN, and
``allow_nan=False`` holds that). Rows stream in batches, so a large table never sits in memory whole.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import Engine, Table, select

from server.store.models import AgentSession

__all__ = ["FORMATS", "TIME_COLUMNS", "ExportError", "export_rows", "exportable", "time_column"]

Format = Literal["csv", "jsonl"]
FORMATS: tuple[Format, ...] = ("csv", "jsonl")
TIME_COLUMNS = ("created_at", "started_at", "received_at", "updated_at")
"""The column ``since`` filters on: the first of these the table has."""
_BATCH = 1000
_HIDDEN = frozenset({"alembic_version"})
_METADATA = AgentSession.metadata
"""Every table of the store (importing the models module registers them all on it)."""


class ExportError(ValueError):
    """The table or the window cannot be exported; the message says what would work."""


def exportable() -> list[str]:
    """The tables that can be exported, by name."""
    return sorted(name for name in _METADATA.tables if name not in _HIDDEN)


def _table(name: str) -> Table:
    table = _METADATA.tables.get(name)
    if table is None or name in _HIDDEN:
        raise ExportError(f"there is no table {name!r}; tables: {', '.join(exportable())}")
    return table


def time_column(name: str) -> str | None:
    """The column ``since`` filters on in table ``name`` (None: the table has no time column)."""
    table = _table(name)
    return next((column for column in TIME_COLUMNS if column in table.c), None)


def _value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _rows(engine: Engine, name: str, since: datetime | None) -> Iterator[list[Any]]:
    table = _table(name)
    query = select(table)
    if since is not None:
        column = time_column(name)
        if column is None:
            raise ExportError(f"table {name!r} has no time column to take --since from; export it whole")
        query = query.where(table.c[column] >= since)
    primary = list(table.primary_key.columns)
    with engine.connect() as connection:
        result = connection.execution_options(yield_per=_BATCH).execute(query.order_by(*primary))
        for row in result:
            yield [_value(v) for v in row]


def export_rows(engine: Engine, name: str, since: datetime | None, fmt: Format) -> Iterator[str]:
    """The text of the export, in pieces: a CSV header then rows, or one JSON object per line.

    Raises:
        ExportError: an unknown table, or ``since`` on a table without a time column (before any text).
    """
    columns = [column.name for column in _table(name).c]
    rows = _rows(engine, name, since)
    if fmt == "jsonl":
        for row in rows:
            yield json.dumps(dict(zip(columns, row, strict=True)), allow_nan=False, default=str) + "\n"
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for count, row in enumerate(rows, 1):
        writer.writerow(["" if v is None else (json.dumps(v) if isinstance(v, dict | list) else v) for v in row])
        if count % _BATCH == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
