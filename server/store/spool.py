"""The spool: one file per captured hook event, Maildir-style (``tmp/`` → ``new/``), plus ``quarantine/``.

``hooks/capture.sh`` writes here; ingest reads ``new/`` in receive order and removes a file only after
its rows are committed. A file that cannot be parsed moves to ``quarantine/`` next to a ``<name>.reason``.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from server.private import private_dirs, private_file
from server.store.payload import BadEvent, decode_payload

__all__ = ["MAX_EVENT_BYTES", "STALE_TMP_S", "BadEvent", "Spool", "SpoolEntry"]

MAX_EVENT_BYTES = 5 * 1024 * 1024
"""Larger payloads are quarantined: Claude Code truncates tool output far below this."""

STALE_TMP_S = 3600.0
"""A file this old still in ``tmp/`` belongs to a capture that died mid-write."""


@dataclass(frozen=True, slots=True)
class SpoolEntry:
    """One file in ``new/``: its name is the event id, its mtime the receive time."""

    file: str
    """The file's path, as the listing gave it (a Path per file cost ~25 µs per event, built then printed back)."""
    event_id: str
    size: int
    mtime_ns: int

    @property
    def path(self) -> Path:
        return Path(self.file)

    @property
    def received_at(self) -> datetime:
        return datetime.fromtimestamp(self.mtime_ns / 1e9, UTC)


class Spool:
    """The spool folder under ``SWITCHBOARD_HOME``."""

    def __init__(self, root: Path, max_event_bytes: int = MAX_EVENT_BYTES) -> None:
        self.root = root
        self.tmp = root / "tmp"
        self.new = root / "new"
        self.quarantine_dir = root / "quarantine"
        self.max_event_bytes = max_event_bytes

    def ensure(self) -> None:
        """Create the folders (private to the user: payloads hold prompts) if missing."""
        for folder in (self.tmp, self.new, self.quarantine_dir):
            private_dirs(folder)

    def pending(self) -> list[SpoolEntry]:
        """The events in ``new/``, oldest first (receive time, then name)."""
        entries: list[SpoolEntry] = []
        try:
            scan = os.scandir(self.new)
        except FileNotFoundError:
            return entries
        with scan:
            for item in scan:
                # Capture writes regular files only: a symlink or folder here is foreign, never followed.
                if item.name.startswith(".") or not item.is_file(follow_symlinks=False):
                    continue
                try:
                    stat = item.stat(follow_symlinks=False)
                except FileNotFoundError:  # removed by a concurrent ingest
                    continue
                entries.append(SpoolEntry(item.path, item.name, stat.st_size, stat.st_mtime_ns))
        entries.sort(key=lambda e: (e.mtime_ns, e.event_id))
        return entries

    def count_pending(self) -> int:
        """How many events wait in ``new/``."""
        try:
            with os.scandir(self.new) as scan:
                return sum(1 for i in scan if not i.name.startswith(".") and i.is_file(follow_symlinks=False))
        except FileNotFoundError:
            return 0

    def read(self, entry: SpoolEntry) -> tuple[dict[str, Any], str]:
        """The decoded (and repaired, see :mod:`server.store.payload`) payload of ``entry``, and its JSON text.

        Raises:
            BadEvent: the file is not a regular file, empty, too large, not UTF-8, not JSON, or not a JSON object.
        """
        if entry.size > self.max_event_bytes:
            raise BadEvent(f"too large: {entry.size} bytes (limit {self.max_event_bytes})")
        return decode_payload(self._read_bounded(entry.file))

    def _read_bounded(self, path: str) -> bytes:
        # O_NONBLOCK and O_NOFOLLOW: a FIFO or symlink swapped in after the scan is refused, never waited on.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_NOCTTY | os.O_CLOEXEC)
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise BadEvent("not a regular file")
            # Reads sized by the file, not by the limit: a buffer of the limit per event (5 MiB) cost
            # 63 µs of allocation per 1 KiB event. Read until EOF or one byte past the limit.
            limit = self.max_event_bytes + 1
            chunks: list[bytes] = []
            size = 0
            want = min(info.st_size, self.max_event_bytes) + 1
            while size < limit:
                chunk = os.read(fd, min(want, limit - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
                want = 65536
        finally:
            os.close(fd)
        data = b"".join(chunks)
        if len(data) > self.max_event_bytes:
            raise BadEvent(f"too large: over {self.max_event_bytes} bytes (limit {self.max_event_bytes})")
        return data

    def quarantine(self, path: Path, reason: str) -> None:
        """Move ``path`` to ``quarantine/`` with a sibling ``<name>.reason`` saying why."""
        private_dirs(self.quarantine_dir)
        target = self.quarantine_dir / path.name
        private_file(self.quarantine_dir / f"{path.name}.reason").write_text(reason + "\n", encoding="utf-8")
        os.replace(path, target)

    def remove(self, entries: list[SpoolEntry]) -> None:
        """Delete ingested files; one already gone (a concurrent ingest) is fine."""
        for entry in entries:
            try:
                os.unlink(entry.file)
            except FileNotFoundError:
                continue

    def sweep_tmp(self, now_s: float, stale_s: float = STALE_TMP_S) -> int:
        """Quarantine files a dead capture left in ``tmp/``; returns how many."""
        moved = 0
        try:
            scan = os.scandir(self.tmp)
        except FileNotFoundError:
            return 0
        with scan:
            stale = [Path(i.path) for i in scan if now_s - _mtime(i, now_s) > stale_s]
        for path in stale:
            try:
                self.quarantine(path, f"abandoned in tmp/ for over {int(stale_s)} s: the capture hook died mid-write")
            except FileNotFoundError:
                continue
            moved += 1
        return moved


def _mtime(entry: os.DirEntry[str], default: float) -> float:
    try:
        return entry.stat(follow_symlinks=False).st_mtime
    except FileNotFoundError:  # capture renamed it into new/ between the listing and the stat
        return default
