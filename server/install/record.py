"""What install added, kept under ``SWITCHBOARD_HOME/installs``, so uninstall takes out that and no more.

One file per registration (scope and folder): for each settings file, whether install created it, the
folders it made, and the undo records of its edits (see :mod:`server.install.edits`).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from server.install.jsonfile import dumps, loads
from server.private import private_dirs

__all__ = ["FileRecord", "Record"]


@dataclass
class FileRecord:
    """What install did to one file."""

    created_file: bool = False
    created_dirs: list[str] = field(default_factory=list[str])
    edits: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    backup: str | None = None
    """The copy of the file as it was before the first install, to give back byte for byte."""


@dataclass
class Record:
    """What install did for one registration."""

    key: str
    files: dict[str, FileRecord] = field(default_factory=dict[str, FileRecord])
    git_exclude: list[str] | None = None
    """The repository's exclude file and the text install appended to it."""

    @staticmethod
    def path(home: Path, key: str) -> Path:
        return home / "installs" / f"{hashlib.sha256(key.encode()).hexdigest()[:16]}.json"

    @classmethod
    def load(cls, home: Path, key: str) -> Record | None:
        try:
            data = loads(cls.path(home, key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        files = {name: FileRecord(**entry) for name, entry in data.get("files", {}).items()}
        return cls(data.get("target", key), files, data.get("git_exclude"))

    def save(self, home: Path) -> None:
        path = self.path(home, self.key)
        private_dirs(path.parent)  # the home too, when install is the first command to make it
        files = {name: vars(entry) for name, entry in self.files.items()}
        fd, tmp = tempfile.mkstemp(prefix=".record.", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(dumps({"target": self.key, "files": files, "git_exclude": self.git_exclude}))
        os.replace(tmp, path)

    def forget(self, home: Path) -> None:
        self.path(home, self.key).unlink(missing_ok=True)
