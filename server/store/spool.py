"""The spool: one file per captured hook event, Maildir-style (``tmp/`` → ``new/``), plus ``quarantine/``.

``hooks/capture.sh`` writes here; ingest reads ``new/`` in receive order and removes a file only after
its rows are committed. A file that cannot be parsed moves to ``quarantine/`` next to a ``<name>.reason``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["MAX_EVENT_BYTES", "STALE_TMP_S", "BadEvent", "Spool", "SpoolEntry"]

MAX_EVENT_BYTES = 5 * 1024 * 1024
"""Larger payloads are quarantined: Claude Code truncates tool output far below this."""

STALE_TMP_S = 3600.0
"""A file this old still in ``tmp/`` belongs to a capture that died mid-write."""


class BadEvent(ValueError):
    """A spool file that is not one hook event; the message is the quarantine reason."""


@dataclass(frozen=True, slots=True)
class SpoolEntry:
    """One file in ``new/``: its name is the event id, its mtime the receive time."""

    path: Path
    size: int
    mtime_ns: int

    @property
    def event_id(self) -> str:
        return self.path.name

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
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)

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
                entries.append(SpoolEntry(Path(item.path), stat.st_size, stat.st_mtime_ns))
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
        """The decoded payload of ``entry``, and its JSON text.

        Raises:
            BadEvent: the file is empty, too large, not UTF-8, not JSON, or not a JSON object.
        """
        if entry.size > self.max_event_bytes:
            raise BadEvent(f"too large: {entry.size} bytes (limit {self.max_event_bytes})")
        data = entry.path.read_bytes()
        if not data.strip():
            raise BadEvent("empty payload")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadEvent(f"not UTF-8 (byte {exc.start})") from exc
        try:
            payload = json.loads(text)
        except json.JSONDecodeError as exc:
            # The message names a position only, never the content (which may hold secrets).
            raise BadEvent(f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
        if not isinstance(payload, dict):
            raise BadEvent(f"not a JSON object but {type(payload).__name__}")
        return payload, text  # pyright: ignore[reportUnknownVariableType]

    def quarantine(self, path: Path, reason: str) -> None:
        """Move ``path`` to ``quarantine/`` with a sibling ``<name>.reason`` saying why."""
        self.quarantine_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        target = self.quarantine_dir / path.name
        (self.quarantine_dir / f"{path.name}.reason").write_text(reason + "\n", encoding="utf-8")
        os.replace(path, target)

    def remove(self, entries: list[SpoolEntry]) -> None:
        """Delete ingested files; one already gone (a concurrent ingest) is fine."""
        for entry in entries:
            entry.path.unlink(missing_ok=True)

    def sweep_tmp(self, now_s: float, stale_s: float = STALE_TMP_S) -> int:
        """Quarantine files a dead capture left in ``tmp/``; returns how many."""
        moved = 0
        try:
            scan = os.scandir(self.tmp)
        except FileNotFoundError:
            return 0
        with scan:
            stale = [Path(i.path) for i in scan if now_s - i.stat(follow_symlinks=False).st_mtime > stale_s]
        for path in stale:
            try:
                self.quarantine(path, f"abandoned in tmp/ for over {int(stale_s)} s: the capture hook died mid-write")
            except FileNotFoundError:
                continue
            moved += 1
        return moved
