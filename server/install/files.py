"""Change several JSON files as one: either every file is written, or none is and the error says why.

Symlinks are followed (a dotfiles ``settings.json`` stays a link; its target is what changes); each file
is replaced atomically (Claude Code may read it at any moment) keeping its mode; the previous versions
are copied under ``SWITCHBOARD_HOME/backups`` first, never beside the file (a project's folder stays as
found).
"""

from __future__ import annotations

import contextlib
import copy
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from server.install.edits import InstallError
from server.install.jsonfile import JsonFormat, JsonObject, dumps, loads
from server.private import private_dirs

__all__ = ["Loaded", "Written", "commit", "load"]


@dataclass
class Loaded:
    """One JSON file as found, and what it should become."""

    path: Path
    real: Path
    text: str | None
    """None: the file does not exist."""
    fmt: JsonFormat
    original: JsonObject
    data: JsonObject = field(default_factory=JsonObject)
    delete: bool = False
    verbatim: str | None = None
    """Write this text instead of ``data`` (the file as it was before install, when ``data`` equals it)."""

    @property
    def changed(self) -> bool:
        if self.delete:
            return self.text is not None
        return self.data != self.original


def _why(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def load(path: Path) -> Loaded:
    """Read ``path`` (through symlinks); a missing file is an empty object."""
    real = Path(os.path.realpath(path))
    try:
        text = real.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Loaded(path, real, None, JsonFormat(), {}, {})
    except (OSError, UnicodeDecodeError) as exc:
        why = _why(exc) if isinstance(exc, OSError) else "not UTF-8"
        raise InstallError(f"cannot read {path} ({why}); nothing was changed") from exc
    try:
        parsed = loads(text) if text.strip() else {}
    except ValueError as exc:
        raise InstallError(f"{path} is not valid JSON ({exc}); fix or move it, then run this again") from exc
    if not isinstance(parsed, dict):
        raise InstallError(f"{path} holds a JSON {type(parsed).__name__}, not an object; fix or move it")
    return Loaded(path, real, text, JsonFormat.detect(text, parsed), parsed, copy.deepcopy(parsed))


def _make_dirs(folder: Path, made: list[Path]) -> None:
    missing: list[Path] = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for directory in reversed(missing):
        directory.mkdir(mode=0o700)
        made.append(directory)


def _stage(file: Loaded, made: list[Path]) -> Path:
    _make_dirs(file.real.parent, made)
    mode = file.real.stat().st_mode & 0o777 if file.text is not None else 0o600
    fd, tmp = tempfile.mkstemp(prefix=f".{file.real.name}.", dir=file.real.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(file.verbatim if file.verbatim is not None else dumps(file.data, file.fmt))
    os.chmod(tmp, mode)
    return Path(tmp)


def _backup(files: list[Loaded], backups: Path) -> dict[Path, Path]:
    folder = backups / datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    copies: dict[Path, Path] = {}
    for file in files:
        if file.text is not None:
            private_dirs(folder)
            copies[file.path] = folder / str(file.real).strip(os.sep).replace(os.sep, "__")
            shutil.copy2(file.real, copies[file.path])
            os.chmod(copies[file.path], 0o600)  # copy2 copies the mode too: a 0644 settings file stays private here
    return copies


def _undo_staging(staged: list[Path], made: list[Path]) -> None:
    for tmp in staged:
        tmp.unlink(missing_ok=True)
    for directory in reversed(made):
        with contextlib.suppress(OSError):
            directory.rmdir()


@dataclass(frozen=True)
class Written:
    """What writing one file took: the folders made for it, and where its previous version was copied."""

    made: list[Path]
    backup: Path | None


def commit(files: list[Loaded], backups: Path) -> dict[Path, Written]:
    """Write every changed file, or none; returns what writing each changed file took."""
    files = [f for f in files if f.changed]
    staged: dict[Path, Path] = {}
    made: dict[Path, list[Path]] = {}
    try:
        for file in files:
            if not file.delete:
                made[file.path] = []
                staged[file.path] = _stage(file, made[file.path])
        copies = _backup(files, backups)
    except OSError as exc:
        _undo_staging(list(staged.values()), [d for dirs in made.values() for d in dirs])
        where = getattr(exc, "filename", None) or "a file"
        raise InstallError(f"cannot write {where} ({_why(exc)}); neither file was changed") from exc
    done: list[Loaded] = []
    try:
        for file in files:
            if file.delete:
                file.real.unlink()
            else:
                os.replace(staged.pop(file.path), file.real)
            done.append(file)
    except OSError as exc:
        for file in done:  # put back what was written, so the files stay consistent with each other
            if file.text is None:
                file.real.unlink(missing_ok=True)
            else:
                file.real.write_text(file.text, encoding="utf-8")
        _undo_staging(list(staged.values()), [])
        raise InstallError(f"cannot replace {exc.filename} ({_why(exc)}); no file was changed") from exc
    return {file.path: Written(made.get(file.path, []), copies.get(file.path)) for file in files}
