"""Where switchboard keeps its state by default, without pydantic-settings (~80 ms to import).

:class:`server.settings.Settings` uses it for ``SWITCHBOARD_HOME``'s default; so does the import that finds
nothing new (:mod:`server.store.nothing_new`), which answers before loading settings.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

__all__ = ["STORE_FILE", "default_home"]

STORE_FILE = "switchboard.db"
"""The default SQLite store's name under the state directory."""


def default_home() -> Path:
    """The state directory: ``${CLAUDE_PLUGIN_DATA}`` when run as a Claude Code plugin, else the user data dir."""
    plugin_data = os.environ.get("CLAUDE_PLUGIN_DATA")
    if plugin_data:
        return Path(plugin_data)
    return Path(platformdirs.user_data_dir("switchboard", appauthor=False))
