"""Register switchboard's hooks and MCP server with Claude Code, and take them out again.

``install`` merges into a Claude Code settings file: the user's other hooks and settings stay, the file
is backed up before it changes, and running it twice gives the same file. Commands are absolute paths,
so hooks run whatever ``PATH`` Claude Code has. Every hook command install writes ends with
:data:`MARK`; ``uninstall`` removes exactly those, the ``switchboard`` MCP server entry and its approval.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from server.service.otel_settings import add_otel_env, remove_otel_env
from server.store.hook_events import CAPTURE_EVENTS

__all__ = [
    "HOOK_TIMEOUT_S",
    "MARK",
    "SERVER_NAME",
    "InstallError",
    "Target",
    "hook_entries",
    "hooks_dir",
    "install",
    "is_ours",
    "switchboard_command",
    "uninstall",
]

MARK = "# switchboard"
"""Ends every hook command install writes: a shell comment, so it costs nothing when the hook runs."""

SERVER_NAME = "switchboard"
HOOK_TIMEOUT_S = 10
"""Seconds Claude Code waits for a capture hook; it takes ~5 ms, so this only bounds a wedged disk."""

Scope = Literal["project", "user"]
JsonObject = dict[str, Any]


class InstallError(RuntimeError):
    """A settings file cannot be merged into; the message names the file and what is wrong."""


@dataclass(frozen=True)
class Target:
    """Where one scope's registration lives."""

    scope: Scope
    settings_file: Path
    mcp_file: Path

    @classmethod
    def project(cls, directory: Path) -> Target:
        root = directory.resolve()
        return cls("project", root / ".claude" / "settings.json", root / ".mcp.json")

    @classmethod
    def user(cls, home: Path | None = None) -> Target:
        base = home or Path.home()
        return cls("user", base / ".claude" / "settings.json", base / ".claude.json")


