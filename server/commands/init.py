"""``switchboard init [--project DIR] [--force]``: write a commented config file to start from."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "write a commented config file to start from"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--project",
        metavar="DIR",
        type=Path,
        help="write DIR/.switchboard.toml (default: the user config, ~/.config/switchboard/config.toml)",
    )
    parser.add_argument("--force", action="store_true", help="replace a config file that is already there")


def run(args: argparse.Namespace) -> int:
    from server.config import PROJECT_FILE, user_config_file
    from server.config_template import config_template

    if args.project is not None and not args.project.is_dir():
        print(f"switchboard init: {args.project} is not a directory", file=sys.stderr)
        return 1
    path = args.project / PROJECT_FILE if args.project is not None else user_config_file()
    if path.exists() and not args.force:
        print(f"switchboard init: {path} already exists; nothing changed (--force replaces it)", file=sys.stderr)
        return 1
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(config_template(), encoding="utf-8")
    path.chmod(path.stat().st_mode & ~0o022)  # a config others may write is never read (server/trust.py)
    print(f"wrote {path}")
    print("Next: add a provider there (or enable the local one), then: switchboard install --user; switchboard doctor")
    if args.project is not None:
        print(f"A project config is used once trusted: after editing it, run: switchboard trust {args.project}")
    return 0
