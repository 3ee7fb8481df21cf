"""The recorder's write-ahead log: each batch appended to a file before its call returns, landed later if need be.

One recorder owns one log at a time, ``spool/records/log/<pid>-<id>.jsonl`` (mode 0600: rows hold prompts and
answers), one JSON batch per line, and holds an exclusive ``flock`` on it while its process lives. A line is
appended with one ``write`` on the call's path (~2 µs, against ~0.15 ms plus ext4 journal stalls of several ms
for a file created and renamed per call, measured here); it is not fsynced, so it survives the process (Claude
Code ending the server, a kill), not a power cut in the seconds before the kernel writes it out (an fsync cost
6-15 ms per call on this machine's ext4).

The recorder counts the batches it has resolved (written to the store, or spilled to ``new/``, fsynced); once
every batch of a log is resolved and the log has grown past :data:`ROTATE_BATCHES` or :data:`ROTATE_BYTES`, or
the recorder closes, the log is removed and the next batch starts a new one. A log left behind (its process
ended first) is no longer locked: :func:`replay_logs` takes its lock, lands each batch not already written
(``record_batch`` holds every written id), and removes it. A live recorder's log is never touched by others.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from server.private import private_dirs, private_file

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from server.store.recorder import Batch

__all__ = ["ROTATE_BATCHES", "ROTATE_BYTES", "WriteAheadLog", "log_files", "replay_logs"]

logger = logging.getLogger(__name__)

ROTATE_BATCHES = 256
ROTATE_BYTES = 8 * 1024 * 1024


def _log_dir(records_dir: Path) -> Path:
    return records_dir / "log"


class WriteAheadLog:
    """The log of one recorder: :meth:`append` on the call's path, :meth:`resolve` from the writer thread."""

    def __init__(self, records_dir: Path) -> None:
        self.records_dir = records_dir
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._path: Path | None = None
        self._appended = 0
        self._resolved = 0
        self._bytes = 0

    @property
    def path(self) -> Path | None:
        """The log being appended to, if any (for tests)."""
        return self._path

    def append(self, batch: Batch) -> None:
        """Append ``batch`` as one line; ``batch.log`` names the log it is in.

        Raises:
            OSError: the log could not be opened or written (disk full, home unwritable).
        """
        from server.store.record_batches import encode_batch

        data = encode_batch(batch) + b"\n"
        with self._lock:
            if self._fd is None:
                self._open()
            assert self._fd is not None
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view) :]
            self._appended += 1
            self._bytes += len(data)
            batch.log = self._path.name if self._path else None

    def resolve(self, batches: Iterable[Batch]) -> None:
        """Note that ``batches`` are in the store or spilled: a log whose batches are all resolved can go."""
        with self._lock:
            current = self._path.name if self._path else None
            count = sum(1 for batch in batches if current is not None and batch.log == current)
            if not count:
                return  # not logged, or in a log already closed: its fate is the next replay's
            self._resolved += count
            if self._resolved >= self._appended and (self._appended >= ROTATE_BATCHES or self._bytes >= ROTATE_BYTES):
                self._retire()

    def close(self) -> None:
        """Remove the log if every batch in it is resolved, else leave it for :func:`replay_logs`; either way let
        go of its lock."""
        with self._lock:
            if self._fd is None:
                return
            if self._resolved >= self._appended:
                self._retire()
            else:
                os.close(self._fd)
                self._fd, self._path = None, None

    def _open(self) -> None:
        folder = private_dirs(_log_dir(self.records_dir))
        path = folder / f"{os.getpid()}-{uuid.uuid4().hex[:12]}.jsonl"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a new name: nobody else can hold it
        self._fd, self._path = fd, path
        self._appended = self._resolved = self._bytes = 0

    def _retire(self) -> None:
        assert self._fd is not None and self._path is not None
        self._path.unlink(missing_ok=True)  # while still locked: a replay never reads a log being removed
        os.close(self._fd)
        self._fd, self._path = None, None


def log_files(records_dir: Path) -> list[Path]:
    """Every write-ahead log under ``records_dir``, live or left behind."""
    try:
        return sorted(p for p in _log_dir(records_dir).iterdir() if p.suffix == ".jsonl")
    except FileNotFoundError:
        return []


def replay_logs(engine: Engine, records_dir: Path, *, lock_timeout_s: float = 5.0) -> int:
    """Land the batches of every log no live recorder holds, then remove it; returns how many landed here.

    Raises:
        sqlalchemy.exc.OperationalError: the store is busy or unreachable; the log stays for next time.
    """
    landed = 0
    for path in log_files(records_dir):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            continue  # its recorder retired it
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live recorder's: it lands its own batches
            if not path.exists():
                continue  # retired (or replayed) between our open and our lock
            landed += _land_log(engine, records_dir, path, lock_timeout_s)
            path.unlink(missing_ok=True)
        finally:
            os.close(fd)
    return landed


def _land_log(engine: Engine, records_dir: Path, path: Path, lock_timeout_s: float) -> int:
    from server.store.record_batches import decode_batch, land

    landed = 0
    lines = path.read_bytes().splitlines()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            batch = decode_batch(line)
        except (ValueError, KeyError, TypeError) as exc:
            # Only a process killed inside its write leaves a cut line: that call never returned its answer.
            logger.warning("%s line %d is not a batch (%s): skipped", path.name, number, type(exc).__name__)
            continue
        outcome = land(engine, batch, lock_timeout_s=lock_timeout_s)
        if isinstance(outcome, str):
            _quarantine_line(records_dir, batch.id, line, outcome)
            continue
        landed += outcome
    return landed


def _quarantine_line(records_dir: Path, batch_id: str, line: bytes, reason: str) -> None:
    quarantine = private_dirs(records_dir / "quarantine")
    private_file(quarantine / f"{batch_id}.json").write_bytes(line)
    private_file(quarantine / f"{batch_id}.json.reason").write_text(reason + "\n", encoding="utf-8")
