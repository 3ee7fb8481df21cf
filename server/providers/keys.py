"""Find a provider's API key: the environment, a ``.env`` file (project, then user config dir), or a key file.

Keys are returned to the caller and nothing else: never logged, never stored.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import platformdirs

from server.providers.base import MissingKeyError

__all__ = ["dotenv_files", "find_key", "read_dotenv", "require_key"]


def dotenv_files(cwd: Path | None = None) -> list[Path]:
    """The ``.env`` files consulted, in order: the project's (working directory), then the user config dir's."""
    project = (cwd or Path.cwd()) / ".env"
    user = Path(platformdirs.user_config_dir("switchboard", appauthor=False)) / ".env"
    return [project, user]


def read_dotenv(path: Path) -> dict[str, str]:
    """The ``NAME=value`` pairs of a ``.env`` file, parsed by python-dotenv (``FOO=abc # note`` gives ``abc``);
    a missing or unreadable file is empty. Blocking: async callers run it in a worker thread."""
    from dotenv import dotenv_values  # only when a key is looked up, never at server start

    try:
        if not path.is_file() and not path.is_fifo():
            return {}
        values = dotenv_values(path, encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    return {name: value for name, value in values.items() if value is not None}


def find_key(
    variable: str | None,
    key_file: Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> str | None:
    """The key for ``variable``, or None when no source has it."""
    env = os.environ if environ is None else environ
    if variable and env.get(variable):
        return env[variable]
    if variable:
        for path in dotenv_files(cwd):
            value = read_dotenv(path).get(variable)
            if value:
                return value
    if key_file is not None:
        try:
            value = key_file.expanduser().read_text(encoding="utf-8").strip()
        except OSError:
            return None
        return value or None
    return None


def require_key(
    provider: str,
    variable: str | None,
    key_file: Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> str:
    """Like :func:`find_key`, but a missing key raises :class:`MissingKeyError` naming the variable."""
    key = find_key(variable, key_file, environ=environ, cwd=cwd)
    if key is None:
        raise MissingKeyError(provider, variable or f"{provider.upper().replace('-', '_')}_API_KEY")
    return key
