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

    from server.store.agents import AgentReader
    from server.store.nothing_new import Unchanged
    from server.store.read_ahead import ReadAhead
    from server.store.transcript_files import TranscriptFile

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
    if (answer := _nothing_new(args)) is not None:
        _report_unchanged(answer, args)
        return 0
    from server.store.read_ahead import ReadAhead, worth_a_worker

    # The worker that parses transcripts starts first: it loads pricing while this process loads SQLAlchemy.
    with ReadAhead() if worth_a_worker() else nullcontext() as read_ahead:
        found = None
        if read_ahead is not None and _has_transcripts(args.projects_dir):
            read_ahead.start()
            found = _plan_first_batch(args, read_ahead)
        return _run(args, read_ahead, found)


Found = tuple[list["TranscriptFile"], list[str]]
"""The sessions found in the projects folder, and the paths left out as not UTF-8."""


def _plan_first_batch(args: argparse.Namespace, read_ahead: ReadAhead) -> Found | None:
    """On a first import (the default store holds no read marks), hand the worker the first batch's transcripts
    now, read from their start; returns what was found, for the import. None (the import plans as before) for any
    other store.

    The worker then parses while this process loads SQLAlchemy and opens the store (~0.17 s after the worker is
    ready); the import's own plan keeps those reads. 40 sessions, side by side, medians of 10 and of 6 rounds:
    1.42 -> 1.37 s and 1.48 -> 1.41 s; 10,000 sessions unchanged.
    """
    from server.store.nothing_new import default_store_file, holds_no_marks
    from server.store.read_ahead import START_WINDOW
    from server.store.transcript_files import IMPORT_BATCH, find_transcripts, first_reads
    from server.store.transcripts import TranscriptCache, projects_dir

    store = default_store_file()
    if store is None or not holds_no_marks(store):
        return None
    unnamed: list[str] = []
    found = list(find_transcripts(projects_dir(args.projects_dir), unnamed))
    read_ahead.plan(TranscriptCache(), first_reads(found[:IMPORT_BATCH]), ahead=START_WINDOW)
    return found, unnamed


def _agent_homes(args: argparse.Namespace) -> list[tuple[AgentReader, Path]]:
    """Each agent CLI whose logs are to be read, with its folder (those without one are left out)."""
    from server.store.agents import READERS

    explicit = {"codex": args.codex_home, "gemini": args.gemini_home}
    homes = [(reader, explicit.get(name) or reader.home()) for name, reader in READERS.items()]
    return [(reader, root) for reader, root in homes if root.is_dir()]


def _nothing_new(args: argparse.Namespace) -> Unchanged | None:
    """What the import would report when it would read nothing, told without loading SQLAlchemy
    (server/store/nothing_new.py: 0.6 -> 0.1 s for an unchanged folder of 40 sessions); None otherwise."""
    from server.store.nothing_new import default_store_file, unchanged_import
    from server.store.transcripts import projects_dir

    store = default_store_file()
    root = projects_dir(args.projects_dir)
    if store is None or (args.projects_dir is not None and not root.is_dir()):
        return None
    return unchanged_import(store, root if root.is_dir() else None, _agent_homes(args))


def _report_unchanged(answer: Unchanged, args: argparse.Namespace) -> None:
    """Print what :func:`_run` prints when it finds nothing new."""
    from server.store.transcripts import projects_dir

    root = projects_dir(args.projects_dir)
    if args.quiet:
        return
    if root.is_dir():
        if answer.sessions:
            _progress_line(answer.sessions, answer.sessions)
        _claude_code_summary(root, answer.sessions, 0, 0)
    else:
        _no_projects_yet(root)
    for name, (folder, files) in answer.agent_files.items():
        if files:
            _agent_summary(name, folder, 0, 0, files)


def _progress_line(done: int, total: int) -> None:
    print(f"  {done}/{total} transcripts", file=sys.stderr, flush=True)


def _claude_code_summary(root: Path, sessions: int, new: int, subagents: int) -> None:
    from server.words import plural

    print(
        f"imported {plural(sessions, 'session')} from {root} ({new} new, "
        f"{plural(subagents, 'subagent transcript')}); running it again adds nothing",
        flush=True,
    )


def _no_projects_yet(root: Path) -> None:  # day one: Claude Code has not run here yet
    print(f"nothing to import yet: {root} does not exist (Claude Code writes it on its first session)")


def _agent_summary(name: str, root: Path, sessions: int, new: int, unchanged: int) -> None:
    print(f"imported {sessions} {name} sessions from {root} ({new} new, {unchanged} files unchanged)")


def _has_transcripts(explicit: Path | None) -> bool:
    from server.store.transcripts import projects_dir

    return projects_dir(explicit).is_dir()


def _run(args: argparse.Namespace, read_ahead: ReadAhead | None, found: Found | None) -> int:
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
            _import_claude_code(engine, root, args.quiet, read_ahead, found)
        elif not args.quiet:
            _no_projects_yet(root)
        _import_other_agents(engine, args)
        # Closed here, not when the process ends: SQLite moves the import's log into the store file as its last
        # connection closes (~0.1 s for 40 sessions), and that belongs to the import.
        engine.dispose()
    except SQLAlchemyError as exc:
        print(f"switchboard import: {describe_store_error(exc)}", file=sys.stderr)
        return 1
    return 0


def _import_claude_code(
    engine: Engine, root: Path, quiet: bool, read_ahead: ReadAhead | None, found: Found | None
) -> None:
    from server.store.importer import import_transcripts

    last = [time.monotonic()]

    def progress(done: int, total: int) -> None:
        # At most once a second: a long import shows it is moving without flooding a log.
        if not quiet and (done == total or time.monotonic() - last[0] >= _PROGRESS_EVERY_S):
            last[0] = time.monotonic()
            _progress_line(done, total)

    if found is None:
        report = import_transcripts(engine, root, progress, read_ahead=read_ahead)
    else:
        report = import_transcripts(engine, root, progress, found[0], read_ahead, found[1])
    for reason in report.skipped:
        print(f"switchboard import: skipped {reason}", file=sys.stderr)
    if not quiet:
        _claude_code_summary(root, report.sessions, report.new_sessions, report.subagents)


def _import_other_agents(engine: Engine, args: argparse.Namespace) -> None:
    from server.config import load_config
    from server.store.agents.imports import import_agent_logs
    from server.team import identity

    who = identity(load_config().team)
    for reader, root in _agent_homes(args):
        name = reader.agent
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
            _agent_summary(name, root, report.sessions, report.new_sessions, report.unchanged)
