"""Files a caller asks ``delegate`` to send along: only inside the project root, only up to a size cap.

The project root is the server's: its working directory over stdio (Claude Code starts the server in the
project), the ``--root`` list of ``serve --http``. The roots an MCP client declares may narrow it (a client
working in ``src/`` keeps ``files`` there) but never widen it: a client answering ``roots/list`` with
``file:///`` made delegate read ``/etc/passwd``, ``/proc/self/environ`` (with the provider keys in it) and
``~/.ssh/id_rsa`` and send them to a provider.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

__all__ = ["MAX_FILE_BYTES", "MAX_TOTAL_BYTES", "SYSTEM_DIRS", "FileRefused", "attach_files", "readable_roots"]

MAX_FILE_BYTES = 256_000
MAX_TOTAL_BYTES = 1_000_000
SYSTEM_DIRS = (Path("/proc"), Path("/sys"), Path("/dev"))
"""Never read, whatever the roots: their files report size 0 yet stream without end or hold the process's secrets."""


class FileRefused(ValueError):
    """A requested file cannot be sent; the message says which and why."""


def readable_roots(project: list[Path], client: list[Path] | None) -> list[Path]:
    """Where ``files`` may read: the project roots, narrowed to the client's roots when it declared some.

    A client root inside a project root narrows to it; one around a project root (``/``, the home folder)
    leaves that project root as it is; one elsewhere adds nothing.
    """
    mine = [root.resolve() for root in project]
    if client is None:
        return mine
    narrowed: list[Path] = []
    for theirs in (root.resolve() for root in client):
        for root in mine:
            if theirs.is_relative_to(root):
                narrowed.append(theirs)
            elif root.is_relative_to(theirs):
                narrowed.append(root)
    return list(dict.fromkeys(narrowed))


def _resolve(path: str, project: list[Path], roots: list[Path], refused: tuple[Path, ...]) -> Path:
    candidate = Path(path).expanduser()
    if not candidate.is_absolute():
        candidate = project[0] / candidate
    # resolve() follows symlinks, so a link pointing outside the root is caught too.
    resolved = candidate.resolve()
    for seen in (Path(os.path.abspath(candidate)), resolved):
        if any(seen.is_relative_to(system) for system in refused):
            raise FileRefused(f"{path}: {', '.join(map(str, refused))} are never sent")
    if not any(resolved.is_relative_to(root) for root in roots):
        shown = ", ".join(str(r) for r in roots) or "none"
        raise FileRefused(f"{path}: outside the project root ({shown}); only files inside it can be sent")
    return resolved


def _read_bounded(path: str, resolved: Path, limit: int) -> bytes:
    """At most ``limit`` + 1 bytes of a regular file: a file may report size 0 and still stream on and on."""
    try:
        # O_NOFOLLOW: a link swapped in after resolve() is refused; O_NONBLOCK: a FIFO cannot hang the open.
        fd = os.open(resolved, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError as exc:
        raise FileRefused(f"{path}: no such file") from exc
    except OSError as exc:
        reason = "a symlink" if exc.errno == errno.ELOOP else exc.strerror or type(exc).__name__
        raise FileRefused(f"{path}: cannot be read ({reason})") from exc
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise FileRefused(f"{path}: not a regular file")
    with os.fdopen(fd, "rb") as file:
        return file.read(limit + 1)


def attach_files(
    paths: list[str],
    project: list[Path],
    client_roots: list[Path] | None = None,
    *,
    max_file_bytes: int = MAX_FILE_BYTES,
    max_total_bytes: int = MAX_TOTAL_BYTES,
    refused_dirs: tuple[Path, ...] = SYSTEM_DIRS,
) -> str:
    """The files' contents as fenced blocks to append to the task.

    Args:
        paths: Absolute, or relative to the first project root.
        project: The project roots (see the module's docstring); empty: no file may be sent.
        client_roots: The roots the MCP client declared, if any; they narrow ``project``.
        max_file_bytes: Largest single file accepted.
        max_total_bytes: Largest total accepted.
        refused_dirs: Never read from these, whatever the roots.

    Raises:
        FileRefused: no project root, or a path is outside the roots, in /proc, /sys or /dev, missing, not a
            regular file, too large, or not text.
    """
    if not project:
        raise FileRefused("no project root is configured here: start `switchboard serve --http` with --root DIR")
    roots = readable_roots(project, client_roots)
    blocks: list[str] = []
    total = 0
    for path in paths:
        data = _read_bounded(path, _resolve(path, project, roots, refused_dirs), max_file_bytes)
        if len(data) > max_file_bytes:
            raise FileRefused(f"{path}: over the {max_file_bytes}-byte cap per file")
        total += len(data)
        if total > max_total_bytes:
            raise FileRefused(f"{path}: the files total over {max_total_bytes} bytes; send fewer")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FileRefused(f"{path}: not UTF-8 text") from exc
        blocks.append(f"File: {path}\n```\n{text}\n```")
    return "\n\n".join(blocks)
