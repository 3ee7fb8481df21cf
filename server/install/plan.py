"""What install adds where: one table per scope, each row a file and an edit inside it.

| scope | hooks | MCP server |
|---|---|---|
| ``--user`` | ``~/.claude/settings.json`` | ``~/.claude.json`` ``mcpServers`` |
| ``--project DIR`` | ``DIR/.claude/settings.local.json`` | ``~/.claude.json`` ``projects[DIR].mcpServers`` |
| ``--project DIR --shared`` | ``DIR/.claude/settings.json`` (portable) | ``DIR/.mcp.json``, approved in settings.json |
| ``--codex`` | ``$CODEX_HOME/hooks.json`` (else ``~/.codex``) | (none) |
| ``--gemini`` | ``~/.gemini/settings.json`` ``hooks`` | (none) |

Local and user entries carry absolute paths (hooks run whatever ``PATH`` Claude Code has); shared entries
are portable (``switchboard`` on ``PATH``), since a team commits those files. Another registration (OTLP
environment, a launcher) is one more :class:`Change` in :func:`changes`.
"""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from server.hooks_path import hooks_dir
from server.install.edits import Append, Approve, Edit, Put
from server.service.otel_settings import otel_env
from server.store.hook_events import CAPTURE_EVENTS

__all__ = [
    "HOOK_TIMEOUT_S",
    "MARK",
    "SERVER_NAME",
    "Change",
    "Target",
    "changes",
    "hook_entries",
    "hooks_dir",
    "is_ours",
    "statusline_entry",
    "switchboard_command",
]

MARK = "# switchboard"
"""Ends every hook command install writes: a shell comment, so it costs nothing when the hook runs."""

SERVER_NAME = "switchboard"
HOOK_TIMEOUT_S = 10
"""Seconds Claude Code waits for a capture hook; it takes ~5 ms, so this only bounds a wedged disk."""

Scope = Literal["user", "project", "shared", "codex", "gemini"]

AGENT_HOOK_EVENTS: dict[str, tuple[str, ...]] = {
    # Codex CLI 0.171 (hooks on by default; it runs a hook the user has trusted in its /hooks screen).
    "codex": ("SessionStart", "UserPromptSubmit", "PreToolUse", "PostToolUse", "Stop", "SessionEnd"),
    # Gemini CLI 0.61. Left out: BeforeModel, AfterModel and BeforeToolSelection carry the whole request each
    # time; the chat file the other events name gives the tokens.
    "gemini": (
        "SessionStart",
        "BeforeAgent",
        "BeforeTool",
        "AfterTool",
        "AfterAgent",
        "PreCompress",
        "Notification",
        "SessionEnd",
    ),
}
"""The events ``install --codex`` / ``--gemini`` register the capture hook for; SessionEnd also starts ingest."""


@dataclass(frozen=True)
class Target:
    """Where one scope's registration lives."""

    scope: Scope
    settings_file: Path
    """Where the hooks go."""
    mcp_file: Path
    """Where the MCP server is registered."""
    mcp_path: tuple[str, ...]
    """The keys, inside ``mcp_file``, of the object holding the server entry."""
    directory: Path | None = None

    @classmethod
    def project(cls, directory: Path, home: Path | None = None, shared: bool = False) -> Target:
        root = directory.resolve()
        if shared:
            return cls("shared", root / ".claude" / "settings.json", root / ".mcp.json", ("mcpServers",), root)
        user = home or Path.home()
        local = ("projects", str(root), "mcpServers")
        return cls("project", root / ".claude" / "settings.local.json", user / ".claude.json", local, root)

    @classmethod
    def user(cls, home: Path | None = None) -> Target:
        base = home or Path.home()
        return cls("user", base / ".claude" / "settings.json", base / ".claude.json", ("mcpServers",))

    @classmethod
    def agent(cls, agent: Literal["codex", "gemini"], folder: Path) -> Target:
        """Another agent CLI's hooks file in its ``folder`` (``~/.codex``, ``~/.gemini``); no MCP entry."""
        settings = folder / ("hooks.json" if agent == "codex" else "settings.json")
        return cls(agent, settings, settings, (), folder)

    @property
    def key(self) -> str:
        """Names this registration in install's records."""
        return f"{self.scope}:{self.directory or self.settings_file.parent.parent}"


@dataclass(frozen=True)
class Change:
    """One edit to one file."""

    file: Path
    edit: Edit


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


