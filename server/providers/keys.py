"""Find a provider's API key: the environment, a ``.env`` file (project, then user config dir), or a key file.

Keys are returned to the caller and nothing else: never logged, never stored. A key file (``api_key_file``, which
only the user's own or a trusted config can name: :mod:`server.trust`) must hold one line of token characters;
anything else is an error that names the file and never shows a byte of it (``/etc/shadow`` is not a key).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

import platformdirs

from server.providers.base import ErrorClass, MissingKeyError, ProviderError

__all__ = [
    "KEY_FILE_MAX_BYTES",
    "KeyFileError",
    "dotenv_files",
    "find_key",
    "read_dotenv",
    "read_key_file",
    "require_key",
]

KEY_FILE_MAX_BYTES = 4096
_TOKEN = re.compile(r"[A-Za-z0-9._~+/=-]+")
"""RFC 6750's b64token: what every provider's keys are made of, and all a bearer header may carry."""


class KeyFileError(MissingKeyError):
    """A key file that cannot be read or holds something else than one key; names the file, never its content."""

    def __init__(self, provider: str, path: Path, why: str) -> None:
        ProviderError.__init__(
            self,
            ErrorClass.AUTH,
            f"provider {provider!r}: api_key_file {path} {why}; it must hold the key alone on one line "
            f"(letters, digits and - . _ ~ + / =, at most {KEY_FILE_MAX_BYTES} bytes)",
        )
        self.variable = f"the key alone on one line in {path}"
        self.path = path


def read_key_file(provider: str, path: Path) -> str:
    """The key in ``path``: one line of token characters (a final newline allowed).

    Raises:
        KeyFileError: it cannot be read, is larger than :data:`KEY_FILE_MAX_BYTES`, is empty, or is not one line of
            token characters. The message names the file and why, never what it holds.
    """
    path = path.expanduser()
    try:
        with path.open("rb") as file:
            data = file.read(KEY_FILE_MAX_BYTES + 1)
    except OSError as exc:
        raise KeyFileError(provider, path, f"cannot be read ({type(exc).__name__})") from None
    if len(data) > KEY_FILE_MAX_BYTES:
        raise KeyFileError(provider, path, f"is larger than {KEY_FILE_MAX_BYTES} bytes")
    line = data.removesuffix(b"\n").removesuffix(b"\r")
    if not line:
        raise KeyFileError(provider, path, "is empty")
    try:
        key = line.decode("ascii")
    except UnicodeDecodeError:
        key = ""
    if _TOKEN.fullmatch(key) is None:
        raise KeyFileError(provider, path, "is not one line of token characters")
    return key


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
    provider: str = "(unnamed)",
) -> str | None:
    """The key for ``variable``, or None when no source has it.

    Raises:
        KeyFileError: ``key_file`` is consulted and is not one line of token characters.
    """
    env = os.environ if environ is None else environ
    if variable and env.get(variable):
        return env[variable]
    if variable:
        for path in dotenv_files(cwd):
            value = read_dotenv(path).get(variable)
            if value:
                return value
    if key_file is not None:
        return read_key_file(provider, key_file)
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
    key = find_key(variable, key_file, environ=environ, cwd=cwd, provider=provider)
    if key is None:
        raise MissingKeyError(provider, variable or f"{provider.upper().replace('-', '_')}_API_KEY")
    return key
