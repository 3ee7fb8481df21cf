"""``switchboard import`` with nothing new, told with ``sqlite3`` alone.

A second import of an unchanged folder of 40 sessions has ~5 ms of its own work (a ``stat`` per transcript,
the stored read marks); loading SQLAlchemy, pydantic-settings, the models and the parsing worker took 0.47 s
around it, 24% of the first import. :func:`unchanged_import` checks the facts the import itself checks before it
skips a session (its row holds this transcript path; every transcript has a read mark naming this file, size and
mtime; every Codex and Gemini CLI log has the size and mtime it was read at) with nothing but the standard
library, and answers only when all of them hold. Any doubt leaves the answer to the import: another database than
the default SQLite file, a store missing or not at the newest schema, a store it cannot read, a session not
imported or changed, a file it cannot ``stat``.

The table and column names below are the models' (``server.store.models``); a test imports through both paths
and fails when this one stops answering.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from server.home import STORE_FILE, default_home
from server.store.agents.log import AgentReader
from server.store.schema_head import head_revision
from server.store.transcript_files import find_transcripts, transcript_paths, untextual

__all__ = ["Unchanged", "default_store_file", "holds_no_marks", "unchanged_import"]

_CHUNK = 500
"""Values per ``IN (...)``: under SQLite's lowest variable limit (999) on any build."""


@dataclass
class Unchanged:
    """What the import would have reported: every session and log already read, none changed."""

    sessions: int = 0
    agent_files: dict[str, tuple[Path, int]] = field(default_factory=dict[str, tuple[Path, int]])
    """Per agent CLI whose home is a folder: the folder and how many logs it holds (all unchanged)."""


def default_store_file() -> Path | None:
    """The SQLite file :class:`server.settings.Settings` opens, or None when ``SWITCHBOARD_DATABASE_URL`` names
    another database, or a SQLite URL with more in it than a path (options, ``file:`` or memory).

    pydantic-settings matches ``SWITCHBOARD_*`` names in any case; so does this.
    """
    env = {name.lower(): value for name, value in os.environ.items()}
    if url := env.get("switchboard_database_url"):
        return _sqlite_file(url)
    home = env.get("switchboard_home")
    if home == "":
        return None  # the settings read it as "." (the current folder): leave that to them
    return (Path(home) if home is not None else default_home()) / STORE_FILE


def _sqlite_file(url: str) -> Path | None:
    """The file of a plain ``sqlite:///<path>`` URL (SQLAlchemy's form for a file), else None."""
    for prefix in ("sqlite:///", "sqlite+pysqlite:///"):
        path = url.removeprefix(prefix)
        if path != url:
            plain = path and path != ":memory:" and not path.startswith("file:") and not set("?%") & set(path)
            return Path(path) if plain else None
    return None


def _chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _lookup(db: sqlite3.Connection, sql: str, keys: Sequence[str]) -> dict[str, tuple[object, ...]]:
    """Rows of ``sql`` (``... IN ({})`` on the first column) for ``keys``, by that first column."""
    found: dict[str, tuple[object, ...]] = {}
    for chunk in _chunks(keys):
        for row in db.execute(sql.format(", ".join("?" * len(chunk))), list(chunk)):
            found[row[0]] = tuple(row[1:])
    return found


def _same_file(path: str, mark: tuple[object, ...] | None) -> bool:
    if mark is None:
        return False
    try:
        info = os.stat(path)
    except OSError:
        return False
    return mark == (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


_ANY_MARK = "SELECT 1 FROM transcript_mark LIMIT 1"


def _read_only(store: Path) -> closing[sqlite3.Connection]:
    """The store opened read-only: nothing here writes, and a store another process is writing is read as of its
    last commit."""
    return closing(sqlite3.connect(f"file:{quote(str(store))}?mode=ro", uri=True, timeout=1.0))


def _sessions_unchanged(db: sqlite3.Connection, root: Path) -> int | None:
    if db.execute(_ANY_MARK).fetchone() is None and next(find_transcripts(root), None) is not None:
        return None  # nothing read yet, and a session to read: no walk of the whole folder (the import walks it)
    unnamed: list[str] = []
    found = list(find_transcripts(root, unnamed))
    if unnamed:
        return None  # the import says which
    rows = _lookup(
        db, "SELECT session_id, transcript_path FROM session WHERE session_id IN ({})", [t.session_id for t in found]
    )
    paths = [path for item in found for path in transcript_paths(item)]
    marks = _lookup(db, "SELECT path, device, inode, size, mtime_ns FROM transcript_mark WHERE path IN ({})", paths)
    for item in found:
        if rows.get(item.session_id) != (str(item.path),):
            return None
        if not all(_same_file(path, marks.get(path)) for path in transcript_paths(item)):
            return None
    return len(found)


def _logs_unchanged(db: sqlite3.Connection, reader: AgentReader, root: Path) -> int | None:
    logs = [str(path) for path in reader.find_logs(root)]
    if any(untextual(path) for path in logs):
        return None  # the import says which
    read = _lookup(db, "SELECT path, size, mtime_ns FROM agent_log WHERE path IN ({})", logs)
    for path in logs:
        try:
            info = os.stat(path)
        except OSError:
            return None
        if read.get(path) != (info.st_size, info.st_mtime_ns):
            return None
    return len(logs)


def unchanged_import(
    store: Path, projects: Path | None, agents: Iterable[tuple[AgentReader, Path]]
) -> Unchanged | None:
    """What an import of ``projects`` (None: no such folder) and of each agent's logs under its folder would
    report, when it would read nothing; None when it might read something, or when that is not certain."""
    if not store.is_file():
        return None
    head = head_revision()
    try:
        with _read_only(store) as db:
            if [row[0] for row in db.execute("SELECT version_num FROM alembic_version")] != [head] or head is None:
                return None
            answer = Unchanged()
            if projects is not None:
                sessions = _sessions_unchanged(db, projects)
                if sessions is None:
                    return None
                answer.sessions = sessions
            for reader, root in agents:
                files = _logs_unchanged(db, reader, root)
                if files is None:
                    return None
                answer.agent_files[reader.agent] = (root, files)
            return answer
    except (sqlite3.Error, OSError, UnicodeError):  # any doubt: the import decides, and says what it found
        return None


def holds_no_marks(store: Path) -> bool:
    """Whether the SQLite store at ``store`` certainly holds no transcript read marks (it is missing, or their
    table is empty): every transcript is then read from its start. Any doubt (a store it cannot read) is False."""
    if not store.exists():
        return True
    try:
        with _read_only(store) as db:
            return db.execute(_ANY_MARK).fetchone() is None
    except sqlite3.Error:
        return False
