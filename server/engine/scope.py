"""Whose a stored thing is: the session and the project folder that made it.

The service serves every session of the user from one store, and a session's model writes the arguments of its
tool calls, so ids are not secrets: a stored output or a thread is handed only to the session that made it, or to
another session in the same project. Anyone else is told the id is unknown, as if it did not exist.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Scope", "project_dir_of"]


def project_dir_of(env: Mapping[str, str], roots: list[Path]) -> str | None:
    """The session's project: ``CLAUDE_PROJECT_DIR`` (Claude Code sets it), else the first root (the working
    directory), resolved so that two spellings of one folder are one project."""
    chosen = env.get("CLAUDE_PROJECT_DIR") or (str(roots[0]) if roots else "")
    return os.path.realpath(chosen) if chosen else None


@dataclass(frozen=True)
class Scope:
    """The caller: its Claude Code session (None outside one) and its project folder."""

    session_id: str | None
    project_dir: str | None

    def owns(self, session_id: str | None, project_dir: str | None) -> bool:
        """Whether a row made in ``session_id`` / ``project_dir`` is the caller's to read (NULL matches nothing)."""
        same_session = self.session_id is not None and session_id == self.session_id
        same_project = self.project_dir is not None and project_dir == self.project_dir
        return same_session or same_project
