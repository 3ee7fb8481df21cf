"""``switchboard ingest``: move captured hook events from the spool into the store, once.

Also started detached by the SessionEnd hook, with no terminal: everything it says goes to
``$SWITCHBOARD_HOME/logs/ingest.log`` as well.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Generator
from contextlib import contextmanager
from pathlib import Path

from server.private import private_dirs, private_file, tighten
from server.settings import Settings

__all__ = ["HELP", "add_arguments", "run"]

HELP = "move captured hook events from the spool into the store"

logger = logging.getLogger("server.commands.ingest")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing unless something failed")
    parser.add_argument(
        "--wait", type=float, default=30.0, metavar="SECONDS", help="how long to wait for a running ingest"
    )


@contextmanager
def _log_to_file(log_dir: Path) -> Generator[None]:
    """Send the ``server`` loggers' INFO and above to ``ingest.log`` for the duration, then restore them."""
    ours = logging.getLogger("server")
    saved = (ours.level, ours.propagate)
    try:
        tighten(private_dirs(log_dir))  # logs/ was 0755 before this version
        handler = logging.FileHandler(private_file(log_dir / "ingest.log"), encoding="utf-8")
    except OSError as exc:
        print(f"switchboard ingest: cannot write the log in {log_dir}: {exc}", file=sys.stderr)
        yield
        return
    handler.setFormatter(logging.Formatter("%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"))
    ours.addHandler(handler)
    ours.setLevel(min(logging.INFO, ours.getEffectiveLevel()))
    ours.propagate = False  # stderr gets the one-line messages printed below, not the log's copy
    try:
        yield
    finally:
        ours.removeHandler(handler)
        handler.close()
        ours.level, ours.propagate = saved


def run(args: argparse.Namespace) -> int:
    """Ingest once; print a one-line summary. Exit 1 when the store could not be written."""
    settings = Settings()
    with _log_to_file(settings.log_dir):
        try:
            return _ingest(settings, args)
        except Exception:  # the top of a process that may run detached: record, never crash silently
            logger.exception("ingest failed")
            print(f"switchboard ingest: failed; see {settings.log_dir / 'ingest.log'}", file=sys.stderr)
            return 1


def _ingest(settings: Settings, args: argparse.Namespace) -> int:
    # Imported here: `switchboard --help` should not pay for the store.
    from sqlalchemy.exc import SQLAlchemyError

    from server.store.background import ingest_once
    from server.store.database import open_store
    from server.store.ingest import describe_store_error

    try:
        engine = open_store(settings)
    except SQLAlchemyError as exc:
        message = f"{describe_store_error(exc)}; events stay in the spool"
        logger.error(message)
        print(f"switchboard ingest: {message}", file=sys.stderr)
        return 1
    try:
        report = ingest_once(settings, engine, lock_timeout_s=args.wait)
    finally:
        engine.dispose()
    if report.error:
        logger.warning(report.summary())
        print(report.summary(), file=sys.stderr)
        return 1
    logger.info(report.summary())
    if not args.quiet:
        print(report.summary())
    return 0
