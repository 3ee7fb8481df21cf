"""``switchboard uninstall``: remove exactly what ``switchboard install`` added."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from server.commands.install import add_scope_arguments, agent_target

HELP = "remove exactly what install added"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_scope_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from server.install import InstallError, Target, has_machine_hooks, uninstall

    agent = agent_target(args)
    if agent is not None:
        targets = [(agent, True)]
    elif args.project:
        shared = Target.project(args.project, shared=True)
        # Shared entries this machine did not install may be the team's: --project alone takes them out only
        # when they are an older install's (absolute paths); --shared takes them out regardless.
        targets = [(shared, args.shared or has_machine_hooks(shared.settings_file))]
        if not args.shared:
            targets.insert(0, (Target.project(args.project), True))
    else:
        targets = [(Target.user(), True)]
    changed: list[Path] = []
    try:
        for target, unrecorded in targets:
            changed += uninstall(target, unrecorded=unrecorded)
    except InstallError as exc:
        print(f"switchboard uninstall: {exc}", file=sys.stderr)
        return 1
    for path in dict.fromkeys(changed):
        print(f"removed switchboard from {path}")
    if not changed:
        print("switchboard was not installed there; nothing changed")
    return 0
