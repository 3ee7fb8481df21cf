"""Writing the recorder's batches, keeping those the store refused, and landing them later exactly once.

A batch is written with SQLAlchemy Core inserts (the ORM's unit of work cost more than the provider call in
``bench/bench_delegate.py``) in one transaction together with its ``record_batch`` row. A batch the store refused
becomes one JSON file in ``spool/records/new/`` (written to ``tmp/`` first, then renamed, mode 0600: rows hold
prompts and answers). :func:`replay` lands each file in its own transaction unless its id is already in
``record_batch`` (another process replayed it, or the commit went through before the error), then removes it;
a file that cannot be decoded goes to ``spool/records/quarantine/``.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Connection, Engine, Table, delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

from server.private import private_dirs, private_file
from server.routing.learn_store import fold
from server.store.models import BudgetReservation, RecordBatch, Thread, utcnow
from server.team import stamp

if TYPE_CHECKING:
    from server.store.recorder import Batch

__all__ = ["pending_files", "replay", "spill", "write"]

logger = logging.getLogger(__name__)

_DATETIME = "$datetime"


def _table(row: SQLModel) -> Table:
    return cast(Table, row.__table__)  # pyright: ignore[reportAttributeAccessIssue]


def _values(row: SQLModel, table: Table) -> dict[str, Any]:
    stamp(row)  # delegations and solve runs record who ran them and where (fold reads the row's user)
    values = {column.name: getattr(row, column.name) for column in table.columns}
    for column in table.primary_key.columns:
        if values.get(column.name) is None:
            del values[column.name]  # autoincrement: the database numbers it
    return values


def _begin(conn: Connection, lock_timeout_s: float) -> None:
    if conn.dialect.name == "postgresql":
        # Without it a row lock held elsewhere would stall the writer indefinitely instead of spilling.
        conn.execute(text(f"SET LOCAL lock_timeout = '{int(lock_timeout_s * 1000)}ms'"))


def _write_one(conn: Connection, batch: Batch) -> None:
    now = utcnow()
    grouped: dict[str, tuple[Table, list[dict[str, Any]]]] = {}
    for row in batch.rows:
        table = _table(row)
        grouped.setdefault(table.name, (table, []))[1].append(_values(row, table))
    for table, values in grouped.values():
        # executemany needs one shape: autoincrement keys are left out of every row alike.
        conn.execute(insert(table), values)
    # Learned routing's totals move in the same transaction as the rows they count (a replayed batch too).
    fold(conn, batch.rows)
    if batch.thread is not None:
        _touch_thread(conn, *batch.thread, now=now)
    if batch.settle:
        reservations = cast(Table, BudgetReservation.__table__)  # pyright: ignore[reportAttributeAccessIssue]
        conn.execute(delete(reservations).where(reservations.c.id.in_(batch.settle)))


def _touch_thread(conn: Connection, thread_id: str, session_id: str | None, *, now: datetime) -> None:
    threads = cast(Table, Thread.__table__)  # pyright: ignore[reportAttributeAccessIssue]
    bumped = conn.execute(update(threads).where(threads.c.thread_id == thread_id).values(updated_at=now))
    if bumped.rowcount == 0:
        conn.execute(insert(threads).values(thread_id=thread_id, session_id=session_id, created_at=now, updated_at=now))


def _mark(conn: Connection, batches: Sequence[Batch]) -> None:
    marks = cast(Table, RecordBatch.__table__)  # pyright: ignore[reportAttributeAccessIssue]
    now = utcnow()
    conn.execute(insert(marks), [{"id": b.id, "session_id": b.session_id, "written_at": now} for b in batches])


def write(engine: Engine, batches: Sequence[Batch], *, lock_timeout_s: float = 5.0) -> None:
    """Write ``batches`` in one transaction.

    Raises:
        sqlalchemy.exc.SQLAlchemyError: the store refused (locked, unreachable...); nothing was written.
    """
    with engine.begin() as conn:
        _begin(conn, lock_timeout_s)
        _mark(conn, batches)
        for batch in batches:
            _write_one(conn, batch)


# --- the spool of batches not yet written ---------------------------------------------------------------------


def _encode(value: Any) -> Any:
    return {_DATETIME: value.isoformat()} if isinstance(value, datetime) else value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and set(cast(dict[str, Any], value)) == {_DATETIME}:
        return datetime.fromisoformat(cast(dict[str, str], value)[_DATETIME])
    return value


def _to_json(batch: Batch) -> str:
    rows = [
        {"table": _table(row).name, "values": {k: _encode(v) for k, v in _values(row, _table(row)).items()}}
        for row in batch.rows
    ]
    return json.dumps(
        {"id": batch.id, "session_id": batch.session_id, "thread": batch.thread, "settle": batch.settle, "rows": rows}
    )


def _from_json(data: str) -> Batch:
    from server.store.recorder import Batch

    raw = json.loads(data)
    classes = {cast(Table, m.class_.__table__).name: m.class_ for m in SQLModel._sa_registry.mappers}  # pyright: ignore[reportPrivateUsage, reportAttributeAccessIssue, reportUnknownMemberType, reportUnknownVariableType]
    rows: list[SQLModel] = []
    for item in raw["rows"]:
        model = cast(type[SQLModel], classes[item["table"]])
        row = model()
        for key, value in item["values"].items():
            setattr(row, key, _decode(value))
        rows.append(row)
    thread = tuple(raw["thread"]) if raw["thread"] else None
    return Batch(rows, cast(tuple[str, str | None] | None, thread), list(raw["settle"]), raw["id"], raw["session_id"])


def _dirs(records_dir: Path) -> tuple[Path, Path, Path]:
    folders = (records_dir / "tmp", records_dir / "new", records_dir / "quarantine")
    for folder in folders:
        private_dirs(folder)  # the home above them too, if this is the first thing to make it
    return folders


def spill(records_dir: Path, batches: Iterable[Batch]) -> None:
    """Keep each batch as a file in ``records_dir/new/`` (durably: fsync before the rename)."""
    tmp, new, _ = _dirs(records_dir)
    for batch in batches:
        try:
            data = _to_json(batch).encode()
            staged = tmp / f"{batch.id}.json"
            fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(staged, new / staged.name)
        except OSError:
            logger.exception("could not keep batch %s of %d rows: they are lost", batch.id, len(batch.rows))


def pending_files(records_dir: Path) -> list[Path]:
    """The spilled batches waiting to land, oldest first."""
    try:
        entries = [p for p in (records_dir / "new").iterdir() if p.suffix == ".json" and p.is_file()]
    except FileNotFoundError:
        return []
    return sorted(entries, key=lambda p: (p.stat().st_mtime_ns, p.name))


def _already_written(conn: Connection, batch_id: str) -> bool:
    marks = cast(Table, RecordBatch.__table__)  # pyright: ignore[reportAttributeAccessIssue]
    return conn.execute(select(marks.c.id).where(marks.c.id == batch_id)).first() is not None


def replay(engine: Engine, records_dir: Path, *, lock_timeout_s: float = 5.0) -> int:
    """Land every spilled batch once; returns how many landed here.

    Raises:
        sqlalchemy.exc.OperationalError: the store is still busy or unreachable; the files stay.
    """
    landed = 0
    for path in pending_files(records_dir):
        try:
            batch = _from_json(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            continue  # another process landed it
        except (ValueError, KeyError, TypeError) as exc:
            _quarantine(records_dir, path, f"not a batch: {type(exc).__name__}")
            continue
        try:
            with engine.begin() as conn:
                _begin(conn, lock_timeout_s)
                if not _already_written(conn, batch.id):
                    _mark(conn, [batch])
                    _write_one(conn, batch)
                    landed += 1
        except IntegrityError as exc:
            with engine.connect() as conn:
                if not _already_written(conn, batch.id):  # not a concurrent replay: the rows themselves clash
                    _quarantine(records_dir, path, f"rows refused by the store: {exc.orig}")
                    continue
            # A concurrent replay committed this id between our check and our insert: it is written once.
        path.unlink(missing_ok=True)
    return landed


def _quarantine(records_dir: Path, path: Path, reason: str) -> None:
    _, _, quarantine = _dirs(records_dir)
    private_file(quarantine / f"{path.name}.reason").write_text(reason + "\n", encoding="utf-8")
    os.replace(path, quarantine / path.name)
