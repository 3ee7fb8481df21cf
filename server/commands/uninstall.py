"""``switchboard uninstall``: remove exactly what ``switchboard install`` added."""

from __future__ import annotations

import argparse
import sys

from server.commands.install import add_scope_arguments

HELP = "remove exactly what install added"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_scope_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from server.install import InstallError, Target, uninstall

    target = Target.project(args.project) if args.project else Target.user()
    try:
        changed = uninstall(target)
    except InstallError as exc:
        print(f"switchboard uninstall: {exc}", file=sys.stderr)
        return 1
    for path in changed:
        print(f"removed switchboard from {path}")
    if not changed:
        print(f"switchboard was not installed in {target.settings_file} or {target.mcp_file}; nothing changed")
    return 0
