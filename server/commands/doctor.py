"""``switchboard doctor``: say what is installed where, and what is wrong with a fix for each."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path

from server.json_output import dumps

HELP = "say what is installed where, and what is wrong with a fix for each"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", metavar="DIR", type=Path, help="the project to look at (default: here)")
    parser.add_argument("--json", action="store_true", help="print the checks as JSON")


def run(args: argparse.Namespace) -> int:
    from server.doctor import DoctorContext, run_checks

    ctx = DoctorContext()
    if args.project:
        ctx.project = args.project.resolve()
    checks = run_checks(ctx)
    failed = [c for c in checks if not c.ok]
    if args.json:
        print(dumps([asdict(c) for c in checks], indent=2))
        return 1 if failed else 0
    for check in checks:
        print(f"{'ok  ' if check.ok else 'FAIL'} {check.name}: {check.detail}")
        if check.fix:
            print(f"     {'hint' if check.ok else 'fix'}: {check.fix}")
    print(f"\n{len(failed)} problem{'s' if len(failed) != 1 else ''} found." if failed else "\nAll good.")
    return 1 if failed else 0
