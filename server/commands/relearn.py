"""``switchboard relearn``: rebuild learned routing's totals (``routing_stat``) from the recorded rows.

The totals are kept up to date as rows are written; this is for repair (rows edited or deleted by hand, a
store restored from a backup). It reads every ``delegation`` row once.
"""

from __future__ import annotations

import argparse
import sys

from server.settings import Settings

__all__ = ["HELP", "add_arguments", "run"]

HELP = "rebuild learned routing's per-(task type, model) totals from the recorded rows"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    del parser  # no options


def run(args: argparse.Namespace) -> int:
    """Rebuild; print how many (task type, model) pairs were written. Exit 1 when the store cannot be opened."""
    del args
    from sqlalchemy.exc import SQLAlchemyError

    from server.routing.learn_store import rebuild
    from server.store.database import open_store
    from server.store.ingest import describe_store_error

    try:
        engine = open_store(Settings())
        try:
            pairs = rebuild(engine)
        finally:
            engine.dispose()
    except SQLAlchemyError as exc:
        print(f"switchboard relearn: {describe_store_error(exc)}", file=sys.stderr)
        return 1
    print(f"learned routing rebuilt from the rows: {pairs} (task type, model) pairs")
    return 0
