"""Register switchboard's hooks and MCP server with Claude Code, and take them out again.

``install`` merges into Claude Code's settings files (the table of what goes where is in
:mod:`server.install.plan`): the user's other settings stay as they were, byte for byte where install
did not touch them; both files change together or not at all; running it twice gives the same files.
It records what it added under ``SWITCHBOARD_HOME/installs``; ``uninstall`` takes out exactly that (a
user's own ``switchboard`` entry, an empty ``"Stop": []``, stay), and deletes files and folders install
created once they are empty again.
"""

from __future__ import annotations

from server.install.edits import InstallError
from server.install.plan import (
    HOOK_TIMEOUT_S,
    MARK,
    SERVER_NAME,
    Target,
    hook_entries,
    hooks_dir,
    is_ours,
    switchboard_command,
)
from server.install.register import has_machine_hooks, install, remove_marked_hooks, uninstall

__all__ = [
    "HOOK_TIMEOUT_S",
    "MARK",
    "SERVER_NAME",
    "InstallError",
    "Target",
    "has_machine_hooks",
    "hook_entries",
    "hooks_dir",
    "install",
    "is_ours",
    "remove_marked_hooks",
    "switchboard_command",
    "uninstall",
]
