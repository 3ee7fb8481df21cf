"""The store's newest schema revision, read from the migration files' own lines without importing Alembic.

Alembic costs ~0.3 s to import (and SQLAlchemy ~0.15 s): a command that only needs to know whether a store is
up to date (every command that opens the store; an import with nothing new, which opens it with ``sqlite3``
alone) reads the ``revision`` and ``down_revision`` lines instead.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["MIGRATIONS", "head_revision"]

MIGRATIONS = Path(__file__).parent / "migrations"

_REVISION = re.compile(r'^(down_revision|revision)\s*(?::[^=]*)?=\s*(None|"[^"]*")\s*$', re.MULTILINE)


def head_revision() -> str | None:
    """The newest revision; None when that is not one clear head."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found = dict(_REVISION.findall(path.read_text(encoding="utf-8")))
        if "revision" not in found or "down_revision" not in found:
            continue
        revisions.add(found["revision"].strip('"'))
        parents.add(found["down_revision"].strip('"'))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None