def hooks_dir() -> Path:
    """The folder holding ``capture.sh``: ``server/_hooks`` in a wheel, the repo's ``hooks/`` when editable."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "_hooks", package.parent / "hooks"):
        if (candidate / "capture.sh").is_file():
            return candidate
    raise FileNotFoundError(f"capture.sh is in neither {package / '_hooks'} nor {package.parent / 'hooks'}")


def switchboard_command() -> list[str]:
    """An absolute command line that runs ``switchboard`` whatever ``PATH`` and working directory it gets."""
    argv0 = Path(sys.argv[0])
    if argv0.name == "switchboard" and argv0.is_file():
        return [str(argv0.resolve())]
    beside_python = Path(sys.executable).parent / "switchboard"
    if beside_python.is_file():
        return [str(beside_python)]
    # -P: a ``server`` folder in the hook's working directory must not shadow this package.
    return [sys.executable, "-P", "-m", "server"]


def _python3() -> str:
    found = shutil.which("python3")
    return str(Path(found).resolve()) if found else sys.executable


def is_ours(command: str) -> bool:
    """Whether a hook command was written by ``switchboard install`` (or the repo's dogfood settings)."""
    return command.rstrip().endswith(MARK)


def hook_entries(capture: str, ingest: list[str], context_pressure: list[str] | None = None) -> dict[str, Any]:
    """The ``hooks`` mapping: ``capture`` on every captured event, ingest started from ``SessionEnd``.

    ``capture`` and the argvs are already shell words (quoted as needed); hooks are synchronous because
    Claude Code kills async hooks still running when a headless session exits.
    """
    hooks: dict[str, Any] = {}
    for event in CAPTURE_EVENTS:
        command = " ".join([capture, *ingest]) if event == "SessionEnd" else capture
        handlers = [{"type": "command", "command": f"{command} {MARK}", "timeout": HOOK_TIMEOUT_S}]
        if event == "UserPromptSubmit" and context_pressure:
            handlers.append({"type": "command", "command": f"{' '.join(context_pressure)} {MARK}", "timeout": 5})
        hooks[event] = [{"hooks": handlers}]
    return hooks


def _installed_hooks(context_pressure: bool) -> dict[str, Any]:
    folder = hooks_dir()
    capture = shlex.quote(str(folder / "capture.sh"))
    ingest = [shlex.quote(word) for word in [*switchboard_command(), "ingest"]]
    pressure = None
    if context_pressure:
        pressure = [shlex.quote(word) for word in [_python3(), "-I", "-S", str(folder / "context_pressure.py")]]
    return hook_entries(capture, ingest, pressure)


def _remove_our_hooks(settings: JsonObject) -> None:
    hooks = settings.get("hooks")
    if not isinstance(hooks, dict):
        return
    for event in list(hooks):
        groups = hooks[event]
        if not isinstance(groups, list):
            continue
        kept: list[Any] = []
        for group in groups:
            if isinstance(group, dict) and isinstance(group.get("hooks"), list):
                handlers = [
                    h for h in group["hooks"] if not (isinstance(h, dict) and is_ours(str(h.get("command", ""))))
                ]
                if not handlers:
                    continue
                group = {**group, "hooks": handlers}
            kept.append(group)
        if kept:
            hooks[event] = kept
        else:
            del hooks[event]
    if not hooks:
        del settings["hooks"]


def _expect(value: Any, kind: type, where: str) -> Any:
    if not isinstance(value, kind):
        raise InstallError(f"{where} should be a JSON {kind.__name__}; fix it by hand, then run this again")
    return value


def _add_hooks(settings: JsonObject, ours: dict[str, Any]) -> None:
    hooks = _expect(settings.setdefault("hooks", {}), dict, '"hooks"')
    for event, groups in ours.items():
        _expect(hooks.setdefault(event, []), list, f'"hooks"."{event}"').extend(groups)


def _approve_server(settings: JsonObject) -> None:
    """Approve this one server from .mcp.json, so Claude Code starts it without asking; installing is
    consent, so an earlier rejection of it is lifted."""
    enabled = _expect(settings.setdefault("enabledMcpjsonServers", []), list, '"enabledMcpjsonServers"')
    if SERVER_NAME not in enabled:
        enabled.append(SERVER_NAME)
    disabled = settings.get("disabledMcpjsonServers")
    if isinstance(disabled, list) and SERVER_NAME in disabled:
        disabled.remove(SERVER_NAME)


def _server_entry() -> dict[str, Any]:
    # The launcher (standard library only, ~20 ms) relays to the warm service and falls back to `serve` itself.
    # The real interpreter, not the venv's: with -I -S it needs nothing but the standard library.
    launcher = [str(Path(sys.executable).resolve()), "-I", "-S", str(hooks_dir() / "launcher.py")]
    return {"type": "stdio", "command": launcher[0], "args": [*launcher[1:], *switchboard_command()], "env": {}}


def _read(path: Path) -> JsonObject:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InstallError(f"{path} is not valid JSON ({exc}); fix or move it, then run this again") from exc
    if not isinstance(data, dict):
        raise InstallError(f"{path} holds a JSON {type(data).__name__}, not an object; fix or move it")
    return data  # pyright: ignore[reportUnknownVariableType]


def _backup(path: Path) -> None:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    shutil.copy2(path, path.with_name(f"{path.name}.switchboard-backup-{stamp}"))


def _write(path: Path, data: JsonObject) -> None:
    """Back ``path`` up, then replace it atomically (Claude Code may read it at any moment)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = 0o600
    if path.exists():
        mode = path.stat().st_mode & 0o777
        _backup(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def _edit(path: Path, change: Callable[[JsonObject], None], drop_if_empty: bool = False) -> bool:
    """Apply ``change`` to the JSON object in ``path``; write (after a backup) only if it changed."""
    before = _read(path)
    after = json.loads(json.dumps(before))
    change(after)
    if after == before:
        return False
    if drop_if_empty and not after:
        # Install created this file; nothing of the user's is in it.
        _backup(path)
        path.unlink()
    else:
        _write(path, after)
    return True


def install(target: Target, context_pressure: bool = False, otel_port: int | None = None) -> list[Path]:
    """Register the hooks and the MCP server for ``target``; returns the files that changed.

    ``otel_port``: also make Claude Code export its telemetry to the service on this port (user scope).
    """
    ours = _installed_hooks(context_pressure)
    entry = _server_entry()

    def settings_change(settings: JsonObject) -> None:
        _remove_our_hooks(settings)
        _add_hooks(settings, ours)
        if otel_port is not None:
            add_otel_env(settings, otel_port)
        if target.scope == "project":
            _approve_server(settings)

    def mcp_change(config: JsonObject) -> None:
        _expect(config.setdefault("mcpServers", {}), dict, f'"mcpServers" in {target.mcp_file}')[SERVER_NAME] = entry

    changed = [p for p, c in ((target.settings_file, settings_change), (target.mcp_file, mcp_change)) if _edit(p, c)]
    return changed


def uninstall(target: Target) -> list[Path]:
    """Remove what :func:`install` added for ``target``; returns the files that changed."""

    def settings_change(settings: JsonObject) -> None:
        _remove_our_hooks(settings)
        remove_otel_env(settings)
        enabled = settings.get("enabledMcpjsonServers")
        if isinstance(enabled, list) and SERVER_NAME in enabled:
            enabled.remove(SERVER_NAME)
            if not enabled:
                del settings["enabledMcpjsonServers"]

    def mcp_change(config: JsonObject) -> None:
        servers = config.get("mcpServers")
        if isinstance(servers, dict) and SERVER_NAME in servers:
            del servers[SERVER_NAME]
            if not servers and target.scope == "project":
                del config["mcpServers"]

    changed: list[Path] = []
    for path, change in ((target.settings_file, settings_change), (target.mcp_file, mcp_change)):
        if path.exists() and _edit(path, change, drop_if_empty=target.scope == "project"):
            changed.append(path)
    return changed
