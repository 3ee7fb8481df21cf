"""Where this switchboard's hook scripts are, importable without the store (``switchboard capture`` runs per event)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["hooks_dir"]


def hooks_dir() -> Path:
    """The folder holding ``capture.sh``: ``server/_hooks`` in a wheel, the repo's ``hooks/`` when editable."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "_hooks", package.parent / "hooks"):
        if (candidate / "capture.sh").is_file():
            return candidate
    raise FileNotFoundError(f"capture.sh is in neither {package / '_hooks'} nor {package.parent / 'hooks'}")
