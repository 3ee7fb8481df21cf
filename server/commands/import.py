"""``switchboard import``: past Claude Code sessions from the transcripts already on disk."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HELP = "import past Claude Code sessions from their transcripts (~/.claude/projects)"

_PROGRESS_EVERY_S = 1.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--projects-dir",
        type=Path,
        metavar="DIR",
        help="where the transcripts are (default: $CLAUDE_CONFIG_DIR/projects, else ~/.claude/projects)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing unless something failed")


def run(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from server.settings import Settings
    from server.store.engine import open_store
    from server.store.importer import import_transcripts, projects_dir
    from server.store.ingest import describe_store_error
    from server.words import plural

    root = projects_dir(args.projects_dir)
    if not root.is_dir():
        if args.projects_dir is None and not root.exists():  # day one: Claude Code has not run here yet
            if not args.quiet:
                print(f"nothing to import yet: {root} does not exist (Claude Code writes it on its first session)")
            return 0
        print(f"switchboard import: {root} is not a folder; give --projects-dir DIR", file=sys.stderr)
        return 1
    last = [time.monotonic()]

    def progress(done: int, total: int) -> None:
        # At most once a second: a long import shows it is moving without flooding a log.
        if not args.quiet and (done == total or time.monotonic() - last[0] >= _PROGRESS_EVERY_S):
            last[0] = time.monotonic()
            print(f"  {done}/{total} transcripts", file=sys.stderr, flush=True)

    try:
        engine = open_store(Settings())
        report = import_transcripts(engine, root, progress)
    except SQLAlchemyError as exc:
        print(f"switchboard import: {describe_store_error(exc)}", file=sys.stderr)
        return 1
    for reason in report.skipped:
        print(f"switchboard import: skipped {reason}", file=sys.stderr)
    if not args.quiet:
        print(
            f"imported {plural(report.sessions, 'session')} from {root} ({report.new_sessions} new, "
            f"{plural(report.subagents, 'subagent transcript')}); running it again adds nothing",
            flush=True,
        )
    return 0
