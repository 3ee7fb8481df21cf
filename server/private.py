"""Everything switchboard keeps is private to the user: folders 0700, files 0600, whichever command makes them.

The store holds every prompt, tool input and command output of every session. Folders and files are created
with these modes explicitly rather than by changing the process umask, which is process-wide and would race
with the threads of the MCP server and the dashboard (and change files created outside the store).
SQLite creates ``-wal``, ``-shm`` and ``-journal`` with the mode of the database file, so creating the
database file 0600 first makes them private too.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["DIR_MODE", "FILE_MODE", "private_dirs", "private_file", "tighten"]

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dirs(path: Path) -> Path:
    """Create ``path`` and any missing parents, each 0700; an existing folder is left as it is."""
    missing: list[Path] = []
    current = path
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:  # another process made it meanwhile
            continue
        tighten(folder)  # mkdir's mode is masked by the umask: a 0o7xx umask leaves it even tighter, never looser
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty with mode 0600 if it is missing; an existing file readable by others is tightened."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, FILE_MODE)
    except FileExistsError:
        tighten(path)
    else:
        os.close(fd)
    return path


def tighten(path: Path) -> None:
    """Take group and other permissions off ``path`` (a regular file or folder we own); others are left alone."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return
    if info.st_uid != os.geteuid() or not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
        return
    if info.st_mode & 0o077:
        os.chmod(path, stat.S_IMODE(info.st_mode) & 0o700)
