"""On ingest: read the Codex / Gemini CLI logs that captured hook events name, so their usage lands as they run."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from sqlmodel import Session

from server.store.agents.imports import AgentImport, import_file
from server.store.hook_rows import HookEvent

__all__ = ["read_named_logs"]

logger = logging.getLogger(__name__)


def _looks_like_log(agent: str, file: Path) -> bool:
    """A payload names the file to read: only a log file of that CLI's own shape and place is read."""
    if agent == "codex":
        return file.name.startswith("rollout-") and file.suffix == ".jsonl" and "sessions" in file.parts
    return file.name.startswith("session-") and file.suffix in (".json", ".jsonl") and file.parent.name == "chats"


def read_named_logs(db: Session, events: Iterable[HookEvent]) -> None:
    """Read each log file that ``events`` of another agent name in ``transcript_path`` (not committed)."""
    from server.store.agents import READERS
    from server.team import current_identity

    named = sorted({(e.agent, path) for e in events if e.agent in READERS and (path := e.text("transcript_path"))})
    for agent, path in named:
        reader, file = READERS[agent], Path(path)
        if not _looks_like_log(agent, file):
            logger.warning("not reading %s: not where %s keeps its logs", path, agent)
            continue
        report = AgentImport(agent, file.parent)
        try:
            if file.is_file():
                import_file(db, reader, file, current_identity(), report)
        except OSError as exc:
            logger.warning("could not read %s log %s: %s", agent, path, exc.strerror or type(exc).__name__)
