"""Keep a local project install's ``.claude/settings.local.json`` out of ``git status``.

Git's own per-repository ignore file (``.git/info/exclude``) is never committed, so the machine-specific
file stays out of what a team commits without touching their ``.gitignore``. Uninstall takes the appended
text back out only if it is still at the end, exactly as written.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

__all__ = ["exclude", "unexclude"]

_GIT_TIMEOUT_S = 10


def _exclude_file(project: Path) -> tuple[Path, str] | None:
    git = shutil.which("git")
    if git is None:
        return None
    try:
        done = subprocess.run(
            [git, "-C", str(project), "rev-parse", "--git-path", "info/exclude", "--show-prefix"],
            capture_output=True,
            text=True,
            timeout=_GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = done.stdout.splitlines()
    if done.returncode != 0 or not lines:
        return None  # not a git repository
    prefix = lines[1] if len(lines) > 1 else ""
    return project / lines[0], prefix


def exclude(project: Path, relative: str) -> tuple[str, str] | None:
    """Append ``/<prefix><relative>`` to the repository's exclude file; returns (file, text added) or None."""
    found = _exclude_file(project)
    if found is None:
        return None
    path, prefix = found
    line = f"/{prefix}{relative}"
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        if line in text.splitlines():
            return None
        added = ("" if not text or text.endswith("\n") else "\n") + line + "\n"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(added)
    except OSError:
        return None  # a convenience: the install itself stands without it
    return str(path), added


def unexclude(path: str, added: str) -> None:
    """Take ``added`` back off the end of the exclude file, if it is still there."""
    try:
        text = Path(path).read_text(encoding="utf-8")
        if text.endswith(added):
            Path(path).write_text(text[: len(text) - len(added)], encoding="utf-8")
    except OSError:
        return
