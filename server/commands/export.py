"""``switchboard export --table T [--since D] [--format csv|jsonl]``: one table of the store, to stdout."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

HELP = "write one table of the store as CSV or JSON lines"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--table", required=True, metavar="T", help="the table, e.g. session, delegation, api_request")
    parser.add_argument("--since", metavar="D", help="only rows from this date or time on (YYYY-MM-DD[THH:MM], UTC)")
    parser.add_argument("--format", choices=["csv", "jsonl"], default="csv", help="csv (default) or jsonl")


def parse_since(text: str) -> datetime:
    """``YYYY-MM-DD`` or an ISO 8601 time; naive times are UTC."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def run(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from server.settings import Settings
    from server.store.database import open_store
    from server.store.export import ExportError, export_rows
    from server.store.ingest import describe_store_error

    try:
        since = parse_since(args.since) if args.since else None
    except ValueError:
        print(f"switchboard export: --since {args.since!r} is not a date; give YYYY-MM-DD", file=sys.stderr)
        return 2
    engine = open_store(Settings())
    try:
        for piece in export_rows(engine, args.table, since, args.format):
            sys.stdout.write(piece)
    except ExportError as exc:
        print(f"switchboard export: {exc}", file=sys.stderr)
        return 2
    except SQLAlchemyError as exc:
        print(f"switchboard export: {describe_store_error(exc)}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `| head`: the reader has what it wanted
        return 0
    finally:
        engine.dispose()
    sys.stdout.flush()
    return 0
