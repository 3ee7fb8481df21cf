"""``switchboard trust [DIR] | --list | --revoke [DIR]``: let a project's ``.switchboard.toml`` be used (direnv-style).

A project config can send keys to the hosts it names and run the commands it names, so it is ignored until the
user trusts its exact content here; an edit makes it untrusted again (see :mod:`server.trust`).
"""

from __future__ import annotations

import argparse
import os
import sys
import tomllib
from pathlib import Path

from server import trust

HELP = "trust a project's .switchboard.toml (it may send keys and run commands): DIR, --list, --revoke"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", nargs="?", type=Path, default=None, help="the project (default: here)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--list", action="store_true", help="list the trusted files, and whether each changed since")
    group.add_argument("--revoke", action="store_true", help="forget the project's file (or DIR/.switchboard.toml)")


def _project_file(folder: Path) -> str | None:
    direct = folder / trust.PROJECT_FILE
    if direct.exists():
        return str(direct)
    return trust.find_project_file(str(folder), os.environ.get("HOME"))


def _what_it_does(data: bytes) -> list[str]:
    """The lines a user should read before trusting: where keys go, what runs."""
    try:
        config = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return ["  (not valid TOML: switchboard will refuse it until it is fixed)"]
    lines: list[str] = []
    providers = config.get("providers")
    for name, section in providers.items() if isinstance(providers, dict) else ():  # pyright: ignore[reportUnknownVariableType]
        if not isinstance(section, dict):
            continue
        if section.get("command"):  # pyright: ignore[reportUnknownMemberType]
            lines.append(f"  provider {name} runs: {section['command']}")
        if section.get("base_url"):  # pyright: ignore[reportUnknownMemberType]
            lines.append(f"  provider {name} sends its key to: {section['base_url']}")
        if section.get("api_key_file"):  # pyright: ignore[reportUnknownMemberType]
            lines.append(f"  provider {name} reads its key from: {section['api_key_file']}")
    solve = config.get("solve")
    checks = solve.get("checks") if isinstance(solve, dict) else None  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
    for name, command in checks.items() if isinstance(checks, dict) else ():  # pyright: ignore[reportUnknownVariableType]
        lines.append(f"  solve check {name} runs: {command}")
    return lines


def _list() -> int:
    files = trust.trusted_files()
    if not files:
        print("no trusted project config")
    for path, hashed in files.items():
        try:
            state = "trusted" if trust.digest(trust.read_safely(path)) == hashed else "changed since trusted: ignored"
        except FileNotFoundError:
            state = "missing"
        except OSError as exc:
            state = f"never read: {exc}"
        print(f"{path}  {state}")
    return 0


def run(args: argparse.Namespace) -> int:
    if args.list:
        return _list()
    folder = (args.dir or Path.cwd()).resolve()
    path = _project_file(folder)
    if args.revoke:
        target = path or str(folder / trust.PROJECT_FILE)
        if trust.revoke(target):
            print(f"no longer trusted: {os.path.realpath(target)}")
            return 0
        print(f"switchboard trust: {target} was not trusted", file=sys.stderr)
        return 1
    if path is None:
        print(f"switchboard trust: no {trust.PROJECT_FILE} in {folder} or its parents (up to the repository root)")
        return 1
    try:
        data = trust.read_safely(path)
        hashed = trust.trust(path)
    except OSError as exc:
        print(f"switchboard trust: {exc}", file=sys.stderr)
        return 1
    if hashed != trust.digest(data):  # edited between the two reads: what was shown is not what is trusted
        trust.revoke(path)
        print(f"switchboard trust: {path} changed while it was read; run it again", file=sys.stderr)
        return 1
    print(f"trusted {os.path.realpath(path)} (sha256 {hashed[:16]}…); an edit makes it untrusted again")
    for line in _what_it_does(data):
        print(line)
    return 0
