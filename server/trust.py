"""Which config file is in force, and whether it may be read at all: the trust rules, in one place.

A repository's ``.switchboard.toml`` can name a provider's ``base_url`` (where a key is sent), a ``cli`` command
and ``[solve.checks]`` (what runs as the user). So, as with ``direnv allow``, a project file is ignored until the
user runs ``switchboard trust``, which records its real path and the SHA-256 of its bytes in ``trusted.json`` in the
user config directory; an edited file is untrusted again. While one is ignored, the user's own ``config.toml``
serves. Whatever its origin, a config file that the user does not own, or that others may write (group- or
world-writable), is never read. The search for a project file goes up from the working directory and stops at the
repository root (a folder holding ``.git``) or ``$HOME``, whichever comes first.

``SWITCHBOARD_CONFIG`` is set in the user's own environment (their shell, or the MCP registration ``install``
wrote), so the file it names is read as the user's own config, with no ``switchboard trust``; the owner and mode
rule still applies, and a relative path is taken from the working directory.

Standard library only, and nothing of the package: the launcher (``hooks/launcher.py``, run ``python3 -I -S``)
loads this file by path to decide which key variables it hands to the service, so both read configs by the same
rules. The trust store is ``{"version": 1, "files": {"<real path>": "<sha256 hex>"}}``, mode 0600.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys

TYPE_CHECKING = False  # the launcher loads this file on every session start: no typing, no dataclasses
if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "MAX_CONFIG_BYTES",
    "PRESET_KEYS",
    "PROJECT_FILE",
    "TRUST_FILE",
    "USER_FILE",
    "ConfigMissing",
    "Resolution",
    "UnsafeFile",
    "digest",
    "find_project_file",
    "is_trusted",
    "key_variables",
    "read_safely",
    "resolve",
    "revoke",
    "trust",
    "trust_store_path",
    "trusted_files",
    "untrusted_notice",
    "user_config_dir",
]

PROJECT_FILE = ".switchboard.toml"
USER_FILE = "config.toml"
TRUST_FILE = "trusted.json"
MAX_CONFIG_BYTES = 1 << 20
"""A config file larger than this is refused (no config is near it)."""

PRESET_KEYS: dict[str, str | None] = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "groq": "GROQ_API_KEY",
    "cerebras": "CEREBRAS_API_KEY",
    "together": "TOGETHER_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "deepseek": "DEEPSEEK_API_KEY",
    "openrouter": "OPENROUTER_API_KEY",
    "perplexity": "PERPLEXITY_API_KEY",
    "ollama": None,
    "lmstudio": None,
    "gemini-cli": None,
    "codex": None,
}
"""Each preset's key variable (``server.catalog.presets`` is the source; a test pins this copy to it)."""


class UnsafeFile(OSError):
    """A config or trust file that must not be read: the message names the file and why, never its content."""


class ConfigMissing(FileNotFoundError):
    """``SWITCHBOARD_CONFIG`` names a file that does not exist."""


def user_config_dir(environ: Mapping[str, str] | None = None) -> str:
    """``platformdirs.user_config_dir("switchboard")``: ``$XDG_CONFIG_HOME/switchboard`` on Linux."""
    env = os.environ if environ is None else environ
    home = env.get("HOME") or os.path.expanduser("~")
    if sys.platform == "darwin":
        return os.path.join(home, "Library", "Application Support", "switchboard")
    if sys.platform == "win32":
        return os.path.join(env.get("LOCALAPPDATA") or os.path.join(home, "AppData", "Local"), "switchboard")
    base = (env.get("XDG_CONFIG_HOME") or "").strip() or os.path.join(home, ".config")
    return os.path.join(base, "switchboard")


def trust_store_path(environ: Mapping[str, str] | None = None) -> str:
    return os.path.join(user_config_dir(environ), TRUST_FILE)


def _unsafe(path: str, st: os.stat_result) -> str | None:
    if not stat.S_ISREG(st.st_mode):
        return f"{path} is not a regular file"
    if hasattr(os, "geteuid") and st.st_uid != os.geteuid():
        return f"{path} is owned by uid {st.st_uid}, not by you, so it is never read"
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"{path} is writable by others (mode {stat.S_IMODE(st.st_mode):o}), so it is never read: chmod go-w it"
    return None


def read_safely(path: str, limit: int = MAX_CONFIG_BYTES) -> bytes:
    """The bytes of ``path`` if the user owns it and nobody else may write it; checked on the open file.

    Raises:
        FileNotFoundError: it does not exist.
        UnsafeFile: another owner, group- or world-writable, not a regular file, or larger than ``limit``.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    fd = os.open(path, flags)  # non-blocking: a FIFO planted under the name must not hang the reader
    try:
        reason = _unsafe(path, os.fstat(fd))
        if reason is not None:
            raise UnsafeFile(reason)
        chunks: list[bytes] = []
        size = 0
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise UnsafeFile(f"{path} is larger than {limit} bytes, so it is never read")
        return b"".join(chunks)
    finally:
        os.close(fd)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def find_project_file(start: str, home: str | None = None) -> str | None:
    """The nearest ``.switchboard.toml`` from ``start`` up to the repository root or ``home``, whichever is first."""
    folder = os.path.realpath(start)
    stop = os.path.realpath(home or os.path.expanduser("~"))
    while True:
        candidate = os.path.join(folder, PROJECT_FILE)
        if os.path.lexists(candidate):
            return candidate
        parent = os.path.dirname(folder)
        if folder == stop or parent == folder or os.path.lexists(os.path.join(folder, ".git")):
            return None
        folder = parent


def trusted_files(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The trust store's ``{real path: sha256}``; empty when it is missing, unsafe or not the expected JSON."""
    try:
        data = json.loads(read_safely(trust_store_path(environ)))
    except (OSError, ValueError):
        return {}
    files = data.get("files") if isinstance(data, dict) and data.get("version") == 1 else None  # pyright: ignore[reportUnknownMemberType]
    if not isinstance(files, dict):
        return {}
    return {str(k): str(v) for k, v in files.items()}  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]


