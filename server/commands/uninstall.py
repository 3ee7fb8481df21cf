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

    if args.project:
        # Both project registrations unless --shared names one: uninstall --project leaves the project as found.
        targets = [Target.project(args.project, shared=True)]
        if not args.shared:
            targets.insert(0, Target.project(args.project))
    else:
        targets = [Target.user()]
    changed = []
    try:
        for target in targets:
            changed += uninstall(target)
    except InstallError as exc:
        print(f"switchboard uninstall: {exc}", file=sys.stderr)
        return 1
    for path in dict.fromkeys(changed):
        print(f"removed switchboard from {path}")
    if not changed:
        print("switchboard was not installed there; nothing changed")
    return 0
