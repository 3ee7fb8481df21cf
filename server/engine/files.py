"""Files a caller asks ``delegate`` to send along: only inside the project root, only up to a size cap."""

from __future__ import annotations

from pathlib import Path

__all__ = ["MAX_FILE_BYTES", "MAX_TOTAL_BYTES", "FileRefused", "attach_files"]

MAX_FILE_BYTES = 256_000
MAX_TOTAL_BYTES = 1_000_000


class FileRefused(ValueError):
    """A requested file cannot be sent; the message says which and why."""


def _resolve(path: str, roots: list[Path]) -> Path:
    candidate = Path(path).expanduser()
    if not candidate.is_absolute():
        candidate = roots[0] / candidate
    # resolve() follows symlinks, so a link pointing outside the root is caught too.
    resolved = candidate.resolve()
    if not any(resolved.is_relative_to(root.resolve()) for root in roots):
        shown = ", ".join(str(r) for r in roots)
        raise FileRefused(f"{path}: outside the project root ({shown}); only files inside it can be sent")
    if not resolved.is_file():
        raise FileRefused(f"{path}: no such file")
    return resolved


def attach_files(
    paths: list[str], roots: list[Path], *, max_file_bytes: int = MAX_FILE_BYTES, max_total_bytes: int = MAX_TOTAL_BYTES
) -> str:
    """The files' contents as fenced blocks to append to the task.

    Args:
        paths: Absolute, or relative to the first root.
        roots: Directories the caller may read from (the project root).
        max_file_bytes: Largest single file accepted.
        max_total_bytes: Largest total accepted.

    Raises:
        FileRefused: a path is outside every root, missing, too large, or not text.
    """
    blocks: list[str] = []
    total = 0
    for path in paths:
        resolved = _resolve(path, roots)
        size = resolved.stat().st_size
        if size > max_file_bytes:
            raise FileRefused(f"{path}: {size} bytes, over the {max_file_bytes}-byte cap per file")
        total += size
        if total > max_total_bytes:
            raise FileRefused(f"{path}: the files total over {max_total_bytes} bytes; send fewer")
        try:
            text = resolved.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise FileRefused(f"{path}: not UTF-8 text") from exc
        blocks.append(f"File: {path}\n```\n{text}\n```")
    return "\n\n".join(blocks)
