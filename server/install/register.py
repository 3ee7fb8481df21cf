"""install and uninstall: plan the edits, undo the recorded ones, write every file or none, record."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from server.install.edits import InstallError, undo
from server.install.files import Loaded, commit, load
from server.install.gitexclude import exclude, unexclude
from server.install.jsonfile import JsonObject, loads
from server.install.plan import SERVER_NAME, Change, Target, changes, is_ours
from server.install.record import FileRecord, Record
from server.service.otel_settings import otlp_secret

__all__ = ["has_machine_hooks", "install", "remove_marked_hooks", "uninstall"]


def _state_home(home: Path | None) -> Path:
    if home is not None:
        return home
    from server.settings import Settings

    return Settings().home


_DROP = object()


def remove_marked_hooks(settings: JsonObject) -> None:
    """Take out every hook command ending with :data:`MARK` (installs that kept no record wrote those).

    An event's list, or ``hooks`` itself, goes only when this emptied it: an empty ``"Stop": []`` stays.
    """
    hooks = settings.get("hooks")
    if not isinstance(hooks, dict):
        return
    emptied = False
    for event in list(hooks):
        groups: Any = hooks[event]
        if isinstance(groups, list) and groups:
            hooks[event] = [kept for group in groups if (kept := _without_marked(group)) is not _DROP]
            if not hooks[event]:
                del hooks[event]
                emptied = True
    if emptied and not hooks:
        del settings["hooks"]


def _without_marked(group: Any) -> Any:
    """The group without marked handlers; :data:`_DROP` when only marked ones were in it."""
    if not isinstance(group, dict) or not isinstance(group.get("hooks"), list):
        return group
    handlers = [h for h in group["hooks"] if not (isinstance(h, dict) and is_ours(str(h.get("command"))))]
    if len(handlers) == len(group["hooks"]):
        return group
    return {**group, "hooks": handlers} if handlers else _DROP


def _undo_record(file: Loaded, entry: FileRecord) -> None:
    for edit in reversed(entry.edits):
        undo(file.data, edit)


def _load_all(paths: list[Path]) -> dict[str, Loaded]:
    return {str(path): load(path) for path in dict.fromkeys(paths)}


def install(
    target: Target,
    context_pressure: bool = False,
    home: Path | None = None,
    otel_port: int | None = None,
    statusline: bool = False,
    force: bool = False,
) -> list[Path]:
    """Register the hooks and the MCP server for ``target``; returns the files that changed.

    ``otel_port``: also make Claude Code export its telemetry to the switchboard service on this port, with the
    receiver's secret (made under ``home`` when missing) in ``OTEL_EXPORTER_OTLP_HEADERS``.
    ``statusline``: also set Claude Code's ``statusLine``; a status line of the user's own is replaced only with
    ``force`` (uninstall gives it back), else :class:`InstallError` says so and nothing is written.
    """
    home = _state_home(home)
    previous = Record.load(home, target.key) or Record(target.key)
    secret = otlp_secret(home) if otel_port is not None else ""
    planned: list[Change] = changes(target, context_pressure, otel_port, secret, statusline)
    files = _load_all([Path(p) for p in previous.files] + [c.file for c in planned])
    record = Record(target.key)
    for name, file in files.items():
        old = previous.files.get(name, FileRecord())
        _undo_record(file, old)
        if file.path == target.settings_file:
            remove_marked_hooks(file.data)  # left by an older install that kept no record
        record.files[name] = FileRecord(old.created_file or file.text is None, list(old.created_dirs), [], old.backup)
    # An install that already replaced their status line (with --force) was consent enough for this one.
    replaced = any(
        e.get("op") == "put" and e.get("path") == ["statusLine"] for f in previous.files.values() for e in f.edits
    )
    if statusline and not (force or replaced):
        _refuse_their_statusline(files[str(target.settings_file)])
    for change in planned:
        record.files[str(change.file)].edits.append(change.edit.apply(files[str(change.file)].data))
    for path, written in commit(list(files.values()), home / "backups").items():
        entry = record.files[str(path)]
        entry.created_dirs += [str(d) for d in written.made]
        entry.backup = entry.backup or (str(written.backup) if written.backup else None)
    record.files = {n: r for n, r in record.files.items() if r.edits}
    record.git_exclude = previous.git_exclude
    if target.scope == "project" and target.directory is not None and record.git_exclude is None:
        added = exclude(target.directory, target.settings_file.relative_to(target.directory).as_posix())
        record.git_exclude = list(added) if added else None
    record.save(home)
    return [file.path for file in files.values() if file.changed]


def _refuse_their_statusline(settings: Loaded) -> None:
    """Refuse to replace a ``statusLine`` install did not write (checked after undoing install's own)."""
    theirs = settings.data.get("statusLine")
    if theirs is None:
        return
    command = str(theirs.get("command", "")) if isinstance(theirs, dict) else ""
    if not is_ours(command):
        shown = command or json.dumps(theirs)
        raise InstallError(
            f"{settings.path} already has a statusLine of your own ({shown[:80]}); nothing was changed. "
            "Run again with --force to replace it (switchboard uninstall gives it back)"
        )


def _legacy(target: Target) -> Record:
    """What an install that kept no record added, as well as it can be told: marked hooks, our server."""
    record = Record(target.key)
    if target.scope in ("codex", "gemini"):  # hooks only: the marked ones come out below
        record.files[str(target.settings_file)] = FileRecord(created_file=False)
        return record
    # Files in the project that an older install wrote are deleted once empty, as that install did.
    project = target.scope != "user"
    record.files[str(target.settings_file)] = FileRecord(created_file=project)
    if target.scope == "shared":
        approved = {"op": "legacy-approve", "path": ["enabledMcpjsonServers"], "value": SERVER_NAME}
        record.files[str(target.settings_file)].edits.append(approved)
    server = {"op": "legacy-server", "path": [*target.mcp_path, SERVER_NAME]}
    in_project = target.scope == "shared"  # the local scope's server lives in ~/.claude.json: never deleted
    record.files.setdefault(str(target.mcp_file), FileRecord(created_file=in_project)).edits.append(server)
    return record


def has_machine_hooks(settings_file: Path) -> bool:
    """Whether marked hooks in ``settings_file`` run absolute paths (what project installs wrote before
    ``--shared``); portable ones (``switchboard capture``) may be a team's, installed elsewhere."""
    try:
        hooks = load(settings_file).data.get("hooks")
    except InstallError:
        return False
    commands = [
        str(handler.get("command"))
        for groups in (hooks.values() if isinstance(hooks, dict) else [])
        if isinstance(groups, list)
        for group in groups
        if isinstance(group, dict) and isinstance(group.get("hooks"), list)
        for handler in group["hooks"]
        if isinstance(handler, dict)
    ]
    return any(is_ours(command) and command.lstrip("'\"").startswith("/") for command in commands)


def uninstall(target: Target, home: Path | None = None, unrecorded: bool = True) -> list[Path]:
    """Remove what :func:`install` added for ``target``; returns the files that changed.

    Without a record of this install (an older switchboard wrote it, or another machine did), marked
    hooks and a ``switchboard`` server running ``serve`` are taken out, unless ``unrecorded`` is False.
    """
    home = _state_home(home)
    record = Record.load(home, target.key)
    if record is None:
        if not unrecorded:
            return []
        record = _legacy(target)
    files = _load_all([Path(p) for p in record.files])
    for name, file in files.items():
        entry = record.files[name]
        _undo_record(file, entry)
        if file.path == target.settings_file:
            remove_marked_hooks(file.data)
        if entry.created_file and not file.data:
            file.delete = True
        else:
            file.verbatim = _as_it_was(entry, file)
    commit(list(files.values()), home / "backups")
    for name, file in files.items():
        if file.delete:
            for directory in reversed(record.files[name].created_dirs):
                _remove_if_empty(Path(directory))
    if record.git_exclude:
        unexclude(*record.git_exclude)
    record.forget(home)
    return [file.path for file in files.values() if file.changed]


def _as_it_was(entry: FileRecord, file: Loaded) -> str | None:
    """The file's text before install, when taking install's part out gives back exactly its content."""
    if entry.backup is None:
        return None
    try:
        text = Path(entry.backup).read_text(encoding="utf-8")
        return text if loads(text) == file.data else None
    except (OSError, ValueError):
        return None


def _remove_if_empty(directory: Path) -> None:
    with contextlib.suppress(OSError):  # the user put something there: it stays
        directory.rmdir()
