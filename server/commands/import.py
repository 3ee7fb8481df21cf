"""``switchboard import``: past agent sessions from the logs already on disk (Claude Code, Codex CLI, Gemini CLI)."""

from __future__ import annotations

import argparse
import sys
import time
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from server.store.read_ahead import ReadAhead

HELP = "import past sessions from Claude Code's transcripts and Codex / Gemini CLI's logs"

_PROGRESS_EVERY_S = 1.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--projects-dir",
        type=Path,
        metavar="DIR",
        help="where the transcripts are (default: $CLAUDE_CONFIG_DIR/projects, else ~/.claude/projects)",
    )
    parser.add_argument(
        "--codex-home", type=Path, metavar="DIR", help="Codex CLI's folder (default: $CODEX_HOME, else ~/.codex)"
    )
    parser.add_argument("--gemini-home", type=Path, metavar="DIR", help="Gemini CLI's folder (default: ~/.gemini)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing unless something failed")


def run(args: argparse.Namespace) -> int:
    from server.store.read_ahead import ReadAhead, worth_a_worker

    # The worker that parses transcripts starts first: it loads pricing while this process loads SQLAlchemy.
    with ReadAhead() if worth_a_worker() else nullcontext() as read_ahead:
        if read_ahead is not None and _has_transcripts(args.projects_dir):
            read_ahead.start()
        return _run(args, read_ahead)


def _has_transcripts(explicit: Path | None) -> bool:
    from server.store.transcripts import projects_dir

    return projects_dir(explicit).is_dir()


def _run(args: argparse.Namespace, read_ahead: ReadAhead | None) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from server.settings import Settings
    from server.store.database import open_store
    from server.store.importer import projects_dir
    from server.store.ingest import describe_store_error

    root = projects_dir(args.projects_dir)
    if args.projects_dir is not None and not root.is_dir():
        print(f"switchboard import: {root} is not a folder; give --projects-dir DIR", file=sys.stderr)
        return 1
    try:
        engine = open_store(Settings())
        if root.is_dir():
            _import_claude_code(engine, root, args.quiet, read_ahead)
        elif not args.quiet:  # day one: Claude Code has not run here yet
            print(f"nothing to import yet: {root} does not exist (Claude Code writes it on its first session)")
        _import_other_agents(engine, args)
    except SQLAlchemyError as exc:
        print(f"switchboard import: {describe_store_error(exc)}", file=sys.stderr)
        return 1
    return 0


def _import_claude_code(engine: Engine, root: Path, quiet: bool, read_ahead: ReadAhead | None) -> None:
    from server.store.importer import import_transcripts
    from server.words import plural

    last = [time.monotonic()]

    def progress(done: int, total: int) -> None:
        # At most once a second: a long import shows it is moving without flooding a log.
        if not quiet and (done == total or time.monotonic() - last[0] >= _PROGRESS_EVERY_S):
            last[0] = time.monotonic()
            print(f"  {done}/{total} transcripts", file=sys.stderr, flush=True)

    report = import_transcripts(engine, root, progress, read_ahead=read_ahead)
    for reason in report.skipped:
        print(f"switchboard import: skipped {reason}", file=sys.stderr)
    if not quiet:
        print(
            f"imported {plural(report.sessions, 'session')} from {root} ({report.new_sessions} new, "
            f"{plural(report.subagents, 'subagent transcript')}); running it again adds nothing",
            flush=True,
        )


def _import_other_agents(engine: Engine, args: argparse.Namespace) -> None:
    from server.config import load_config
    from server.store.agents import READERS, import_agent_logs
    from server.team import identity

    who = identity(load_config().team)
    explicit = {"codex": args.codex_home, "gemini": args.gemini_home}
    for name, reader in READERS.items():
        root = explicit.get(name) or reader.home()
        if not root.is_dir():
            continue
        report = import_agent_logs(engine, reader, root, who)
        for error in report.errors:
            print(f"switchboard import: skipped {error}", file=sys.stderr)
        if report.skipped_lines:
            print(
                f"switchboard import: {report.skipped_lines} lines of {name} logs not understood (skipped; "
                "`switchboard doctor` says why)",
                file=sys.stderr,
            )
        if not args.quiet and report.files:
            print(
                f"imported {report.sessions} {name} sessions from {root} ({report.new_sessions} new, "
                f"{report.unchanged} files unchanged)"
            )
