"""A secret kept in one file under the home, 0600, made once and read by every process that needs it.

The dashboard's page token and the OTLP receiver's secret live this way: the command that prints or installs one
and the service that checks it read the same file, so neither has to be told the other's value.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

from server.private import FILE_MODE, private_dirs

__all__ = ["TokenFileError", "token_file"]

_MAX_BYTES = 256


class TokenFileError(OSError):
    """The file exists but cannot be trusted as ours (another owner, readable by others, not a regular file)."""


def token_file(path: Path) -> str:
    """The token in ``path``; a new random one (URL-safe, 43 characters) written there first when it is missing.

    Two processes making it at once agree: the file appears whole (linked from a private temporary file) and the
    loser reads the winner's.

    Raises:
        TokenFileError: ``path`` is not a regular file of this user with mode 0600 or tighter.
    """
    private_dirs(path.parent)
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, FILE_MODE)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_urlsafe(32) + "\n")
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return _read(path)


def _read(path: Path) -> str:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o077:
            raise TokenFileError(f"{path} is not a private file of this user (mode 0600): remove it to make a new one")
        token = handle.read(_MAX_BYTES).decode("ascii", "replace").strip()
    if len(token) < 16 or not all(c.isalnum() or c in "-_" for c in token):
        raise TokenFileError(f"{path} does not hold a token: remove it to make a new one")
    return token
