"""Where Claude Code's transcripts are in a projects folder: each session's main transcript and its subagents'.

Standard library only: an import with nothing new (:mod:`server.store.nothing_new`) walks the folder without
loading SQLAlchemy.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["IMPORT_BATCH", "TranscriptFile", "find_transcripts", "first_reads", "transcript_paths", "untextual"]

IMPORT_BATCH = 1000
"""Sessions an import writes in one transaction: at each one's start and end (rows, totals, commit) the read-ahead
worker has nothing to parse. 10,000 sessions of 23 requests: 10.4-12.0 s wall at 200, 8.9-9.9 s at 1,000, 8.9 s
at 2,000."""


@dataclass(frozen=True)
class TranscriptFile:
    """One session's main transcript and its subagents' transcripts."""

    session_id: str
    path: Path
    subagents: dict[str, Path] = field(default_factory=dict[str, Path])


def find_transcripts(root: Path, unnamed: list[str] | None = None) -> Iterator[TranscriptFile]:
    """Every session transcript under ``root``, in name order (regular files only: no FIFO can hang import).

    Read with ``os.scandir``, and a session's ``subagents`` folder looked in only when its folder is there:
    ``Path.glob`` for each of 10,000 sessions and a ``stat`` per file took 0.51 s of a 1.2 s import with
    nothing new. A transcript whose path is not UTF-8 (Linux allows any bytes) cannot be stored, its session id
    and path being text: it is left out, and said in ``unnamed``.
    """
    for folder in _entries(root):
        if not folder.is_dir():
            continue
        entries = _entries(folder.path)
        folders = {entry.name for entry in entries if entry.is_dir()}
        for entry in entries:
            session_id = entry.name.removesuffix(".jsonl")
            if not session_id or session_id == entry.name or not entry.is_file():
                continue
            if not _text(entry.path, unnamed):
                continue
            agents: dict[str, Path] = {}
            if session_id in folders:
                for agent in _entries(os.path.join(folder.path, session_id, "subagents")):
                    name = agent.name
                    named = name.startswith("agent-") and name.endswith(".jsonl")
                    if named and agent.is_file() and _text(agent.path, unnamed):
                        agents[name.removeprefix("agent-").removesuffix(".jsonl")] = Path(agent.path)
            yield TranscriptFile(session_id, Path(entry.path), agents)


def _text(path: str, unnamed: list[str] | None) -> bool:
    """Whether ``path`` is text the store can keep; if not, said in ``unnamed``."""
    if (why := untextual(path)) is None:
        return True
    if unnamed is not None:
        unnamed.append(why)
    return False


def untextual(path: str) -> str | None:
    """Why the store cannot keep ``path`` as text (a name with bytes that are not UTF-8), or None when it can."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return f"{path.encode('utf-8', 'surrogateescape')!r}: its name is not UTF-8"
    return None


def _entries(path: str | Path) -> list[os.DirEntry[str]]:
    """The entries of a folder in name order; none when it is missing or unreadable."""
    try:
        with os.scandir(path) as entries:
            return sorted(entries, key=lambda entry: entry.name)
    except OSError:
        return []


def transcript_paths(item: TranscriptFile) -> list[str]:
    """The session's transcript, then its subagents'."""
    return [str(item.path), *(str(path) for path in item.subagents.values())]


def first_reads(found: Sequence[TranscriptFile]) -> list[tuple[str, str | None]]:
    """The transcripts an import reads for these sessions when the store holds none of them, in its order, as
    (path, agent id): sessions by id, each one's subagents by agent id, then its main transcript.

    Known from the folder alone, so the parsing worker can be handed a first import's first batch before this
    process has loaded SQLAlchemy and opened the store. The import plans its own reads (``importer._reads``) from
    the rows it made; a test holds the two equal for a new store.
    """
    reads: list[tuple[str, str | None]] = []
    for item in sorted(found, key=lambda item: item.session_id):
        for agent_id in sorted(item.subagents, key=lambda agent_id: agent_id[:200]):
            reads.append((str(item.subagents[agent_id]), agent_id[:200]))
        reads.append((str(item.path), None))
    return reads