def python3() -> str:
    """The interpreter for the standard-library scripts Claude Code runs often (status line, context pressure):
    this one, symlinks resolved, as for the launcher. Not ``which python3``: on a pyenv machine that is a bash
    shim, ~100 ms per run before Python starts (``python3 -I -S -c pass``: 124 ms through the shim, 23 ms direct)."""
    return str(Path(sys.executable).resolve())


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


def _hooks(portable: bool, context_pressure: bool) -> dict[str, Any]:
    if portable:
        # `switchboard capture` execs the capture.sh installed beside it: no path of this machine in the file.
        return hook_entries("switchboard capture", ["switchboard", "ingest"], None)
    folder = hooks_dir()
    capture = shlex.quote(str(folder / "capture.sh"))
    ingest = [shlex.quote(word) for word in [*switchboard_command(), "ingest"]]
    pressure = None
    if context_pressure:
        pressure = [shlex.quote(word) for word in [python3(), "-I", "-S", str(folder / "context_pressure.py")]]
    return hook_entries(capture, ingest, pressure)


def _server_entry(portable: bool) -> dict[str, Any]:
    if portable:
        return {"type": "stdio", "command": "switchboard", "args": ["serve"], "env": {}}
    # The launcher (standard library only, ~20 ms) relays to the warm service and falls back to `serve` itself.
    # The real interpreter, not the venv's: with -I -S it needs nothing but the standard library.
    launcher = [str(Path(sys.executable).resolve()), "-I", "-S", str(hooks_dir() / "launcher.py")]
    return {"type": "stdio", "command": launcher[0], "args": [*launcher[1:], *switchboard_command()], "env": {}}


def _agent_hooks(agent: str) -> dict[str, Any]:
    capture = f"{shlex.quote(str(hooks_dir() / 'capture.sh'))} --agent {agent}"
    ingest = " ".join(shlex.quote(word) for word in [*switchboard_command(), "ingest"])
    hooks: dict[str, Any] = {}
    for event in AGENT_HOOK_EVENTS[agent]:
        command = f"{capture} {ingest}" if event == "SessionEnd" else capture
        # Codex counts the timeout in seconds, Gemini CLI in milliseconds.
        timeout = HOOK_TIMEOUT_S if agent == "codex" else HOOK_TIMEOUT_S * 1000
        handler = {"type": "command", "command": f"{command} {MARK}", "timeout": timeout}
        # Codex reads the matcher as a regex ("" matches every tool); Gemini CLI takes "*".
        hooks[event] = [{"matcher": "" if agent == "codex" else "*", "hooks": [handler]}]
    return hooks


def statusline_entry(portable: bool) -> dict[str, Any]:
    """Claude Code's ``statusLine`` setting: hooks/statusline.py with the real interpreter (stdlib only)."""
    if portable:
        return {"type": "command", "command": f"switchboard statusline {MARK}", "padding": 0}
    words = [python3(), "-I", "-S", str(hooks_dir() / "statusline.py")]
    return {"type": "command", "command": f"{' '.join(shlex.quote(w) for w in words)} {MARK}", "padding": 0}


def changes(
    target: Target,
    context_pressure: bool = False,
    otel_port: int | None = None,
    otel_secret: str = "",
    statusline: bool = False,
) -> list[Change]:
    """Every edit install makes for ``target``, in order; ``otel_port``: also Claude Code's telemetry env;
    ``statusline``: also Claude Code's ``statusLine`` (the old one comes back on uninstall)."""
    if target.scope in AGENT_HOOK_EVENTS:
        return [
            Change(target.settings_file, Append(("hooks", event), tuple(groups)))
            for event, groups in _agent_hooks(target.scope).items()
        ]
    shared = target.scope == "shared"
    found = [
        Change(target.settings_file, Append(("hooks", event), tuple(groups)))
        for event, groups in _hooks(shared, context_pressure).items()
    ]
    found.append(Change(target.mcp_file, Put((*target.mcp_path, SERVER_NAME), _server_entry(shared))))
    if shared:
        # A server from .mcp.json runs only once approved; installing is consent, so a rejection is lifted.
        approve = Approve(("enabledMcpjsonServers",), ("disabledMcpjsonServers",), SERVER_NAME)
        found.append(Change(target.settings_file, approve))
    if otel_port is not None:
        found += [Change(target.settings_file, Put(("env", k), v)) for k, v in otel_env(otel_port, otel_secret).items()]
    if statusline:
        found.append(Change(target.settings_file, Put(("statusLine",), statusline_entry(shared))))
    return found