def _save(files: Mapping[str, str], environ: Mapping[str, str] | None) -> None:
    path = trust_store_path(environ)
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    temporary = f"{path}.{os.getpid()}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, json.dumps({"version": 1, "files": dict(sorted(files.items()))}, indent=2).encode() + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, path)


def is_trusted(path: str, data: bytes, environ: Mapping[str, str] | None = None) -> bool:
    """Whether ``data``, read from ``path``, is what the user trusted (same real path, same SHA-256)."""
    return trusted_files(environ).get(os.path.realpath(path)) == digest(data)


def trust(path: str, environ: Mapping[str, str] | None = None) -> str:
    """Record ``path``'s current content as trusted; returns its SHA-256.

    Raises:
        FileNotFoundError: it does not exist.
        UnsafeFile: it may not be read (see :func:`read_safely`); such a file cannot be trusted.
    """
    real = os.path.realpath(path)
    hashed = digest(read_safely(real))
    _save({**trusted_files(environ), real: hashed}, environ)
    return hashed


def revoke(path: str, environ: Mapping[str, str] | None = None) -> bool:
    """Forget ``path``; False when it was not trusted."""
    files = trusted_files(environ)
    if files.pop(os.path.realpath(path), None) is None and files.pop(path, None) is None:
        return False
    _save(files, environ)
    return True


def untrusted_notice(path: str, reason: str | None = None) -> str:
    """The one line that says a project config was found and ignored, and the command that trusts it."""
    if reason is not None:
        return f"switchboard: ignored the project config {path}: {reason.removeprefix(path).strip()}"
    folder = os.path.dirname(path)
    return (
        f"switchboard: found {path} but it is not trusted, so your own config serves; "
        f"if you wrote it or read it: switchboard trust {folder}"
    )


class Resolution:
    """The config file in force (``path`` and ``data``, None for none), where it came from, and what was ignored.

    ``origin``: ``env`` (SWITCHBOARD_CONFIG), ``project`` (trusted), ``user``, or None. ``ignored``: a project file
    found and not used (untrusted, changed since trusted, or unsafe); ``notice``: the one line to show about it.
    """

    __slots__ = ("data", "ignored", "notice", "origin", "path")

    def __init__(
        self,
        path: str | None,
        data: bytes | None,
        origin: str | None,
        ignored: str | None = None,
        notice: str | None = None,
    ) -> None:
        self.path, self.data, self.origin, self.ignored, self.notice = path, data, origin, ignored, notice

    def __repr__(self) -> str:
        return f"Resolution(path={self.path!r}, origin={self.origin!r}, ignored={self.ignored!r})"


def resolve(cwd: str, environ: Mapping[str, str] | None = None, config: str | None = None) -> Resolution:
    """The config in force for a session in ``cwd``: ``config`` (or ``SWITCHBOARD_CONFIG``), else a trusted
    project file, else the user's ``config.toml``.

    Raises:
        ConfigMissing: the file named by ``SWITCHBOARD_CONFIG`` does not exist.
        UnsafeFile: the file that would be in force (``SWITCHBOARD_CONFIG``'s or the user's) may not be read.
    """
    env = os.environ if environ is None else environ
    named = config if config is not None else env.get("SWITCHBOARD_CONFIG")
    if named:
        path = os.path.join(cwd, os.path.expanduser(named))
        try:
            return Resolution(path, read_safely(path), "env")
        except FileNotFoundError as exc:
            raise ConfigMissing(f"config file {path} does not exist: create it or unset SWITCHBOARD_CONFIG") from exc
    ignored = notice = None
    project = find_project_file(cwd, env.get("HOME"))
    if project is not None:
        try:
            data = read_safely(project)
        except UnsafeFile as exc:
            ignored, notice = project, untrusted_notice(project, str(exc))
        except OSError:
            ignored, notice = project, untrusted_notice(project, "it cannot be read")
        else:
            if is_trusted(project, data, env):
                return Resolution(project, data, "project")
            ignored, notice = project, untrusted_notice(project)
    user = os.path.join(user_config_dir(env), USER_FILE)
    try:
        return Resolution(user, read_safely(user), "user", ignored, notice)
    except FileNotFoundError:
        return Resolution(None, None, None, ignored, notice)


def key_variables(config: Mapping[str, object]) -> list[str]:
    """The variables the parsed config's enabled providers read keys from, presets included (as the registry
    does: ``api_key_env``, else the preset's, the preset being ``preset`` or the provider's name)."""
    names: set[str] = set()
    providers = config.get("providers")
    for name, section in providers.items() if isinstance(providers, dict) else ():  # pyright: ignore[reportUnknownVariableType]
        if not isinstance(section, dict) or section.get("enabled", True) is False:  # pyright: ignore[reportUnknownMemberType]
            continue
        preset = section.get("preset")  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
        if preset is not None and preset not in PRESET_KEYS:
            continue  # an unknown preset: the registry refuses the provider
        variable = section.get("api_key_env") or PRESET_KEYS.get(str(preset or name))  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
        if isinstance(variable, str) and variable:
            names.add(variable)
    return sorted(names)
