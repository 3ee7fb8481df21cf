"""Writing the recorder's batches, keeping those not yet written, and landing them later exactly once.

Every batch is first appended to its recorder's write-ahead log (:mod:`server.store.record_log`) before the call
that made it returns, so a process ended at any moment after its answer (Claude Code's SIGTERM, a kill) leaves its
rows on disk. The recorder then writes the batch with SQLAlchemy Core inserts (the ORM's unit of work cost more
than the provider call in ``bench/bench_delegate.py``), in one transaction together with its ``record_batch`` row.
A batch the store refused becomes one JSON file in ``spool/records/new/`` (written to ``tmp/`` first, fsynced,
then renamed, mode 0600: rows hold prompts and answers). :func:`replay` lands each file, and each batch of a log
whose recorder is gone, in its own transaction unless its id is already in ``record_batch`` (another process
replayed it, or the commit went through before the error); a file that cannot be decoded goes to
``spool/records/quarantine/``.
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
from server.store.models import BudgetReservation, RecordBatch, Thread, utcnow
from server.store.routing_totals import fold
from server.team import stamp

if TYPE_CHECKING:
    from server.store.recorder import Batch

__all__ = ["decode_batch", "encode_batch", "ensure_dirs", "land", "pending_files", "replay", "spill", "write"]

logger = logging.getLogger(__name__)

_DATETIME = "$datetime"


def _table(row: SQLModel) -> Table:
    return cast(Table, row.__table__)  # pyright: ignore[reportAttributeAccessIssue]


_SHAPES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}


def _shape(table: Table) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(column names, primary key names) of ``table``, computed once: walking the columns per row cost more than
    the rest of the write-ahead."""
    shape = _SHAPES.get(table.name)
    if shape is None:
        shape = tuple(c.name for c in table.columns), tuple(c.name for c in table.primary_key.columns)
        _SHAPES[table.name] = shape
    return shape


def _values(row: SQLModel, table: Table) -> dict[str, Any]:
    stamp(row)  # delegations and solve runs record who ran them and where (fold reads the row's user)
    names, keys = _shape(table)
    state = row.__dict__
    values = {name: state[name] if name in state else getattr(row, name) for name in names}
    for name in keys:
        if values.get(name) is None:
            del values[name]  # autoincrement: the database numbers it
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


def _written(conn: Connection, ids: Sequence[str]) -> set[str]:
    marks = cast(Table, RecordBatch.__table__)  # pyright: ignore[reportAttributeAccessIssue]
    return set(conn.execute(select(marks.c.id).where(marks.c.id.in_(ids))).scalars())


def write(engine: Engine, batches: Sequence[Batch], *, lock_timeout_s: float = 5.0) -> None:
    """Write ``batches`` in one transaction, leaving out any whose id is already written (another process replayed
    its write-ahead file first).

    Raises:
        sqlalchemy.exc.SQLAlchemyError: the store refused (locked, unreachable...); nothing was written.
    """
    with engine.begin() as conn:
        _begin(conn, lock_timeout_s)
        done = _written(conn, [b.id for b in batches])
        fresh = [b for b in batches if b.id not in done]
        if fresh:
            _mark(conn, fresh)
        for batch in fresh:
            _write_one(conn, batch)


# --- the spool of batches not yet written ---------------------------------------------------------------------


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {_DATETIME: value.isoformat()}
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and set(cast(dict[str, Any], value)) == {_DATETIME}:
        return datetime.fromisoformat(cast(dict[str, str], value)[_DATETIME])
    return value


def _to_json(batch: Batch) -> str:
    rows = [{"table": (table := _table(row)).name, "values": _values(row, table)} for row in batch.rows]
    return json.dumps(
        {"id": batch.id, "session_id": batch.session_id, "thread": batch.thread, "settle": batch.settle, "rows": rows},
        default=_encode,
    )


def encode_batch(batch: Batch) -> bytes:
    """``batch`` as one line of JSON (no newline in it): what the write-ahead log and the spilled files hold."""
    return _to_json(batch).encode()


def decode_batch(data: str | bytes) -> Batch:
    """The batch :func:`encode_batch` wrote.

    Raises:
        ValueError, KeyError, TypeError: ``data`` is not a whole batch.
    """
    return _from_json(data)


def _from_json(data: str | bytes) -> Batch:
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


def ensure_dirs(records_dir: Path) -> tuple[Path, Path, Path]:
    """``tmp/``, ``new/`` and ``quarantine/`` under ``records_dir``, private (the home above them too)."""
    folders = (records_dir / "tmp", records_dir / "new", records_dir / "quarantine")
    for folder in folders:
        private_dirs(folder)  # the home above them too, if this is the first thing to make it
    return folders


def _keep(records_dir: Path, batch: Batch) -> None:
    data = encode_batch(batch)
    staged = records_dir / "tmp" / f"{batch.id}.json"
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(staged, records_dir / "new" / staged.name)


def spill(records_dir: Path, batches: Iterable[Batch]) -> None:
    """Keep each batch as a file in ``records_dir/new/`` (durably: fsync before the rename)."""
    ensure_dirs(records_dir)
    for batch in batches:
        try:
            _keep(records_dir, batch)
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


def land(engine: Engine, batch: Batch, *, lock_timeout_s: float = 5.0) -> bool | str:
    """Write one kept batch (redacted on the way) unless its id is already written: True if it landed here, False
    if it was already in, or why the store refused its rows (a clash: the batch cannot ever land).

    Raises:
        sqlalchemy.exc.OperationalError: the store is busy or unreachable.
    """
    from server.store.stored_text import redact_rows

    try:
        with engine.begin() as conn:
            _begin(conn, lock_timeout_s)
            if _already_written(conn, batch.id):
                return False
            redact_rows(batch.rows)  # a write-ahead log holds the rows as the call made them
            _mark(conn, [batch])
            _write_one(conn, batch)
            return True
    except IntegrityError as exc:
        with engine.connect() as conn:
            if _already_written(conn, batch.id):
                return False  # a concurrent replay committed this id between our check and our insert
        return f"rows refused by the store: {exc.orig}"


def replay(engine: Engine, records_dir: Path, *, lock_timeout_s: float = 5.0) -> int:
    """Land every kept batch once: the spilled files, then the write-ahead logs no live recorder holds
    (:mod:`server.store.record_log`); returns how many landed here.

    Raises:
        sqlalchemy.exc.OperationalError: the store is still busy or unreachable; the files stay.
    """
    from server.store.record_log import replay_logs

    landed = 0
    for path in pending_files(records_dir):
        try:
            batch = _from_json(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            continue  # another process landed it
        except (ValueError, KeyError, TypeError) as exc:
            _quarantine(records_dir, path, f"not a batch: {type(exc).__name__}")
            continue
        outcome = land(engine, batch, lock_timeout_s=lock_timeout_s)
        if isinstance(outcome, str):
            _quarantine(records_dir, path, outcome)
            continue
        landed += outcome
        path.unlink(missing_ok=True)
    return landed + replay_logs(engine, records_dir, lock_timeout_s=lock_timeout_s)


def _quarantine(records_dir: Path, path: Path, reason: str) -> None:
    _, _, quarantine = ensure_dirs(records_dir)
    private_file(quarantine / f"{path.name}.reason").write_text(reason + "\n", encoding="utf-8")
    os.replace(path, quarantine / path.name)
